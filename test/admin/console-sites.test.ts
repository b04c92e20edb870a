import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { ForwardedAgent, csrfOf, location } from '../helpers/agent.ts';
import { uniqueEmail, uniqueIp } from '../helpers/applicant.ts';
import { registerTestSite, type TestSite } from '../helpers/fixtures.ts';
import { alertText, unescapeHtml } from '../helpers/html.ts';
import { postConsoleForm, signedInOperator } from '../helpers/operator.ts';
import { startCardManager, type TestServer } from '../helpers/server.ts';
import { approveFor, cardWithLimit } from '../ledger/fixtures.ts';

/** The text of an element with this id, or undefined. */
function textOf(html: string, id: string): string | undefined {
  const m = new RegExp(`id="${id}"[^>]*>([^<]*)<`).exec(html);
  return m ? unescapeHtml(m[1]!).trim() : undefined;
}

/** The client ids of the rows of the sites table, in order. */
function listedSites(html: string): string[] {
  return [...html.matchAll(/<tr id="site-([^"]+)"/g)].map((m) => m[1]!);
}

describe('operator console: member sites /admin/sites', () => {
  const alice = randomBytes(32).toString('base64url');
  let ts: TestServer;
  let agent: ForwardedAgent;

  before(async () => {
    ts = await startCardManager({}, { env: { OPERATOR_TOKENS: `alice:${alice}` } });
    agent = await signedInOperator(ts.url, alice);
  });
  after(() => ts?.stop());

  const tag = () => randomBytes(3).toString('hex');
  const siteRow = (clientId: string) => ts.db('member_sites').where({ client_id: clientId }).first('status', 'status_reason', 'updated_at', 'client_secret_hash');
  const auditCount = async () => Number((await ts.db('audit_log').count({ n: '*' }).first())?.n);
  const sitePath = (s: TestSite) => `/admin/sites/${s.clientId}`;

  it('lists every member site with its status, rating, maximum amount, auto-capture and creation, uncached', async () => {
    const shop = await registerTestSite(ts, { clientId: `shop-${tag()}`, name: 'Corner Shop', contentRating: 19, maxAmount: 50_000, autoCapture: true });
    const res = await agent.get('/admin/sites');
    expect(res.status).to.equal(200);
    expect(res.headers.get('cache-control')).to.equal('no-store');
    const html = await res.text();
    expect(listedSites(html)).to.include(shop.clientId);
    expect(textOf(html, `name-${shop.clientId}`)).to.equal('Corner Shop');
    expect(html).to.include(`href="/admin/sites/${shop.clientId}"`);
    expect(textOf(html, `status-${shop.clientId}`)).to.equal('active');
    expect(textOf(html, `rating-${shop.clientId}`)).to.equal('19');
    expect(textOf(html, `max-${shop.clientId}`)).to.equal('50,000 KRW');
    expect(textOf(html, `capture-${shop.clientId}`)).to.equal('yes');
    expect(textOf(html, `created-${shop.clientId}`)).to.match(/^\d{4}-\d\d-\d\d \d\d:\d\d UTC$/);
    expect(html).not.to.include(shop.clientSecret);
  });

  it('filters the list by status, and refuses a status there is not (400) with the whole list and why', async () => {
    const on = await registerTestSite(ts, { clientId: `on-${tag()}` });
    const off = await registerTestSite(ts, { clientId: `off-${tag()}` });
    await ts.db('member_sites').where({ client_id: off.clientId }).update({ status: 'suspended' });
    const suspended = await (await agent.get('/admin/sites?status=suspended')).text();
    expect(listedSites(suspended)).to.include(off.clientId).and.not.include(on.clientId);
    expect(suspended).to.include('href="/admin/sites?status=suspended" aria-current="page"');
    const active = await (await agent.get('/admin/sites?status=active')).text();
    expect(listedSites(active)).to.include(on.clientId).and.not.include(off.clientId);
    expect(listedSites(await (await agent.get('/admin/sites?status=closed')).text())).to.not.include(on.clientId);
    for (const bogus of ['deleted', 'ACTIVE', '', 'constructor']) {
      const res = await agent.get(`/admin/sites?status=${bogus}`);
      if (bogus === '') {
        // The "All" link's empty filter is no filter.
        expect(res.status).to.equal(200);
        continue;
      }
      expect(res.status, bogus).to.equal(400);
      expect(res.headers.get('cache-control')).to.equal('no-store');
      const html = await res.text();
      expect(alertText(html), bogus).to.equal('There is no such status: show active, suspended or closed sites, or all.');
      expect(listedSites(html)).to.include(on.clientId).and.include(off.clientId);
    }
    expect((await agent.get('/admin/sites?status=active&status=closed')).status).to.equal(400);
  });

  it('shows where a site is told of sign-outs (back-channel logout), or that it is not', async () => {
    const origin = `https://told-${tag()}.example.test`;
    const told = await registerTestSite(ts, {
      clientId: `told-${tag()}`,
      redirectUris: [`${origin}/callback`],
      postLogoutRedirectUris: [`${origin}/`],
      backchannelLogoutUri: `${origin}/backchannel-logout`,
      backchannelLogoutSessionRequired: true,
    });
    expect(textOf(await (await agent.get(sitePath(told))).text(), 'backchannel-logout')).to.equal(`${origin}/backchannel-logout, with the session id (sid)`);
    const untold = await registerTestSite(ts, { clientId: `untold-${tag()}` });
    expect(textOf(await (await agent.get(sitePath(untold))).text(), 'backchannel-logout')).to.equal('none: the site is not told when a holder is signed out');
  });

  it("shows a site's registration, its approvals of the last 30 days, and never its secret", async () => {
    const site = await registerTestSite(ts, { clientId: `film-${tag()}`, name: 'Film Corner', contentRating: 15, maxAmount: 30_000, accessTokenTtl: 600 });
    const card = await cardWithLimit(ts, 100_000, { email: uniqueEmail('console-site') });
    await approveFor(ts, card, site, 1_000, 'One');
    await approveFor(ts, card, site, 2_000, 'Two');
    const res = await agent.get(sitePath(site));
    expect(res.status).to.equal(200);
    expect(res.headers.get('cache-control')).to.equal('no-store');
    const html = await res.text();
    expect(textOf(html, 'heading')).to.equal('Film Corner');
    expect(textOf(html, 'status')).to.equal('active');
    expect(textOf(html, 'client-id')).to.equal(site.clientId);
    expect(textOf(html, 'redirect-uri-0')).to.equal(site.redirectUri);
    expect(textOf(html, 'post-logout-uri-0')).to.equal(site.postLogoutUri);
    expect(textOf(html, 'resource-server-0')).to.equal(site.resource);
    expect(textOf(html, 'rating')).to.equal('15');
    expect(textOf(html, 'max-amount')).to.equal('30,000 KRW');
    expect(textOf(html, 'access-token-ttl')).to.equal('600 seconds');
    expect(textOf(html, 'recent-approvals')).to.equal('2');
    const hash = (await siteRow(site.clientId)).client_secret_hash as string;
    expect(html).not.to.include(site.clientSecret).and.not.include(hash);
    expect(html).to.include(`action="/admin/sites/${site.clientId}/suspend"`);
    expect(html).to.include(`action="/admin/sites/${site.clientId}/close"`);
    expect(html).not.to.include(`action="/admin/sites/${site.clientId}/reinstate"`);
  });

  it('suspends and reinstates a site with a reason, audited as the operator signed in', async () => {
    const site = await registerTestSite(ts, { clientId: `pause-${tag()}` });
    const suspend = await postConsoleForm(agent, sitePath(site), `${sitePath(site)}/suspend`, { reason: 'chargebacks piling up' });
    expect(suspend.status).to.equal(303);
    expect(suspend.headers.get('cache-control')).to.equal('no-store');
    let page = await (await agent.get(location(suspend, ts.url))).text();
    expect(textOf(page, 'notice')).to.match(/^Suspended: /);
    expect(textOf(page, 'status')).to.equal('suspended');
    expect(textOf(page, 'status-reason')).to.equal('chargebacks piling up');
    expect(await siteRow(site.clientId)).to.include({ status: 'suspended', status_reason: 'chargebacks piling up' });
    expect(page).not.to.include(`action="${sitePath(site)}/suspend"`);

    const reinstate = await agent.post(`${sitePath(site)}/reinstate`, { csrf: csrfOf(page, `${sitePath(site)}/reinstate`), reason: 'settled with them' });
    expect(reinstate.status).to.equal(303);
    page = await (await agent.get(location(reinstate, ts.url))).text();
    expect(textOf(page, 'notice')).to.match(/^Reinstated: /);
    expect(textOf(page, 'status')).to.equal('active');
    const trail = await ts.db('audit_log').where({ subject_type: 'member_site', subject_id: site.clientId }).whereIn('action', ['member_site.suspended', 'member_site.reinstated']).orderBy('id');
    expect(trail.map((e) => `${e.actor} ${e.action}: ${e.details.reason}`)).to.deep.equal([
      'operator:alice member_site.suspended: chargebacks piling up',
      'operator:alice member_site.reinstated: settled with them',
    ]);
  });

  it('shows whether a site must push its authorization requests (PAR) and turns that on and off, audited; bad input changes nothing', async () => {
    const site = await registerTestSite(ts, { clientId: `par-${tag()}` });
    const par = async () => (await ts.db('member_sites').where({ client_id: site.clientId }).first('require_pushed_authorization_requests')).require_pushed_authorization_requests;
    let page = await (await agent.get(sitePath(site))).text();
    expect(textOf(page, 'require-par')).to.match(/^no/);
    const on = await postConsoleForm(agent, sitePath(site), `${sitePath(site)}/par`, { require: 'yes' });
    expect(on.status).to.equal(303);
    page = await (await agent.get(location(on, ts.url))).text();
    expect(textOf(page, 'notice')).to.match(/^PAR required: /);
    expect(textOf(page, 'require-par')).to.match(/^yes, required by the operator \(the site cannot turn it off\): /);
    expect(await par()).to.equal(true);
    // One the site turned on for itself (RFC 7592) says so: the site may turn it off again.
    await ts.db('member_sites').where({ client_id: site.clientId }).update({ require_par_by_site: true });
    expect(textOf(await (await agent.get(sitePath(site))).text(), 'require-par')).to.match(/^yes, required by the site itself /);
    await ts.db('member_sites').where({ client_id: site.clientId }).update({ require_par_by_site: false });
    expect(await ts.cm.provider.Client.find(site.clientId).then((c) => c!.requirePushedAuthorizationRequests)).to.equal(true);
    const before = await auditCount();
    const token = csrfOf(page, `${sitePath(site)}/par`);
    for (const require of ['maybe', '', 'true']) {
      const bad = await agent.post(`${sitePath(site)}/par`, { csrf: token, require });
      expect(bad.status, require).to.equal(400);
      expect(alertText(await bad.text())).to.equal('Choose yes or no: whether the site must push its authorization requests (PAR).');
    }
    expect((await agent.post(`${sitePath(site)}/par`, { csrf: 'forged', require: 'no' })).status).to.equal(403);
    expect(await par()).to.equal(true);
    expect(await auditCount()).to.equal(before);
    const off = await agent.post(`${sitePath(site)}/par`, { csrf: token, require: 'no' });
    expect(off.status).to.equal(303);
    expect(textOf(await (await agent.get(location(off, ts.url))).text(), 'notice')).to.match(/^PAR no longer required: /);
    expect(await par()).to.equal(false);
    const trail = await ts.db('audit_log').where({ subject_type: 'member_site', subject_id: site.clientId, action: 'member_site.updated' }).orderBy('id');
    expect(trail.map((e) => `${e.actor}: ${e.details.fields.join(' ')}`)).to.deep.equal([
      'operator:alice: requirePushedAuthorizationRequests',
      'operator:alice: requirePushedAuthorizationRequests',
    ]);
  });

  it('says so when a site is suspended or active already, changing nothing', async () => {
    const site = await registerTestSite(ts, { clientId: `twice-${tag()}` });
    const page = await (await agent.get(sitePath(site))).text();
    const token = csrfOf(page, `${sitePath(site)}/suspend`);
    expect((await agent.post(`${sitePath(site)}/suspend`, { csrf: token, reason: 'first' })).status).to.equal(303);
    const before = { row: await siteRow(site.clientId), audit: await auditCount() };
    // The same form posted again (a second tab, a double click).
    const again = await agent.post(`${sitePath(site)}/suspend`, { csrf: token, reason: 'second' });
    expect(again.status).to.equal(303);
    expect(textOf(await (await agent.get(location(again, ts.url))).text(), 'notice')).to.equal('The site was suspended already: nothing changed.');
    expect({ row: await siteRow(site.clientId), audit: await auditCount() }).to.deep.equal(before);

    const active = await registerTestSite(ts, { clientId: `awake-${tag()}` });
    const reinstate = await agent.post(`${sitePath(active)}/reinstate`, { csrf: token, reason: 'nothing to lift' });
    expect(reinstate.status).to.equal(303);
    expect(textOf(await (await agent.get(location(reinstate, ts.url))).text(), 'notice')).to.equal('The site was active already: nothing changed.');
  });

  it('closes a site only once the closing is confirmed; a closed site cannot be suspended or reinstated (409), saying why', async () => {
    const site = await registerTestSite(ts, { clientId: `shut-${tag()}` });
    const page = await (await agent.get(sitePath(site))).text();
    const token = csrfOf(page, `${sitePath(site)}/close`);
    const before = { row: await siteRow(site.clientId), audit: await auditCount() };
    const unconfirmed = await agent.post(`${sitePath(site)}/close`, { csrf: token, reason: 'contract ended' });
    expect(unconfirmed.status).to.equal(400);
    const refused = await unconfirmed.text();
    expect(textOf(refused, 'confirm-close-error')).to.equal('Tick this to close the site for good.');
    expect(refused).to.include('id="reason-close" name="reason" value="contract ended"');
    expect({ row: await siteRow(site.clientId), audit: await auditCount() }).to.deep.equal(before);
    expect((await agent.post(`${sitePath(site)}/close`, { csrf: token, reason: 'contract ended', confirm: 'yes please' })).status).to.equal(400);

    const closed = await agent.post(`${sitePath(site)}/close`, { csrf: token, reason: 'contract ended', confirm: 'on' });
    expect(closed.status).to.equal(303);
    const after = await (await agent.get(location(closed, ts.url))).text();
    expect(textOf(after, 'notice')).to.match(/^Closed for good: /);
    expect(textOf(after, 'status')).to.equal('closed');
    expect(await siteRow(site.clientId)).to.include({ status: 'closed', client_secret_hash: null });
    for (const action of ['suspend', 'reinstate', 'close']) expect(after).not.to.include(`action="${sitePath(site)}/${action}"`);
    expect((await ts.db('audit_log').where({ subject_id: site.clientId, action: 'member_site.closed' }).first()).actor).to.equal('operator:alice');

    const frozen = { row: await siteRow(site.clientId), audit: await auditCount() };
    for (const action of ['suspend', 'reinstate']) {
      const res = await agent.post(`${sitePath(site)}/${action}`, { csrf: token, reason: 'try anyway' });
      expect(res.status, action).to.equal(409);
      const html = await res.text();
      expect(alertText(html), action).to.equal(`Member site ${site.clientId} is closed.`);
      expect(textOf(html, 'status')).to.equal('closed');
    }
    expect({ row: await siteRow(site.clientId), audit: await auditCount() }).to.deep.equal(frozen);
  });

  it('refuses bad input with a 4xx page, the reason refilled, and the database unchanged', async () => {
    const site = await registerTestSite(ts, { clientId: `bad-${tag()}` });
    const page = await (await agent.get(sitePath(site))).text();
    const token = csrfOf(page, `${sitePath(site)}/suspend`);
    const another = await signedInOperator(ts.url, alice);
    const before = { row: await siteRow(site.clientId), audit: await auditCount() };

    for (const path of ['/admin/sites/no-such-site', '/admin/sites/not%20a%20client%20id', `/admin/sites/${'x'.repeat(65)}`]) {
      const res = await agent.get(path);
      expect(res.status, path).to.equal(404);
      expect(res.headers.get('cache-control')).to.equal('no-store');
      expect(alertText(await res.text()), path).to.match(/^There is no member site /);
    }
    const unknown = await agent.post('/admin/sites/no-such-site/suspend', { csrf: token, reason: 'x' });
    expect(unknown.status).to.equal(404);
    expect(alertText(await unknown.text())).to.equal('There is no member site no-such-site.');
    expect((await agent.post(`${sitePath(site)}/delete`, { csrf: token, reason: 'x' })).status).to.equal(404);

    const empty = await agent.post(`${sitePath(site)}/suspend`, { csrf: token, reason: '  ' });
    expect(empty.status).to.equal(400);
    expect(textOf(await empty.text(), 'reason-suspend-error')).to.equal('Say why (it goes into the audit trail).');
    const long = 'z'.repeat(501);
    const tooLong = await agent.post(`${sitePath(site)}/suspend`, { csrf: token, reason: long });
    expect(tooLong.status).to.equal(400);
    expect(await tooLong.text()).to.include(`id="reason-suspend" name="reason" value="${long}"`);
    const control = await agent.post(`${sitePath(site)}/suspend`, { csrf: token, reason: 'bell\u0007' });
    expect(control.status).to.equal(400);

    // No token, a forged one, the sign-out form's.
    for (const csrf of [undefined, 'forged', csrfOf(page, '/admin/signout')]) {
      const res = await agent.post(`${sitePath(site)}/suspend`, { ...(csrf !== undefined ? { csrf } : {}), reason: 'no token' });
      expect(res.status, String(csrf)).to.equal(403);
      expect(res.headers.get('cache-control')).to.equal('no-store');
    }
    // A token of this session, posted from another signed-in browser: tokens are bound to their session.
    const theirs = await another.post(`${sitePath(site)}/suspend`, { csrf: token, reason: 'not my session' });
    expect(theirs.status).to.equal(403);

    expect({ row: await siteRow(site.clientId), audit: await auditCount() }).to.deep.equal(before);
  });

  it('sends a browser without a session to the sign-in page, suspending nothing', async () => {
    const site = await registerTestSite(ts, { clientId: `anon-${tag()}` });
    const stranger = new ForwardedAgent(ts.url, uniqueIp());
    for (const res of [await stranger.get('/admin/sites'), await stranger.get(sitePath(site)), await stranger.post(`${sitePath(site)}/suspend`, { csrf: 'x', reason: 'x' })]) {
      expect(res.status).to.equal(303);
      expect(location(res, ts.url).pathname).to.equal('/admin/signin');
    }
    expect((await siteRow(site.clientId)).status).to.equal('active');
  });

  it('links the section from every console page, marking where the operator is, with no inline style', async () => {
    const site = await registerTestSite(ts, { clientId: `nav-${tag()}` });
    for (const [path, current] of [
      ['/admin/applications', '/admin/applications'],
      ['/admin/disputes', '/admin/disputes'],
      ['/admin/cards', '/admin/cards'],
      ['/admin/sites', '/admin/sites'],
      [sitePath(site), '/admin/sites'],
    ] as const) {
      const html = await (await agent.get(path)).text();
      const nav = /<nav class="console-nav"[\s\S]*?<\/nav>/.exec(html)?.[0];
      expect(nav, path).to.be.a('string');
      expect(nav).to.include('<a href="/admin/sites"');
      expect(nav).not.to.include('style=');
      expect([...nav!.matchAll(/<a href="([^"]+)" aria-current/g)].map((m) => m[1]), path).to.deep.equal([current]);
    }
  });
});
