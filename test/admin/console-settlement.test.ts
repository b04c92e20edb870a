import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { capture } from '../../src/approvals/capture.ts';
import { inTransaction } from '../../src/db/tx.ts';
import { todayIn } from '../../src/ledger/calendar.ts';
import { feeFor } from '../../src/ledger/settlement.ts';
import { formatMoney } from '../../src/lib/money.ts';
import { ForwardedAgent, csrfOf, location } from '../helpers/agent.ts';
import { uniqueIp } from '../helpers/applicant.ts';
import { registerTestSite, type TestSite } from '../helpers/fixtures.ts';
import { alertText, inputValue, unescapeHtml } from '../helpers/html.ts';
import { signedInOperator } from '../helpers/operator.ts';
import type { TestServer } from '../helpers/server.ts';
import { approveFor, cardWithLimit, operator, startLedgerServer, unbalancedEntries } from '../ledger/fixtures.ts';
import { seedBillableAccounts, seedRefund } from '../ledger/seed.ts';

/** The text of an element with this id, or undefined. */
function textOf(html: string, id: string): string | undefined {
  const m = new RegExp(`id="${id}"[^>]*>([^<]*)<`).exec(html);
  return m ? unescapeHtml(m[1]!).trim() : undefined;
}

/** The month before or after `month` (YYYY-MM), counted on a calendar of its own (not the code's). */
function monthAfter(month: string, by: number): string {
  const d = new Date(`${month}-15T00:00:00Z`);
  d.setUTCMonth(d.getUTCMonth() + by);
  return d.toISOString().slice(0, 7);
}

const KRW = (n: number) => formatMoney(n, 'KRW');

/** The settlement page on a database of its own: last month is seeded and closed here, as test/ledger/settlement.test.ts does. */
describe('operator console: settlement /admin/settlement', () => {
  const alice = randomBytes(32).toString('base64url');
  let ts: TestServer;
  let agent: ForwardedAgent;
  let site: TestSite;
  let thisMonth: string;
  let lastMonth: string;
  let seededTotal = 0;
  const seededRefund = 600;
  const seededChargeback = 700;

  before(async () => {
    ts = await startLedgerServer({}, { env: { OPERATOR_TOKENS: `alice:${alice}` } });
    site = await registerTestSite(ts, { name: 'Music <Live> & "More"' } as never);
    // This month, still going: one payment of 5,000 captured through the domain.
    const card = await cardWithLimit(ts, 1_000_000);
    const a = await approveFor(ts, card, site, 5_000);
    await inTransaction(ts.db, (trx) => capture(trx, { approvalNo: a.approvalNo, actor: 'test' }));
    thisMonth = todayIn(ts.config.billing.timeZone).slice(0, 7);
    lastMonth = monthAfter(thisMonth, -1);
    // Last month, over: three payments captured mid-month, one refunded by the site, one on a report the operator upheld.
    const mid = new Date(`${lastMonth}-15T03:00:00Z`);
    const { expected } = await seedBillableAccounts(ts.db, { count: 3, clientId: site.clientId, statementDay: 1, openedAt: new Date(mid.getTime() - 86400_000), chargedAt: mid });
    seededTotal = [...expected.values()].reduce((x, y) => x + y, 0);
    const [first, second] = (await ts.db('approvals').where({ client_id: site.clientId }).where('approval_no', 'like', 'S%').orderBy('approval_no').select('id')) as Array<{ id: string }>;
    const later = new Date(mid.getTime() + 3600_000);
    await seedRefund(ts.db, { approvalId: first!.id, amount: seededRefund, at: later });
    await seedRefund(ts.db, { approvalId: second!.id, amount: seededChargeback, at: later, dispute: true });
    agent = await signedInOperator(ts.url, alice);
  });
  after(() => ts?.stop());

  const settled = async () => Number((await ts.db('settlements').count({ n: '*' }).first())?.n);
  const auditCount = async () => Number((await ts.db('audit_log').count({ n: '*' }).first())?.n);
  const books = async () => ({ settlements: await settled(), entries: Number((await ts.db('journal_entries').count({ n: '*' }).first())?.n), audit: await auditCount() });
  const id = () => site.clientId;
  /** The operator API as alice (OPERATOR_TOKENS refuses the generated shared token). */
  const asAlice = { authorization: `Bearer ${alice}` };

  it('shows the last ended month by default: per site captured, refunds, chargebacks, net, fee, payout, and the totals, uncached', async () => {
    const res = await agent.get('/admin/settlement');
    expect(res.status).to.equal(200);
    expect(res.headers.get('cache-control')).to.equal('no-store');
    const html = await res.text();
    expect(textOf(html, 'heading')).to.equal(`Settlement for ${lastMonth}`);
    expect(inputValue(html, 'month')).to.equal(lastMonth);
    const net = seededTotal - seededRefund - seededChargeback;
    const fee = feeFor(net, 250);
    expect(textOf(html, `name-${id()}`)).to.equal('Music <Live> & "More"');
    expect(html).not.to.include('Music <Live>');
    expect(textOf(html, `captured-${id()}`)).to.equal(KRW(seededTotal));
    expect(textOf(html, `refunds-${id()}`)).to.equal(KRW(seededRefund));
    expect(textOf(html, `refund-count-${id()}`)).to.equal('1');
    expect(textOf(html, `chargebacks-${id()}`)).to.equal(KRW(seededChargeback));
    expect(textOf(html, `chargeback-count-${id()}`)).to.equal('1');
    // Nothing carried forward from an earlier month here (test/ledger/late-settlement.test.ts has a late entry).
    expect(textOf(html, `late-net-${id()}`)).to.equal(KRW(0));
    expect(textOf(html, `late-count-${id()}`)).to.equal('0');
    expect(textOf(html, `net-${id()}`)).to.equal(KRW(net));
    expect(textOf(html, `fee-${id()}`)).to.equal(KRW(fee));
    expect(textOf(html, `payout-${id()}`)).to.equal(KRW(net - fee));
    expect(textOf(html, `closed-${id()}`)).to.equal('no');
    expect(textOf(html, 'total-captured')).to.equal(KRW(seededTotal));
    expect(textOf(html, 'total-payout')).to.equal(KRW(net - fee));
    expect(textOf(html, 'complete')).to.match(/^The month is over/);
    // The report is the API's, the same figures.
    const api = await operator(ts, 'GET', `/admin/api/ledger/settlements?month=${lastMonth}`, undefined, asAlice);
    expect((api.json.totals as Record<string, number>).payout).to.equal(net - fee);
    expect(html).to.include(`href="/admin/settlement?month=${monthAfter(lastMonth, -1)}"`);
    expect(html).to.include(`href="/admin/settlement?month=${thisMonth}"`);
    expect(html).to.include(`href="/admin/settlement/csv?month=${lastMonth}"`);
    expect(html).to.include('action="/admin/settlement/close"');
  });

  it('shows a month still going as not over, with no close form', async () => {
    const res = await agent.get(`/admin/settlement?month=${thisMonth}`);
    expect(res.status).to.equal(200);
    const html = await res.text();
    expect(textOf(html, `captured-${id()}`)).to.equal(KRW(5_000));
    expect(textOf(html, 'complete')).to.match(/^The month has not ended yet/);
    expect(html).not.to.include('action="/admin/settlement/close"');
    // Nothing to see past the month going on.
    expect(html).not.to.include(`href="/admin/settlement?month=${monthAfter(thisMonth, 1)}"`);
  });

  it('links the months either side, across a year, and none before the first month there can be', async () => {
    const january = await (await agent.get('/admin/settlement?month=2025-01')).text();
    expect(textOf(january, 'no-lines')).to.match(/^No member site /);
    expect(january).to.include('href="/admin/settlement?month=2024-12"').and.include('href="/admin/settlement?month=2025-02"');
    const december = await (await agent.get('/admin/settlement?month=2024-12')).text();
    expect(december).to.include('href="/admin/settlement?month=2024-11"').and.include('href="/admin/settlement?month=2025-01"');
    const first = await (await agent.get('/admin/settlement?month=2000-01')).text();
    expect(first).not.to.include('href="/admin/settlement?month=1999-12"');
    expect(first).to.include('href="/admin/settlement?month=2000-02"');
    // A month with nothing in it has nothing to close.
    expect(january).not.to.include('action="/admin/settlement/close"');
  });

  it("downloads the month's CSV as the API's, as an attachment, uncached", async () => {
    const res = await agent.get(`/admin/settlement/csv?month=${lastMonth}`);
    expect(res.status).to.equal(200);
    expect(res.headers.get('content-type')).to.match(/^text\/csv; charset=utf-8/);
    expect(res.headers.get('content-disposition')).to.equal(`attachment; filename="settlement-${lastMonth}.csv"`);
    expect(res.headers.get('cache-control')).to.equal('no-store');
    expect(await res.text()).to.equal((await operator(ts, 'GET', `/admin/api/ledger/settlements?month=${lastMonth}&format=csv`, undefined, asAlice)).text);
    const bad = await agent.get('/admin/settlement/csv?month=2026-13');
    expect(bad.status).to.equal(400);
    expect(bad.headers.get('content-type')).to.match(/^text\/html/);
  });

  it('refuses a bad month with 400, the message and the month refilled', async () => {
    for (const month of ['2026-13', '2026-00', 'November', '26-11', '2026-11-01', '1999-12', '<b>']) {
      const res = await agent.get(`/admin/settlement?month=${encodeURIComponent(month)}`);
      expect(res.status, month).to.equal(400);
      expect(res.headers.get('cache-control')).to.equal('no-store');
      const html = await res.text();
      expect(alertText(html), month).to.equal('A month written YYYY-MM, e.g. 2026-11.');
      expect(inputValue(html, 'month'), month).to.equal(month);
      expect(html).not.to.include('action="/admin/settlement/close"');
    }
    expect((await agent.get(`/admin/settlement?month=${lastMonth}&month=${thisMonth}`)).status).to.equal(400);
  });

  it('refuses to close without the tick, with a forged token, another form’s token, or a month not ended: nothing posted', async () => {
    const page = await (await agent.get(`/admin/settlement?month=${lastMonth}`)).text();
    const token = csrfOf(page, '/admin/settlement/close');
    const another = await signedInOperator(ts.url, alice);
    const before = await books();

    const unticked = await agent.post('/admin/settlement/close', { csrf: token, month: lastMonth });
    expect(unticked.status).to.equal(400);
    const refused = await unticked.text();
    expect(textOf(refused, 'confirm-error')).to.equal('Tick this to post the month’s settlements to the ledger.');
    expect(textOf(refused, `captured-${id()}`)).to.equal(KRW(seededTotal));
    expect((await agent.post('/admin/settlement/close', { csrf: token, month: lastMonth, confirm: 'yes' })).status).to.equal(400);

    for (const csrf of [undefined, 'forged', csrfOf(page, '/admin/signout')]) {
      const res = await agent.post('/admin/settlement/close', { ...(csrf !== undefined ? { csrf } : {}), month: lastMonth, confirm: 'on' });
      expect(res.status, String(csrf)).to.equal(403);
      expect(res.headers.get('cache-control')).to.equal('no-store');
    }
    // The close form's token is no good on the books page's check either.
    expect((await agent.post('/admin/books/check', { csrf: token })).status).to.equal(403);
    expect((await another.post('/admin/settlement/close', { csrf: token, month: lastMonth, confirm: 'on' })).status).to.equal(403);
    // The right token, but the browser says another site's page sent it.
    const crossSite = await agent.request('/admin/settlement/close', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'sec-fetch-site': 'cross-site' },
      body: new URLSearchParams({ csrf: token, month: lastMonth, confirm: 'on' }).toString(),
    });
    expect(crossSite.status).to.equal(403);

    const early = await agent.post('/admin/settlement/close', { csrf: token, month: thisMonth, confirm: 'on' });
    expect(early.status).to.equal(400);
    const earlyHtml = await early.text();
    expect(alertText(earlyHtml)).to.equal(`The month ${thisMonth} has not ended yet: it can be reported but not closed.`);
    expect(earlyHtml).not.to.include('action="/admin/settlement/close"');

    const bad = await agent.post('/admin/settlement/close', { csrf: token, month: '2026-13', confirm: 'on' });
    expect(bad.status).to.equal(400);
    const badHtml = await bad.text();
    expect(alertText(badHtml)).to.equal('A month written YYYY-MM, e.g. 2026-11.');
    expect(inputValue(badHtml, 'month')).to.equal('2026-13');
    expect((await agent.post('/admin/settlement/close', { csrf: token, month: 'bell\u0007', confirm: 'on' })).status).to.equal(400);

    expect(await books()).to.deep.equal(before);
  });

  it('closes a finished month once, audited as the operator; closing it again says it was closed already', async () => {
    const page = await (await agent.get(`/admin/settlement?month=${lastMonth}`)).text();
    const token = csrfOf(page, '/admin/settlement/close');
    const res = await agent.post('/admin/settlement/close', { csrf: token, month: lastMonth, confirm: 'on' });
    expect(res.status).to.equal(200);
    expect(res.headers.get('cache-control')).to.equal('no-store');
    const html = await res.text();
    expect(textOf(html, 'notice')).to.equal(`Closed ${lastMonth}: 1 member site’s settlement posted to the ledger now, 0 closed already.`);
    expect(textOf(html, `closed-${id()}`)).to.equal('yes');
    expect(html).not.to.include('action="/admin/settlement/close"');
    expect(await settled()).to.equal(1);
    expect(await unbalancedEntries(ts)).to.equal(0);
    const audit = await ts.db('audit_log').where({ action: 'settlement.closed', subject_id: id() });
    expect(audit.map((e) => `${e.actor} ${e.details.month}`)).to.deep.equal([`operator:alice ${lastMonth}`]);

    // The same form posted again (a second tab, a double click).
    const before = await books();
    const again = await agent.post('/admin/settlement/close', { csrf: token, month: lastMonth, confirm: 'on' });
    expect(again.status).to.equal(200);
    expect(textOf(await again.text(), 'notice')).to.equal(`Closed ${lastMonth}: 0 member sites’ settlements posted to the ledger now, 1 closed already.`);
    expect(await books()).to.deep.equal(before);
    const shown = await (await agent.get(`/admin/settlement?month=${lastMonth}`)).text();
    expect(textOf(shown, `closed-${id()}`)).to.equal('yes');
  });

  it('sends a browser without a session to the sign-in page, closing nothing', async () => {
    const stranger = new ForwardedAgent(ts.url, uniqueIp());
    const before = await books();
    for (const res of [
      await stranger.get('/admin/settlement'),
      await stranger.get(`/admin/settlement/csv?month=${lastMonth}`),
      await stranger.post('/admin/settlement/close', { csrf: 'x', month: lastMonth, confirm: 'on' }),
    ]) {
      expect(res.status).to.equal(303);
      expect(location(res, ts.url).pathname).to.equal('/admin/signin');
    }
    expect(await books()).to.deep.equal(before);
  });

  it('is linked from every console page, marked where the operator is', async () => {
    for (const path of ['/admin/applications', '/admin/sites', '/admin/books', '/admin/settlement', `/admin/settlement?month=${thisMonth}`]) {
      const html = await (await agent.get(path)).text();
      const nav = /<nav class="console-nav"[\s\S]*?<\/nav>/.exec(html)?.[0];
      expect(nav, path).to.include('<a href="/admin/settlement"').and.include('<a href="/admin/books"');
      const current = [...nav!.matchAll(/<a href="([^"]+)" aria-current/g)].map((m) => m[1]);
      expect(current, path).to.deep.equal(path.startsWith('/admin/settlement') ? ['/admin/settlement'] : [path]);
    }
  });
});
