import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { capture } from '../../src/approvals/capture.ts';
import { inTransaction } from '../../src/db/tx.ts';
import { ForwardedAgent, csrfOf, location } from '../helpers/agent.ts';
import { uniqueIp } from '../helpers/applicant.ts';
import { registerTestSite, type TestCard } from '../helpers/fixtures.ts';
import { unescapeHtml } from '../helpers/html.ts';
import { signedInOperator } from '../helpers/operator.ts';
import type { TestServer } from '../helpers/server.ts';
import { approveFor, cardWithLimit, startLedgerServer } from '../ledger/fixtures.ts';

/** The text of an element with this id, or undefined. */
function textOf(html: string, id: string): string | undefined {
  const m = new RegExp(`id="${id}"[^>]*>([^<]*)<`).exec(html);
  return m ? unescapeHtml(m[1]!).trim() : undefined;
}

/** The findings table's rows as "check subject figures" lines. */
function findingsOf(html: string): string[] {
  return [...html.matchAll(/<tr class="finding">([\s\S]*?)<\/tr>/g)].map((m) =>
    unescapeHtml(m[1]!.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ').trim()),
  );
}

/** The books page on a database of its own: a row is tampered with here, as in test/ledger/check.test.ts. */
describe('operator console: the books /admin/books', () => {
  const alice = randomBytes(32).toString('base64url');
  let ts: TestServer;
  let agent: ForwardedAgent;
  let card: TestCard;

  before(async () => {
    ts = await startLedgerServer({}, { env: { OPERATOR_TOKENS: `alice:${alice}` } });
    const site = await registerTestSite(ts);
    card = await cardWithLimit(ts, 1_000_000);
    await approveFor(ts, card, site, 4_000, 'still held');
    const a = await approveFor(ts, card, site, 10_000, 'captured');
    await inTransaction(ts.db, (trx) => capture(trx, { approvalNo: a.approvalNo, actor: 'test' }));
    agent = await signedInOperator(ts.url, alice);
  });
  after(() => ts?.stop());

  /** The page's check button, pressed. */
  async function runCheck(): Promise<Response> {
    const page = await (await agent.get('/admin/books')).text();
    return agent.post('/admin/books/check', { csrf: csrfOf(page, '/admin/books/check') });
  }

  it('offers the check as a button (a form, not a link), running nothing until it is pressed', async () => {
    const res = await agent.get('/admin/books');
    expect(res.status).to.equal(200);
    expect(res.headers.get('cache-control')).to.equal('no-store');
    const html = await res.text();
    expect(html).to.match(/<form method="post" action="\/admin\/books\/check"/);
    expect(textOf(html, 'verdict')).to.equal(undefined);
  });

  it('says the books add up on books kept by the domain, over what it read', async () => {
    const res = await runCheck();
    expect(res.status).to.equal(200);
    expect(res.headers.get('cache-control')).to.equal('no-store');
    const html = await res.text();
    expect(textOf(html, 'verdict')).to.equal('The books add up.');
    expect(textOf(html, 'scope-approvals')).to.equal('2');
    expect(Number(textOf(html, 'scope-entries'))).to.be.at.least(3);
    expect(textOf(html, 'scope-settlements')).to.equal('0');
    expect(findingsOf(html)).to.deep.equal([]);
    // The button is there again, for another run.
    expect(html).to.include('action="/admin/books/check"');
  });

  it('shows a finding, its count and its figures, when a row was changed behind the ledger’s back', async () => {
    const bump = (n: number) => ts.db('accounts').where({ id: card.accountId }).increment('posted_balance', n);
    const balance = Number((await ts.db('accounts').where({ id: card.accountId }).first()).posted_balance);
    await bump(7);
    let html: string;
    try {
      const res = await runCheck();
      expect(res.status).to.equal(200);
      html = await res.text();
    } finally {
      await bump(-7);
    }
    expect(textOf(html, 'verdict')).to.equal('The books do NOT add up.');
    expect(textOf(html, 'count-account_posted_balance')).to.equal('1');
    expect(findingsOf(html)).to.deep.equal([`account_posted_balance ${card.accountId} posted_balance: ${balance + 7} ledger_receivable: ${balance}`]);
    expect(textOf(await (await runCheck()).text(), 'verdict')).to.equal('The books add up.');
  });

  it("refuses the check without this page's token: none, forged, another form's, another session's", async () => {
    const books = await (await agent.get('/admin/books')).text();
    for (const csrf of [undefined, 'forged', csrfOf(books, '/admin/signout')]) {
      const res = await agent.post('/admin/books/check', csrf === undefined ? {} : { csrf });
      expect(res.status, String(csrf)).to.equal(403);
      expect(res.headers.get('cache-control')).to.equal('no-store');
    }
    // The books page's token on the settlement's close form.
    const month = new Date(Date.now() - 40 * 86_400_000).toISOString().slice(0, 7);
    expect((await agent.post('/admin/settlement/close', { csrf: csrfOf(books, '/admin/books/check'), month, confirm: 'on' })).status).to.equal(403);
    const another = await signedInOperator(ts.url, alice);
    expect((await another.post('/admin/books/check', { csrf: csrfOf(books, '/admin/books/check') })).status).to.equal(403);
    expect(await ts.db('settlements').count({ n: '*' }).first()).to.deep.equal({ n: 0 });
  });

  it('sends a browser without a session to the sign-in page', async () => {
    const stranger = new ForwardedAgent(ts.url, uniqueIp());
    for (const res of [await stranger.get('/admin/books'), await stranger.post('/admin/books/check', { csrf: 'x' })]) {
      expect(res.status).to.equal(303);
      expect(location(res, ts.url).pathname).to.equal('/admin/signin');
    }
  });
});
