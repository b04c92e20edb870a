import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { todayIn } from '../../src/ledger/calendar.ts';
import { checkLedger } from '../../src/ledger/check-ledger.ts';
import { csrfOf, type ForwardedAgent } from '../helpers/agent.ts';
import { registerTestSite, type TestSite } from '../helpers/fixtures.ts';
import { signedInHolder } from '../helpers/holder.ts';
import { signedInOperator } from '../helpers/operator.ts';
import type { TestServer } from '../helpers/server.ts';
import { cardWithLimit, operator, startLedgerServer } from '../ledger/fixtures.ts';
import { seedBillableAccounts } from '../ledger/seed.ts';

/** The month `by` months from `month` (YYYY-MM). */
function monthAfter(month: string, by: number): string {
  const d = new Date(`${month}-15T00:00:00Z`);
  d.setUTCMonth(d.getUTCMonth() + by);
  return d.toISOString().slice(0, 7);
}

/** Today's additions to the console (member sites, settlement, books) as an attacker walks them. */
describe('operator console and ledger API: who may reach them, and a close posted twice at once', () => {
  const alice = randomBytes(32).toString('base64url');
  let ts: TestServer;
  let agent: ForwardedAgent;
  let site: TestSite;
  let month: string;

  before(async () => {
    ts = await startLedgerServer({}, { env: { OPERATOR_TOKENS: `alice:${alice}` } });
    site = await registerTestSite(ts, { name: 'Twice Told' } as never);
    month = monthAfter(todayIn(ts.config.billing.timeZone).slice(0, 7), -2);
    const mid = new Date(`${month}-15T03:00:00Z`);
    await seedBillableAccounts(ts.db, { count: 2, clientId: site.clientId, statementDay: 1, openedAt: new Date(mid.getTime() - 86400_000), chargedAt: mid });
    agent = await signedInOperator(ts.url, alice);
  });
  after(() => ts?.stop());

  const asAlice = { authorization: `Bearer ${alice}` };

  it('answers console pages to a console session only: a Bearer token alone is sent to sign in', async () => {
    for (const path of ['/admin/sites', `/admin/sites/${site.clientId}`, '/admin/settlement', `/admin/settlement/csv?month=${month}`, '/admin/books']) {
      const res = await fetch(`${ts.url}${path}`, { headers: asAlice, redirect: 'manual' });
      expect(res.status, path).to.equal(303);
      expect(res.headers.get('location'), path).to.match(/\/admin\/signin/);
    }
    const posted = await fetch(`${ts.url}/admin/books/check`, { method: 'POST', headers: { ...asAlice, 'content-type': 'application/x-www-form-urlencoded' }, body: 'csrf=x', redirect: 'manual' });
    expect(posted.status).to.equal(303);
  });

  it('answers the operator API to a Bearer token only: a console cookie, or a holder session, is 401', async () => {
    const holder = await signedInHolder(ts.url, await cardWithLimit(ts, 1_000));
    for (const who of [agent, holder]) {
      for (const path of ['/admin/api/ledger/check', `/admin/api/ledger/settlements?month=${month}`, '/admin/api/sites']) {
        const res = await who.get(path);
        expect(res.status, path).to.equal(401);
      }
      const close = await who.request('/admin/api/ledger/settlements/close', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ month }) });
      expect(close.status).to.equal(401);
    }
    expect(await ts.db('settlements')).to.have.length(0);
  });

  it('closes a month once when the console and the API close it at the same moment', async () => {
    const page = await (await agent.get(`/admin/settlement?month=${month}`)).text();
    const csrf = csrfOf(page, '/admin/settlement/close');
    const entries = async () => Number((await ts.db('journal_entries').where({ kind: 'settlement' }).count({ n: '*' }).first())?.n);
    const [a, b, c, d] = await Promise.all([
      agent.post('/admin/settlement/close', { csrf, month, confirm: 'on' }),
      agent.post('/admin/settlement/close', { csrf, month, confirm: 'on' }),
      operator(ts, 'POST', '/admin/api/ledger/settlements/close', { month }, asAlice),
      operator(ts, 'POST', '/admin/api/ledger/settlements/close', { month }, asAlice),
    ]);
    expect([a.status, b.status, c.status, d.status]).to.deep.equal([200, 200, 200, 200]);
    const closedNow = [c, d].map((r) => r.json.closed as number);
    const notices = await Promise.all([a, b].map((r) => r.text()));
    // "Closed 2026-10: 1 member site’s settlement posted to the ledger now, 0 closed already."
    const consoleClosed = notices.map((html) => Number(/Closed [\d-]+: (\d+) member site/.exec(html)?.[1]));
    expect([...closedNow, ...consoleClosed].reduce((x, y) => x + y, 0)).to.equal(1);
    expect(await ts.db('settlements').where({ client_id: site.clientId })).to.have.length(1);
    expect(await entries()).to.equal(1);
    expect(await ts.db('audit_log').where({ action: 'settlement.closed', subject_id: site.clientId })).to.have.length(1);
    const check = await checkLedger(ts.db);
    expect(check.findings, JSON.stringify(check.findings)).to.deep.equal([]);
  });

  it('refuses bad input to the console forms with a 4xx, never a 500, writing nothing', async () => {
    const before = await ts.db('audit_log').count({ n: '*' }).first();
    const sitePage = await (await agent.get(`/admin/sites/${site.clientId}`)).text();
    const siteCsrf = csrfOf(sitePage, `/admin/sites/${site.clientId}/suspend`);
    const raw = (path: string, body: string, type = 'application/x-www-form-urlencoded') =>
      agent.request(path, { method: 'POST', headers: { 'content-type': type }, body });
    const tries: Array<[string, Promise<Response>]> = [
      ['reason twice', raw(`/admin/sites/${site.clientId}/suspend`, `csrf=${encodeURIComponent(siteCsrf)}&reason=a&reason=b`)],
      ['reason as object', raw(`/admin/sites/${site.clientId}/suspend`, `csrf=${encodeURIComponent(siteCsrf)}&reason[x]=a`)],
      ['huge reason', raw(`/admin/sites/${site.clientId}/suspend`, `csrf=${encodeURIComponent(siteCsrf)}&reason=${'é'.repeat(20_000)}`)],
      ['csrf twice', raw(`/admin/sites/${site.clientId}/suspend`, `csrf=${encodeURIComponent(siteCsrf)}&csrf=${encodeURIComponent(siteCsrf)}&reason=x`)],
      ['unknown site', raw(`/admin/sites/${'x'.repeat(300)}/suspend`, `csrf=${encodeURIComponent(siteCsrf)}&reason=x`)],
      ['unicode site id', raw(`/admin/sites/%F0%9F%92%A9/suspend`, `csrf=${encodeURIComponent(siteCsrf)}&reason=x`)],
      ['bad percent', raw(`/admin/sites/%E0%A4%A/suspend`, `csrf=${encodeURIComponent(siteCsrf)}&reason=x`)],
      ['month twice', raw('/admin/settlement/close', `csrf=x&month=${month}&month=${month}&confirm=on`)],
      ['books csrf twice', raw('/admin/books/check', 'csrf=a&csrf=b')],
      ['books text body', raw('/admin/books/check', 'csrf=a', 'text/plain')],
    ];
    for (const [what, pending] of tries) {
      const res = await pending;
      expect(res.status, what).to.be.within(400, 499);
    }
    for (const q of ['?month=2026-01&month=2026-02', `?month=${'9'.repeat(5000)}`, '?month=%F0%9F%92%A9']) {
      expect((await agent.get(`/admin/settlement${q}`)).status, q).to.equal(400);
      expect((await agent.get(`/admin/settlement/csv${q}`)).status, q).to.equal(400);
    }
    // The last month there can be, and the first: reported (nothing in them), never a 500.
    for (const m of ['9999-12', '2000-01']) {
      expect((await agent.get(`/admin/settlement?month=${m}`)).status, m).to.equal(200);
      expect((await agent.get(`/admin/settlement/csv?month=${m}`)).status, m).to.equal(200);
    }
    for (const q of ['?status=active&status=closed', '?status=%00']) {
      expect((await agent.get(`/admin/sites${q}`)).status, q).to.equal(400);
    }
    expect((await ts.db('member_sites').where({ client_id: site.clientId }).first()).status).to.equal('active');
    expect(await ts.db('audit_log').count({ n: '*' }).first()).to.deep.equal(before);
  });
});
