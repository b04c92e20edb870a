import { expect } from 'chai';
import { registerTestSite, type TestSite } from '../helpers/fixtures.ts';
import { startCardManager, type TestServer } from '../helpers/server.ts';
import { approveFor, basicAuth, cardWithLimit } from '../ledger/fixtures.ts';

/**
 * GET /api/approvals/:no reads the member site and its approval in one query (db/member-sites.ts
 * findMemberSiteWithApproval); every check of the site still runs, on every request.
 */
describe('GET /api/approvals/:no (site and approval in one query)', () => {
  let ts: TestServer;
  let site: TestSite;
  let approvalNo: string;

  const check = (authorization: string, no = approvalNo) => fetch(`${ts.url}/api/approvals/${no}`, { headers: { authorization } });

  before(async () => {
    ts = await startCardManager();
    site = await registerTestSite(ts);
    approvalNo = (await approveFor(ts, await cardWithLimit(ts, 10_000), site, 1000, 'Film')).approvalNo;
  });
  after(() => ts.stop());

  it('refuses an unknown client id with 401, whatever the approval number', async () => {
    const res = await check(basicAuth({ ...site, clientId: 'no-such-site' }));
    expect(res.status).to.equal(401);
    expect(res.headers.get('www-authenticate')).to.match(/Basic/);
  });

  it('answers a known site 404 for a well-formed number that does not exist', async () => {
    const res = await check(basicAuth(site), '0000-0000');
    expect(res.status).to.equal(404);
    expect(res.headers.get('cache-control')).to.equal('no-store');
  });

  it('sees a suspension on the very next check, then a closure as 401 [no cache across requests]', async () => {
    expect(((await (await check(basicAuth(site))).json()) as { status: string }).status).to.equal('approved');
    await ts.db('member_sites').where({ client_id: site.clientId }).update({ status: 'suspended' });
    expect(((await (await check(basicAuth(site))).json()) as { status: string }).status).to.equal('suspended');
    await ts.db('member_sites').where({ client_id: site.clientId }).update({ status: 'closed' });
    expect((await check(basicAuth(site))).status).to.equal(401);
  });
});
