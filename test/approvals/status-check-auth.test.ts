import { expect } from 'chai';
import { approve } from '../../src/approvals/approve.ts';
import { issueTestCard, registerTestSite, type TestSite } from '../helpers/fixtures.ts';
import { startCardManager, type TestServer } from '../helpers/server.ts';

/**
 * GET /api/approvals/:no reads the member site and its approval in one query (db/member-sites.ts
 * findMemberSiteWithApproval); every check of the site still runs, on every request.
 */
describe('GET /api/approvals/:no (site and approval in one query)', () => {
  let ts: TestServer;
  let site: TestSite;
  let approvalNo: string;

  const basic = (s: TestSite, secret = s.clientSecret) =>
    `Basic ${Buffer.from(`${encodeURIComponent(s.clientId)}:${encodeURIComponent(secret)}`).toString('base64')}`;
  const check = (authorization: string, no = approvalNo) => fetch(`${ts.url}/api/approvals/${no}`, { headers: { authorization } });

  before(async () => {
    ts = await startCardManager();
    site = await registerTestSite(ts);
    const card = await issueTestCard(ts);
    await ts.db('accounts').where({ id: card.accountId }).update({ credit_limit: 10_000 });
    const a = await approve(
      { db: ts.db, policy: { currency: 'KRW', holdSeconds: 3600 } },
      { accountId: card.accountId, cardId: card.cardId, clientId: site.clientId, amount: 1000, currency: 'KRW', description: 'Film', contentRef: null, rating: 0 },
    );
    approvalNo = a.approvalNo;
  });
  after(() => ts.stop());

  it('refuses an unknown client id with 401, whatever the approval number', async () => {
    const res = await check(basic({ ...site, clientId: 'no-such-site' }));
    expect(res.status).to.equal(401);
    expect(res.headers.get('www-authenticate')).to.match(/Basic/);
  });

  it('answers a known site 404 for a well-formed number that does not exist', async () => {
    const res = await check(basic(site), '0000-0000');
    expect(res.status).to.equal(404);
    expect(res.headers.get('cache-control')).to.equal('no-store');
  });

  it('sees a suspension on the very next check, then a closure as 401 [no cache across requests]', async () => {
    expect(((await (await check(basic(site))).json()) as { status: string }).status).to.equal('approved');
    await ts.db('member_sites').where({ client_id: site.clientId }).update({ status: 'suspended' });
    expect(((await (await check(basic(site))).json()) as { status: string }).status).to.equal('suspended');
    await ts.db('member_sites').where({ client_id: site.clientId }).update({ status: 'closed' });
    expect((await check(basic(site))).status).to.equal(401);
  });
});
