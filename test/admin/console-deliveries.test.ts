import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { queueLogout } from '../../src/db/backchannel-logouts.ts';
import { markAttemptFailed } from '../../src/db/outbox-leases.ts';
import { sendDueApprovalEvents } from '../../src/oidc/send-approval-events.ts';
import { ForwardedAgent, csrfOf, location } from '../helpers/agent.ts';
import { uniqueIp } from '../helpers/applicant.ts';
import { runCli } from '../helpers/cli.ts';
import { registerTestSite, type TestSite } from '../helpers/fixtures.ts';
import { alertText, unescapeHtml } from '../helpers/html.ts';
import { signedInOperator } from '../helpers/operator.ts';
import { startCardManager, type TestServer } from '../helpers/server.ts';
import { startSiteEndpoints, type SiteEndpoints } from '../helpers/site-endpoints.ts';
import { approveFor, cardWithLimit } from '../ledger/fixtures.ts';

type Json = Record<string, unknown>;

/** The text of an element with this id, or undefined. */
function textOf(html: string, id: string): string | undefined {
  const m = new RegExp(`id="${id}"[^>]*>([^<]*)<`).exec(html);
  return m ? unescapeHtml(m[1]!).trim() : undefined;
}

/** The rows (kind-id) of the deliveries listed, in order. */
const listed = (html: string) => [...html.matchAll(/<section class="queue-item" id="delivery-([^"]+)"/g)].map((m) => m[1]!);

describe('operator console: deliveries to member sites /admin/deliveries, and the API and CLI', () => {
  const alice = randomBytes(32).toString('base64url');
  let sites: SiteEndpoints;
  let ts: TestServer;
  let agent: ForwardedAgent;

  before(async () => {
    sites = await startSiteEndpoints({ status: 202 });
    // The sites' server is on this machine: posts may go there only when private addresses are allowed.
    ts = await startCardManager({ oidc: { allowPrivateFetch: true } }, { env: { OPERATOR_TOKENS: `alice:${alice}` } });
    agent = await signedInOperator(ts.url, alice);
  });
  after(async () => {
    await ts?.stop();
    await sites?.stop();
  });

  const api = async (method: string, path: string, body?: unknown, headers: Record<string, string> = { authorization: `Bearer ${alice}` }) => {
    const res = await fetch(`${ts.url}${path}`, {
      method,
      headers: { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    return { status: res.status, headers: res.headers, json: (text.startsWith('{') ? JSON.parse(text) : {}) as Json, text };
  };
  const eventRow = (id: number) => ts.db('approval_events').where({ id }).first('status', 'attempts', 'jti', 'next_attempt_at', 'last_error');
  const auditCount = async () => Number((await ts.db('audit_log').count({ n: '*' }).first())?.n);

  /** A member site on the sites' server taking approval events at /events/<tag>. */
  async function eventSite(): Promise<TestSite & { path: string }> {
    const tag = randomBytes(4).toString('hex');
    const path = `/events/${tag}`;
    const site = await registerTestSite(ts, { clientId: `ev-${tag}`, redirectUris: [`${sites.origin}/callback/${tag}`], postLogoutRedirectUris: [], approvalEventsUri: `${sites.origin}${path}` });
    return { ...site, path };
  }

  /**
   * An approval event the site refused for good (RFC 8935 §2.3: 400 with an error), so the sender gave it up; its id.
   * An approval and a lost card make it, as a holder's would.
   */
  async function givenUpEvent(site: TestSite & { path: string }): Promise<number> {
    sites.answers.set(site.path, [{ status: 400, body: JSON.stringify({ err: 'invalid_request', description: 'not now' }) }]);
    const card = await cardWithLimit(ts, 1_000_000);
    await approveFor(ts, card, site, 1_000);
    expect((await api('POST', `/admin/api/cards/${card.cardId}/lost`, { reason: 'lost on the bus' })).status).to.equal(200);
    await sendDueApprovalEvents(ts.cm.approvalEvents);
    const row = await ts.db('approval_events').where({ client_id: site.clientId }).orderBy('id', 'desc').first();
    expect(row).to.include({ status: 'failed', attempts: 1, last_error: 'the site refused it: invalid_request' });
    return Number(row.id);
  }

  it('counts per site the last 7 days, lists a given-up event with its error and none of its payload, and sends it again once with a reason, audited', async () => {
    const site = await eventSite();
    const id = await givenUpEvent(site);
    const before = await eventRow(id);
    const res = await agent.get('/admin/deliveries');
    expect(res.status).to.equal(200);
    expect(res.headers.get('cache-control')).to.equal('no-store');
    const html = await res.text();
    expect(listed(html)).to.include(`event-${id}`);
    expect(textOf(html, `error-event-${id}`)).to.equal('the site refused it: invalid_request');
    expect(textOf(html, `attempts-event-${id}`)).to.equal('1');
    expect(textOf(html, `next-event-${id}`)).to.equal('none: given up');
    expect(textOf(html, `given-up-event-${site.clientId}`)).to.equal('1');
    const payload = (await ts.db('approval_events').where({ id }).first()).payload as Json;
    expect(html).not.to.include(String(payload.approval_no ?? 'never'));
    const action = `/admin/deliveries/event/${id}/retry`;

    const retried = await agent.post(action, { csrf: csrfOf(html, action), reason: 'the site fixed its endpoint' });
    expect(retried.status).to.equal(303);
    const after = await (await agent.get(location(retried, ts.url))).text();
    expect(textOf(after, 'notice')).to.match(/^Sent again: /);
    expect(listed(after)).not.to.include(`event-${id}`);
    const row = await eventRow(id);
    expect(row).to.include({ status: 'pending', attempts: 0, jti: before.jti });
    expect(new Date(row.next_attempt_at).getTime()).to.be.at.most(Date.now() + 1000);
    const audit = await ts.db('audit_log').where({ action: 'delivery.retried', subject_type: 'approval_event', subject_id: String(id) });
    expect(audit.map((a) => `${a.actor}: ${a.details.reason}`)).to.deep.equal(['operator:alice: the site fixed its endpoint']);

    // Delivered this time, the same event (jti).
    await sendDueApprovalEvents(ts.cm.approvalEvents);
    expect(await eventRow(id)).to.include({ status: 'sent', attempts: 1 });
    const jtis = sites.at(site.path).map((p) => JSON.parse(Buffer.from(p.body.split('.')[1]!, 'base64url').toString()).jti as string);
    expect(jtis).to.deep.equal([before.jti, before.jti]);
  });

  it('refuses to send a delivered one again (409), and says so of one waiting already (changed: false), changing nothing', async () => {
    const site = await eventSite();
    const id = await givenUpEvent(site);
    const page = await (await agent.get('/admin/deliveries')).text();
    const action = `/admin/deliveries/event/${id}/retry`;
    const token = csrfOf(page, action);
    expect((await agent.post(action, { csrf: token, reason: 'first' })).status).to.equal(303);
    const audits = await auditCount();
    // The same form again (a second tab): it waits to be sent already.
    const again = await agent.post(action, { csrf: token, reason: 'second' });
    expect(again.status).to.equal(303);
    expect(textOf(await (await agent.get(location(again, ts.url))).text(), 'notice')).to.equal('It was waiting to be sent already: nothing changed.');
    const viaApi = await api('POST', `/admin/api/deliveries/event/${id}/retry`, { reason: 'third' });
    expect(viaApi.status).to.equal(200);
    expect(viaApi.json).to.include({ changed: false, state: 'pending' });
    expect(await auditCount()).to.equal(audits);

    await sendDueApprovalEvents(ts.cm.approvalEvents);
    const delivered = await eventRow(id);
    expect(delivered.status).to.equal('sent');
    const refused = await agent.post(action, { csrf: token, reason: 'once more' });
    expect(refused.status).to.equal(409);
    const html = await refused.text();
    expect(alertText(html)).to.equal(`The event delivery ${id} was delivered: there is nothing to send again.`);
    const apiRefused = await api('POST', `/admin/api/deliveries/event/${id}/retry`, { reason: 'once more' });
    expect(apiRefused.status).to.equal(409);
    const cli = await runCli('deliveries', 'retry', 'event', String(id), '--reason', 'once more');
    expect(cli.code).to.not.equal(0);
    expect(cli.stderr).to.include('was delivered');
    expect({ row: await eventRow(id), audit: await auditCount() }).to.deep.equal({ row: delivered, audit: audits });
  });

  it('filters by site, and lists a given-up Logout Token without its holder or session', async () => {
    const one = await eventSite();
    const other = await eventSite();
    const eventId = await givenUpEvent(one);
    const card = await cardWithLimit(ts, 1_000);
    const logout = { id: await queueLogout(ts.db, { clientId: other.clientId, accountId: card.accountId, sid: 'sid-secret-123', reason: 'card blocked' }) };
    await markAttemptFailed(ts.db, 'backchannel_logouts', logout.id, 'the site answered 503', 5, true);

    const mine = await (await agent.get(`/admin/deliveries?site=${one.clientId}`)).text();
    expect(listed(mine)).to.deep.equal([`event-${eventId}`]);
    expect(mine).to.include(`<option value="${one.clientId}" selected>`);
    const theirs = await (await agent.get(`/admin/deliveries?site=${other.clientId}`)).text();
    expect(listed(theirs)).to.deep.equal([`logout-${logout.id}`]);
    expect(textOf(theirs, `error-logout-${logout.id}`)).to.equal('the site answered 503');
    expect(theirs).not.to.include(card.accountId).and.not.include('sid-secret-123');

    const listedByApi = await api('GET', `/admin/api/deliveries?site=${other.clientId}&state=given_up`);
    expect(listedByApi.status).to.equal(200);
    expect(listedByApi.headers.get('cache-control')).to.equal('no-store');
    const rows = listedByApi.json.deliveries as Json[];
    expect(rows.map((d) => `${d.kind}/${d.id} ${d.event} ${d.state} ${d.last_error}`)).to.deep.equal([`logout/${logout.id} logout given_up the site answered 503`]);
    expect(listedByApi.text).not.to.include(card.accountId).and.not.include('sid-secret-123');
    expect(listedByApi.json.counts).to.deep.equal([{ client_id: other.clientId, kind: 'logout', pending: 0, delivered: 0, given_up: 1 }]);

    const cliList = await runCli('deliveries', 'list', '--site', other.clientId, '--kind', 'logout');
    expect(cliList.code, cliList.stderr).to.equal(0);
    expect(cliList.stdout).to.include(`logout/${logout.id}`).and.include('given up').and.not.include(one.clientId);
    const cliRetry = await runCli('deliveries', 'retry', 'logout', String(logout.id), '--reason', 'their endpoint is back');
    expect(cliRetry.code, cliRetry.stderr).to.equal(0);
    expect(await ts.db('backchannel_logouts').where({ id: logout.id }).first()).to.include({ status: 'pending', attempts: 0 });
    expect((await ts.db('audit_log').where({ action: 'delivery.retried', subject_id: String(logout.id), subject_type: 'backchannel_logout' }).first()).actor).to.match(/^cli/);
  });

  it('lists one still failing with its next attempt and no form, 25 a page keeping the site filter, and counts the last 7 days only', async () => {
    const site = await registerTestSite(ts, { clientId: `many-${randomBytes(4).toString('hex')}` });
    const card = await cardWithLimit(ts, 1_000);
    for (let i = 0; i < 27; i++) {
      const id = await queueLogout(ts.db, { clientId: site.clientId, accountId: card.accountId, sid: null, reason: 'card blocked' });
      await markAttemptFailed(ts.db, 'backchannel_logouts', id, `the site answered 50${i % 4}`, 5);
    }
    const ids = (await ts.db('backchannel_logouts').where({ client_id: site.clientId }).orderBy('id').pluck('id')).map(Number);
    // The oldest was queued 8 days ago: listed still, counted no more.
    await ts.db('backchannel_logouts').where({ id: ids[0] }).update({ created_at: ts.db.raw("now() - interval '8 days'") });
    const first = await (await agent.get(`/admin/deliveries?site=${site.clientId}`)).text();
    expect(listed(first)).to.deep.equal(ids.slice(2).reverse().map((id) => `logout-${id}`));
    const newest = ids[26]!;
    expect(textOf(first, `attempts-logout-${newest}`)).to.equal('1');
    expect(textOf(first, `next-logout-${newest}`)).to.match(/^\d{4}-\d\d-\d\d \d\d:\d\d UTC$/);
    expect(first).not.to.include(`action="/admin/deliveries/logout/${newest}/retry"`);
    expect(textOf(first, `pending-logout-${site.clientId}`)).to.equal('26');
    expect(first).to.include(`href="/admin/deliveries?site=${site.clientId}&amp;page=2">Older`);
    const second = await (await agent.get(`/admin/deliveries?site=${site.clientId}&page=2`)).text();
    expect(listed(second)).to.deep.equal([`logout-${ids[1]}`, `logout-${ids[0]}`]);
    expect(second).to.include(`href="/admin/deliveries?site=${site.clientId}&amp;page=1">← Newer`);
    expect(second).not.to.include('Older');
    const counts = (await api('GET', `/admin/api/deliveries?site=${site.clientId}&limit=1`)).json;
    expect(counts.counts).to.deep.equal([{ client_id: site.clientId, kind: 'logout', pending: 26, delivered: 0, given_up: 0 }]);
    expect((counts.deliveries as Json[]).map((d) => d.id)).to.deep.equal([newest]);
  });

  it('sends a given-up event again from the API, once', async () => {
    const site = await eventSite();
    const id = await givenUpEvent(site);
    const res = await api('POST', `/admin/api/deliveries/event/${id}/retry`, { reason: 'asked by the site' });
    expect(res.status, res.text).to.equal(200);
    expect(res.headers.get('cache-control')).to.equal('no-store');
    expect(res.json).to.include({ kind: 'event', id, changed: true, state: 'pending', attempts: 0 });
    expect((await api('POST', `/admin/api/deliveries/event/${id}/retry`, { reason: 'again' })).json).to.include({ changed: false });
    expect(await ts.db('audit_log').where({ action: 'delivery.retried', subject_id: String(id) })).to.have.length(1);
  });

  it('refuses bad input in the console, the API and the CLI, changing nothing', async () => {
    const site = await eventSite();
    const id = await givenUpEvent(site);
    const page = await (await agent.get('/admin/deliveries')).text();
    const action = `/admin/deliveries/event/${id}/retry`;
    const token = csrfOf(page, action);
    const another = await signedInOperator(ts.url, alice);
    const before = { row: await eventRow(id), audit: await auditCount() };

    const empty = await agent.post(action, { csrf: token, reason: '  ' });
    expect(empty.status).to.equal(400);
    expect(empty.headers.get('cache-control')).to.equal('no-store');
    expect(textOf(await empty.text(), `reason-event-${id}-error`)).to.equal('Say why (it goes into the audit trail).');
    const long = 'z'.repeat(501);
    const tooLong = await agent.post(action, { csrf: token, reason: long });
    expect(tooLong.status).to.equal(400);
    expect(await tooLong.text()).to.include(`id="reason-event-${id}" name="reason" value="${long}"`);
    for (const path of ['/admin/deliveries/bogus/1/retry', '/admin/deliveries/event/abc/retry', '/admin/deliveries/event/0/retry', '/admin/deliveries/logout/999999999/retry']) {
      const res = await agent.post(path, { csrf: token, reason: 'x' });
      expect(res.status, path).to.equal(404);
      expect(alertText(await res.text()), path).to.match(/^There is no (such|logout) delivery/);
    }
    for (const q of ['site=no-such-site', 'site=not%20a%20site', 'page=0', 'page=x']) {
      const res = await agent.get(`/admin/deliveries?${q}`);
      expect(res.status, q).to.be.oneOf([400, 404]);
    }
    for (const csrf of [undefined, 'forged', csrfOf(page, '/admin/signout')]) {
      const res = await agent.post(action, { ...(csrf !== undefined ? { csrf } : {}), reason: 'no token' });
      expect(res.status, String(csrf)).to.equal(403);
    }
    expect((await another.post(action, { csrf: token, reason: 'not my session' })).status).to.equal(403);

    const apiCases: Array<[string, unknown, number, string]> = [
      [`/admin/api/deliveries/bogus/${id}/retry`, { reason: 'x' }, 400, 'kind'],
      ['/admin/api/deliveries/event/abc/retry', { reason: 'x' }, 400, 'id'],
      [`/admin/api/deliveries/event/${id}/retry`, {}, 400, 'reason'],
      [`/admin/api/deliveries/event/${id}/retry`, { reason: 'x', force: true }, 400, 'force'],
    ];
    for (const [path, body, status, field] of apiCases) {
      const res = await api('POST', path, body);
      expect(res.status, path).to.equal(status);
      expect((res.json.fields as Json | undefined) ?? {}, `${path} ${res.text}`).to.have.property(field);
    }
    const unknown = await api('POST', '/admin/api/deliveries/event/999999999/retry', { reason: 'x' });
    expect(unknown.status).to.equal(404);
    for (const q of ['kind=bogus', 'state=lost', 'limit=0', 'colour=red']) expect((await api('GET', `/admin/api/deliveries?${q}`)).status, q).to.equal(400);
    for (const args of [['retry', 'event', 'abc', '--reason', 'x'], ['retry', 'event', String(id)], ['retry', 'event', '999999999', '--reason', 'x'], ['list', '--state', 'lost']]) {
      const cli = await runCli('deliveries', ...args);
      expect(cli.code, args.join(' ')).to.not.equal(0);
      expect(cli.stderr, args.join(' ')).to.match(/^error: /);
    }
    expect({ row: await eventRow(id), audit: await auditCount() }).to.deep.equal(before);
  });

  it('sends a browser without a session, or with a Bearer token only, to sign in, sending nothing again', async () => {
    const site = await eventSite();
    const id = await givenUpEvent(site);
    const stranger = new ForwardedAgent(ts.url, uniqueIp());
    for (const res of [await stranger.get('/admin/deliveries'), await stranger.post(`/admin/deliveries/event/${id}/retry`, { csrf: 'x', reason: 'x' })]) {
      expect(res.status).to.equal(303);
      expect(location(res, ts.url).pathname).to.equal('/admin/signin');
    }
    for (const method of ['GET', 'POST']) {
      const res = await fetch(`${ts.url}/admin/deliveries${method === 'POST' ? `/event/${id}/retry` : ''}`, {
        method,
        redirect: 'manual',
        headers: { authorization: `Bearer ${alice}`, ...(method === 'POST' ? { 'content-type': 'application/x-www-form-urlencoded', origin: ts.url } : {}) },
        ...(method === 'POST' ? { body: 'reason=x' } : {}),
      });
      expect(res.status, method).to.equal(303);
      expect(new URL(res.headers.get('location')!, ts.url).pathname).to.equal('/admin/signin');
    }
    expect(await eventRow(id)).to.include({ status: 'failed' });
  });

  it('is linked from the console navigation, marked where the operator is', async () => {
    const html = await (await agent.get('/admin/deliveries')).text();
    const nav = /<nav class="console-nav"[\s\S]*?<\/nav>/.exec(html)?.[0];
    expect([...nav!.matchAll(/<a href="([^"]+)" aria-current/g)].map((m) => m[1])).to.deep.equal(['/admin/deliveries']);
  });
});
