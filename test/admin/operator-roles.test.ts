import type Router from '@koa/router';
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { capture } from '../../src/approvals/capture.ts';
import { openDispute } from '../../src/approvals/open-dispute.ts';
import { queueLogout } from '../../src/db/backchannel-logouts.ts';
import { markAttemptFailed } from '../../src/db/outbox-leases.ts';
import { inTransaction } from '../../src/db/tx.ts';
import { type ForwardedAgent } from '../helpers/agent.ts';
import { APPLY_SERVER, application, postApplication } from '../helpers/applicant.ts';
import { issueTestCard, registerTestSite, type TestCard, type TestSite } from '../helpers/fixtures.ts';
import { signedInOperator } from '../helpers/operator.ts';
import { startCardManager, type TestServer } from '../helpers/server.ts';
import { approveFor, cardWithLimit } from '../ledger/fixtures.ts';

/** A route as the app's routers registered it: its methods and its full path pattern. */
interface RegisteredRoute {
  method: string;
  path: string;
}

/** Every route of every router the app mounted (a router's dispatch middleware carries its router). */
function registeredRoutes(ts: TestServer): RegisteredRoute[] {
  const routes: RegisteredRoute[] = [];
  for (const mw of ts.cm.app.middleware) {
    const router = (mw as { router?: Router }).router;
    if (!router) continue;
    for (const layer of router.stack) {
      for (const method of layer.methods) routes.push({ method, path: String(layer.path) });
    }
  }
  return routes;
}

const READS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * POSTs that change nothing a viewer may not see: a card search (the number is a body, never a URL), the books'
 * check (a form, so that no crawler runs it), and the console's own sign-in and sign-out.
 */
const VIEWER_MAY_POST = new Set(['/admin/api/cards/search', '/admin/cards/search', '/admin/books/check', '/admin/signin', '/admin/signout']);

/**
 * GETs a viewer may not make: a copy of a holder's data, handed to someone outside once their identity is checked (a
 * data-subject request, decided as a reissue is), and shown to the holder as given out.
 */
const FULL_ONLY_READS = new Set(['/admin/api/cards/:cardId/export', '/admin/cards/:cardId/export']);

/** Everything in the database that an operator's request may change (sessions' idle deadlines and throttles aside). */
async function databaseDigest(ts: TestServer): Promise<Record<string, string>> {
  const tables = await ts.db('information_schema.tables')
    .where({ table_schema: 'public', table_type: 'BASE TABLE' })
    .whereNotIn('table_name', ['operator_sessions', 'throttles'])
    .whereNot('table_name', 'like', 'knex_%')
    .orderBy('table_name')
    .pluck('table_name');
  const digest: Record<string, string> = {};
  for (const table of tables as string[]) {
    const row = await ts.db.raw(`select md5(coalesce(string_agg(t::text, '|' order by t::text), '')) as d from ?? t`, [table]);
    digest[table] = String(row.rows[0].d);
  }
  return digest;
}

describe('operator roles: a viewer (OPERATOR_TOKENS name:token:viewer) reads everything and changes nothing', () => {
  const alice = randomBytes(32).toString('base64url');
  const vera = randomBytes(32).toString('base64url');
  let ts: TestServer;
  let card: TestCard;
  let site: TestSite;
  let applicationId: string;
  let disputeId: string;
  let logoutId: number;
  let viewer: ForwardedAgent;

  before(async () => {
    ts = await startCardManager(
      { ...APPLY_SERVER, cards: { ...APPLY_SERVER.cards, duplicates: 'review', denyList: { action: 'review', names: ['* viewerson'], emails: [], mobiles: [] } } },
      { env: { OPERATOR_TOKENS: `alice:${alice}, vera:${vera}:viewer` } },
    );
    card = await issueTestCard(ts);
    site = await registerTestSite(ts);
    const { status, body } = await postApplication(ts, application({ legal_name: 'Alex Viewerson' }));
    expect(status, JSON.stringify(body)).to.equal(202);
    applicationId = String(body.application_id);
    // An open report of a payment, and a Logout Token given up: the pages a full operator decides them on.
    const payer = await cardWithLimit(ts, 100_000);
    const a = await approveFor(ts, payer, site, 12_000, 'Movie night');
    await inTransaction(ts.db, (trx) => capture(trx, { approvalNo: a.approvalNo, amount: 12_000, actor: 'test' }));
    const d = await openDispute(
      { db: ts.db, windowDays: ts.config.payments.disputeDays },
      { accountId: payer.accountId, cardId: payer.cardId, approvalNo: a.approvalNo, reason: 'not_mine', details: 'Never watched it', actor: `card:${payer.cardId}` },
    );
    disputeId = d.id;
    logoutId = await queueLogout(ts.db, { clientId: site.clientId, accountId: payer.accountId, sid: null, reason: 'card blocked' });
    await markAttemptFailed(ts.db, 'backchannel_logouts', logoutId, 'the site answered 500', 1);
    viewer = await signedInOperator(ts.url, vera);
  });
  after(() => ts?.stop());

  /** A route's path with real ids where the fixtures have them, so that a request let through would change something. */
  function concrete(path: string): string {
    const action = path.startsWith('/admin/applications') ? 'approve' : path.startsWith('/admin/cards') ? 'block' : path.startsWith('/admin/sites') ? 'suspend' : path.startsWith('/admin/disputes') ? 'refund' : 'x';
    return path
      .replace(':cardId', card.cardId)
      .replace(':clientId', site.clientId)
      .replace(':applicationId', applicationId)
      .replace(':disputeId', disputeId)
      .replace(':statementId', '00000000-0000-4000-8000-000000000000')
      .replace(':kind', 'logout')
      .replace(':id', String(logoutId))
      .replace(':action', action);
  }

  const api = (token: string, method: string, path: string, body?: unknown) =>
    fetch(`${ts.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });

  const stateChanging = (prefix: RegExp) =>
    registeredRoutes(ts).filter((r) => prefix.test(r.path) && !READS.has(r.method) && !VIEWER_MAY_POST.has(r.path));

  it('refuses a viewer every state-changing operator API route with 403 forbidden naming the role, changing nothing', async () => {
    const routes = stateChanging(/^\/admin\/api\//);
    // The walk sees the API's routers: a change of the app's wiring that hid them would make this test pass for nothing.
    expect(routes.length).to.be.at.least(20);
    expect(routes).to.deep.include({ method: 'PUT', path: '/admin/api/cards/:cardId/limit' });
    const before = await databaseDigest(ts);
    for (const r of routes) {
      // What a full operator would send for the commonest changes, so that a request let through would change something.
      const sent = r.path.endsWith('/limit') ? { reason: 'a viewer tries', credit_limit: 1 } : { reason: 'a viewer tries' };
      const res = await api(vera, r.method, concrete(r.path), sent);
      const body = (await res.json()) as Record<string, unknown>;
      expect([res.status, body.error], `${r.method} ${r.path}`).to.deep.equal([403, 'forbidden']);
      expect(String(body.error_description), `${r.method} ${r.path}`).to.equal('operator:vera is a viewer: the operator API only lets a viewer read.');
    }
    expect(await databaseDigest(ts)).to.deep.equal(before);
    expect(await ts.db('cards').where({ id: card.cardId }).first()).to.include({ status: 'active' });
    expect(await ts.db('applications').where({ id: applicationId }).first()).to.include({ status: 'review' });
  });

  it('refuses a viewer every state-changing console form with a 403 page saying so, changing nothing', async () => {
    const routes = stateChanging(/^\/admin\/(?!api\/)/);
    expect(routes.length).to.be.at.least(6);
    expect(routes).to.deep.include({ method: 'POST', path: '/admin/cards/:cardId/:action' });
    const before = await databaseDigest(ts);
    for (const r of routes) {
      const res = await viewer.request(concrete(r.path), {
        method: r.method,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ csrf: 'x', reason: 'a viewer tries', confirm: 'on', month: '2026-01', credit_limit: '1' }).toString(),
      });
      const html = await res.text();
      expect(res.status, `${r.method} ${r.path}`).to.equal(403);
      expect(html, `${r.method} ${r.path}`).to.include('operator:vera is a viewer: the console only lets a viewer read.');
    }
    expect(await databaseDigest(ts)).to.deep.equal(before);
  });

  it('lets a viewer read every operator API GET route and search cards', async () => {
    const reads = registeredRoutes(ts).filter((r) => r.path.startsWith('/admin/api/') && r.method === 'GET' && !FULL_ONLY_READS.has(r.path));
    expect(reads.length).to.be.at.least(10);
    for (const r of reads) {
      const res = await api(vera, 'GET', concrete(r.path));
      expect(res.status, `GET ${r.path}`).not.to.be.oneOf([401, 403]);
    }
    expect((await api(vera, 'GET', `/admin/api/cards/${card.cardId}`)).status).to.equal(200);
    const found = await api(vera, 'POST', '/admin/api/cards/search', { number: card.number });
    expect(found.status).to.equal(200);
    expect(((await found.json()) as { holders: unknown[] }).holders).to.have.length(1);
  });

  it('shows a viewer every console page marked read-only, with no form that would change anything', async () => {
    const pages = ['/admin/applications', '/admin/disputes', '/admin/cards', `/admin/cards/${card.cardId}`, '/admin/sites', `/admin/sites/${site.clientId}`, '/admin/deliveries', '/admin/settlement', '/admin/books'];
    for (const path of pages) {
      const res = await viewer.get(path);
      const html = await res.text();
      expect(res.status, path).to.equal(200);
      expect(html, path).to.include('Read-only: you can look, not change anything.');
      const posts = [...html.matchAll(/<form method="post" action="([^"]+)"/g)].map((m) => m[1]);
      expect(posts.filter((a) => !VIEWER_MAY_POST.has(a!)), path).to.deep.equal([]);
    }
    // The same pages offer a full operator their forms.
    const full = await signedInOperator(ts.url, alice);
    const cardPage = await (await full.get(`/admin/cards/${card.cardId}`)).text();
    expect(cardPage).to.include(`action="/admin/cards/${card.cardId}/block"`);
    expect(cardPage).not.to.include('Read-only');
    expect(await (await full.get('/admin/applications')).text()).to.include(`action="/admin/applications/${applicationId}/approve"`);
    expect(await (await full.get('/admin/disputes')).text()).to.include(`action="/admin/disputes/${disputeId}/refund"`);
    expect(await (await full.get('/admin/deliveries')).text()).to.include(`action="/admin/deliveries/logout/${logoutId}/retry"`);
    // What the viewer's pages leave out is only the forms: the application, the report and the delivery are there.
    expect(await (await viewer.get('/admin/applications')).text()).to.include(applicationId);
    expect(await (await viewer.get('/admin/disputes')).text()).to.include(disputeId);
    expect(await (await viewer.get('/admin/deliveries')).text()).to.include(`id="delivery-`);
  });

  it('refuses a viewer a copy of a holder’s data (API, console, any spelling of its address) with 403, auditing no copy, and offers no link', async () => {
    const routes = registeredRoutes(ts).filter((r) => FULL_ONLY_READS.has(r.path));
    expect(routes.map((r) => r.path)).to.include.members([...FULL_ONLY_READS]);
    const before = await databaseDigest(ts);
    for (const path of [`/admin/api/cards/${card.cardId}/export`, `/admin/api/cards/${card.cardId}/EXPORT/`]) {
      const res = await api(vera, 'GET', path);
      const body = (await res.json()) as Record<string, unknown>;
      expect([res.status, body.error], path).to.deep.equal([403, 'forbidden']);
      expect(res.headers.get('content-disposition'), path).to.equal(null);
    }
    const res = await viewer.get(`/admin/cards/${card.cardId}/export`);
    expect(res.status).to.equal(403);
    expect(res.headers.get('content-disposition')).to.equal(null);
    expect(await res.text()).to.include('operator:vera is a viewer');
    expect(await databaseDigest(ts)).to.deep.equal(before);
    const page = await (await viewer.get(`/admin/cards/${card.cardId}`)).text();
    expect(page).not.to.include(`/admin/cards/${card.cardId}/export`);
    // A full operator still has both.
    expect((await api(alice, 'GET', `/admin/api/cards/${card.cardId}/export`)).status).to.equal(200);
    const full = await signedInOperator(ts.url, alice);
    expect(await (await full.get(`/admin/cards/${card.cardId}`)).text()).to.include(`action="/admin/cards/${card.cardId}/export"`);
  });

  it('still lets a name:token operator change things, audited as operator:<name>', async () => {
    const res = await api(alice, 'POST', `/admin/api/cards/${card.cardId}/block`, { reason: 'full access still works' });
    expect(res.status, await res.clone().text()).to.equal(200);
    const entry = await ts.db('audit_log').where({ action: 'card.status_changed', subject_id: card.cardId }).orderBy('id', 'desc').first();
    expect(entry).to.include({ actor: 'operator:alice' });
    expect((await api(alice, 'POST', `/admin/api/cards/${card.cardId}/unblock`, { reason: 'put back' })).status).to.equal(200);
  });

  it('lets a viewer search a card by number in the console, and sign out', async () => {
    const page = await (await viewer.get('/admin/cards')).text();
    const csrf = /action="\/admin\/cards\/search"[\s\S]*?name="csrf" value="([^"]+)"/.exec(page)?.[1];
    const res = await viewer.post('/admin/cards/search', { csrf: csrf!, number: card.number });
    expect(res.status).to.equal(303);
    expect(res.headers.get('location')).to.equal(`/admin/cards/${card.cardId}`);
    const other = await signedInOperator(ts.url, vera);
    const signedIn = await ts.db('audit_log').where({ action: 'operator.signed_in', actor: 'operator:vera' }).orderBy('id', 'desc').first();
    expect(signedIn.details).to.deep.equal({ via: 'console', ip: other.ip, role: 'viewer' });
    const home = await (await other.get('/admin/applications')).text();
    const out = /action="\/admin\/signout"[\s\S]*?name="csrf" value="([^"]+)"/.exec(home)?.[1];
    expect((await other.post('/admin/signout', { csrf: out! })).status).to.equal(303);
    expect((await other.get('/admin/applications')).status).to.equal(303);
  });
});
