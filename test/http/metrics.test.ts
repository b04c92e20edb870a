import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import * as client from 'openid-client';
import { generateCardNumber } from '../../src/cards/card-number.ts';
import { insertOutboxMessage } from '../../src/db/outbox.ts';
import { sendDueNotifications } from '../../src/notifications/sender.ts';
import { Agent, ForwardedAgent, runLogin, startInteraction } from '../helpers/agent.ts';
import { birthdateForAge } from '../helpers/applicant.ts';
import { connect } from '../helpers/db.ts';
import { authRequest, issueTestCard, payRequest, registerTestSite, siteClient, type TestCard, type TestSite } from '../helpers/fixtures.ts';
import { testEnv } from '../helpers/global.ts';
import { getMetrics, samples, scrape, valueOf } from '../helpers/metrics.ts';
import { startCardManager, type TestServer } from '../helpers/server.ts';

/** Log lines a server writes, parsed. */
function logCapture() {
  const lines: string[] = [];
  return {
    stream: { write: (l: string) => void lines.push(l) },
    lines,
    parsed: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

const PRODUCTION_ENV = {
  NODE_ENV: 'production',
  COOKIE_KEYS: 'k'.repeat(40),
  CARD_HMAC_KEY: randomBytes(32).toString('base64'),
  PASSWORD_PEPPER: randomBytes(32).toString('base64'),
  OPERATOR_TOKEN: 'o'.repeat(40),
  // Production sends, never writes files; the sender is off (QUIET), so nothing is posted there.
  SMS_WEBHOOK_URL: 'http://127.0.0.1:9/sms',
};

/** Background jobs off: a production configuration's sender would drain the run's outbox over SMTP. */
const QUIET = {
  logLevel: 'info',
  oidc: { cleanupIntervalSeconds: 0 },
  notifications: { senderIntervalSeconds: 0 },
  payments: { expireIntervalSeconds: 0 },
  billing: { runIntervalSeconds: 0 },
};

/**
 * A payment through the hosted pages as a browser makes it (pushed request, login, approval) up to the
 * member site's callback, with the interaction's uid; the approval page's answer is the holder's to read.
 */
async function payThroughPages(
  ts: TestServer,
  cfg: client.Configuration,
  site: TestSite,
  card: TestCard,
  amount: number,
  beforeApproving: () => Promise<unknown> = async () => undefined,
) {
  const { url, verifier, state } = await payRequest(cfg, site, [{ type: 'payment', amount, currency: 'KRW', description: 'Metered episode' }]);
  const agent = new Agent(ts.url);
  const { path, csrf } = await startInteraction(agent, url);
  const approvePage = await agent.post(`${path}/login`, { csrf, card_number: card.number, password: card.password });
  const html = await approvePage.text();
  const confirmCsrf = /name="csrf" value="([^"]+)"/.exec(html)?.[1];
  if (approvePage.status !== 200 || !confirmCsrf) throw new Error(`no approval page (${approvePage.status})`);
  await beforeApproving();
  const answer = await agent.post(`${path}/confirm`, { csrf: confirmCsrf });
  const location = answer.headers.get('location');
  return { uid: path.split('/')[2]!, answer, callback: location ? new URL(location) : undefined!, verifier, state };
}

/** A card whose credit line has this limit (cards issued by the domain start with none). */
async function cardWithLimit(ts: TestServer, limit: number): Promise<TestCard> {
  const card = await issueTestCard(ts);
  await ts.db('accounts').where({ id: card.accountId }).update({ credit_limit: limit });
  return card;
}

describe('GET /metrics', () => {
  let ts: TestServer;
  const log = logCapture();

  before(async () => {
    ts = await startCardManager({ logLevel: 'info' }, { logStream: log.stream });
  });
  after(() => ts.stop());

  it('refuses a scrape without the token, with a wrong one or a malformed header: 401, WWW-Authenticate: Bearer, no metrics', async () => {
    const token = ts.config.secrets.metricsToken!;
    const tries = [null, 'Bearer wrong-token', `Bearer ${token}x`, `Bearer ${token.slice(0, -1)}`, 'Bearer', `Bearer ${token} ${token}`, `Bearer${token}`, `Basic ${Buffer.from(`metrics:${token}`).toString('base64')}`, token];
    for (const authorization of tries) {
      const res = await getMetrics(ts, authorization);
      expect(res.status, String(authorization)).to.equal(401);
      expect(res.headers.get('www-authenticate'), String(authorization)).to.match(/^Bearer\b/);
      const body = await res.text();
      expect(body).to.not.include('cybercard_');
      expect(body).to.not.include('# TYPE');
      expect((JSON.parse(body) as { error: string }).error).to.equal('unauthorized');
    }
    // Neither the token nor what was sent in its place is ever logged.
    const all = log.lines.join('\n');
    for (const secret of [token, 'wrong-token', Buffer.from(`metrics:${token}`).toString('base64')]) expect(all).to.not.include(secret);
  });

  it('serves the right token Prometheus text: process, pool and outbox metrics, under the cybercard_ prefix', async () => {
    const res = await getMetrics(ts);
    expect(res.status).to.equal(200);
    expect(res.headers.get('content-type')).to.equal('text/plain; version=0.0.4; charset=utf-8');
    expect(res.headers.get('cache-control')).to.equal('no-store');
    const text = await res.text();
    for (const name of [
      'cybercard_process_cpu_user_seconds_total',
      'cybercard_process_resident_memory_bytes',
      'cybercard_nodejs_eventloop_lag_seconds',
      'cybercard_nodejs_heap_size_used_bytes',
      'cybercard_nodejs_gc_duration_seconds',
      'cybercard_db_pool_used_connections',
      'cybercard_db_pool_free_connections',
      'cybercard_db_pool_pending_acquires',
      'cybercard_outbox_pending',
      'cybercard_outbox_oldest_pending_seconds',
    ]) {
      expect(text, name).to.match(new RegExp(`^# TYPE ${name} `, 'm'));
    }
    // Every sample is named under the prefix; the scheme is read case-insensitively, the spaces after it as one.
    for (const s of samples(text)) expect(s.name).to.match(/^cybercard_/);
    expect((await getMetrics(ts, `bearer  ${ts.config.secrets.metricsToken}`)).status).to.equal(200);
    // Both pools (the request pool and the throttles' own) are reported; a scrape holds no connection of them.
    for (const pool of ['main', 'throttles']) {
      expect(samples(text).some((s) => s.name === 'cybercard_db_pool_used_connections' && s.labels.pool === pool), pool).to.equal(true);
    }
  });

  it('answers other methods as /healthz does', async () => {
    for (const method of ['POST', 'PUT', 'DELETE']) {
      const metrics = await fetch(`${ts.url}/metrics`, { method, headers: { authorization: `Bearer ${ts.config.secrets.metricsToken}` } });
      const health = await fetch(`${ts.url}/healthz`, { method });
      expect(metrics.status, method).to.equal(health.status);
      expect(metrics.status, method).to.be.oneOf([404, 405]);
      expect(await metrics.text()).to.not.include('cybercard_');
    }
  });

  it('reads the outbox backlog from PostgreSQL: pending messages and the age of the oldest', async () => {
    const pendingRows = async () => Number((await ts.db('notifications_outbox').where({ status: 'pending' }).count({ n: '*' }).first())!.n);
    const before = await scrape(ts);
    expect(valueOf(before, 'cybercard_outbox_pending')).to.equal(await pendingRows());
    const recipient = `metrics-${randomBytes(4).toString('hex')}@example.test`;
    await insertOutboxMessage(ts.db, { accountId: null, channel: 'email', recipient, template: 'card_locked', data: { last4: '1234', until: '' }, locale: 'en' });
    await ts.db('notifications_outbox').where({ recipient }).update({ created_at: ts.db.raw("now() - interval '2 hours'") });
    const queued = await scrape(ts);
    expect(valueOf(queued, 'cybercard_outbox_pending')).to.equal(valueOf(before, 'cybercard_outbox_pending') + 1);
    expect(valueOf(queued, 'cybercard_outbox_oldest_pending_seconds')).to.be.at.least(7200).and.below(7200 + 600);

    const sent = await sendDueNotifications(ts.cm.notifications);
    expect(sent.sent).to.be.at.least(1);
    const drained = await scrape(ts);
    expect(valueOf(drained, 'cybercard_outbox_pending')).to.equal(await pendingRows());
    expect(valueOf(drained, 'cybercard_outbox_oldest_pending_seconds')).to.be.below(7200);
    // Each attempt counted by channel and outcome, as the sender recorded it.
    const attempts = (text: string, outcome: string) => valueOf(text, 'cybercard_notifications_total', { outcome });
    expect(attempts(drained, 'sent') - attempts(queued, 'sent')).to.equal(sent.sent);
    expect(valueOf(drained, 'cybercard_notifications_total', { channel: 'email', outcome: 'sent' })).to.be.at.least(1);
  });

  it('counts a notification that could not be sent: tried again (retry), then given up (failed)', async () => {
    const recipient = `metrics-${randomBytes(4).toString('hex')}@example.test`;
    await insertOutboxMessage(ts.db, { accountId: null, channel: 'sms', recipient, template: 'no_such_template', locale: 'en' });
    const sender = { ...ts.cm.notifications, maxAttempts: 2 };
    const count = (text: string, outcome: string) => valueOf(text, 'cybercard_notifications_total', { channel: 'sms', outcome });
    const before = await scrape(ts);
    expect((await sendDueNotifications(sender)).failed).to.equal(1);
    const once = await scrape(ts);
    expect([count(once, 'retry') - count(before, 'retry'), count(once, 'failed') - count(before, 'failed')]).to.deep.equal([1, 0]);
    await ts.db('notifications_outbox').where({ recipient }).update({ next_attempt_at: ts.db.fn.now() });
    expect((await sendDueNotifications(sender)).failed).to.equal(1);
    const twice = await scrape(ts);
    expect([count(twice, 'retry') - count(once, 'retry'), count(twice, 'failed') - count(once, 'failed')]).to.deep.equal([0, 1]);
    expect(count(twice, 'sent') - count(before, 'sent')).to.equal(0);
    expect((await ts.db('notifications_outbox').where({ recipient }).first()).status).to.equal('failed');
  });

  it('serves the other metrics when the outbox cannot be read in time, its gauges NaN, and logs a warning', async function () {
    this.timeout(20_000);
    const locker = connect(testEnv.databaseUrl, 1);
    const trx = await locker.transaction();
    try {
      await trx.raw('LOCK TABLE notifications_outbox IN ACCESS EXCLUSIVE MODE');
      const res = await getMetrics(ts);
      expect(res.status).to.equal(200);
      const text = await res.text();
      expect(valueOf(text, 'cybercard_outbox_pending')).to.be.NaN;
      expect(valueOf(text, 'cybercard_outbox_oldest_pending_seconds')).to.be.NaN;
      expect(text).to.match(/^cybercard_db_pool_used_connections\{pool="main"\} \d+$/m);
      expect(text).to.match(/^cybercard_process_cpu_user_seconds_total \S+$/m);
    } finally {
      await trx.rollback();
      await locker.destroy();
    }
    expect(log.parsed().filter((l) => l.level === 40 && String(l.msg).startsWith('outbox backlog not read'))).to.have.length.at.least(1);
    // Read again once the table is free.
    expect(valueOf(await scrape(ts), 'cybercard_outbox_pending')).to.not.be.NaN;
  });

  describe('of HTTP requests', () => {
    let site: TestSite;
    let cfg: client.Configuration;
    let card: TestCard;

    before(async () => {
      site = await registerTestSite(ts, { maxAmount: 50_000 });
      cfg = await siteClient(ts, site);
      card = await cardWithLimit(ts, 100_000);
    });

    it('labels each by route template or oidc-provider route name, never by path: nothing of a payment flow shows', async () => {
      const before = await scrape(ts);
      const { uid, callback, verifier, state } = await payThroughPages(ts, cfg, site, card, 1200);
      const tokens = await client.authorizationCodeGrant(cfg, callback, { pkceCodeVerifier: verifier, expectedState: state });
      const stray = `no-such-page-${randomBytes(6).toString('hex')}`;
      expect((await fetch(`${ts.url}/${stray}`)).status).to.equal(404);
      const after = await scrape(ts);

      const delta = (labels: Record<string, string>) =>
        valueOf(after, 'cybercard_http_requests_total', labels) - valueOf(before, 'cybercard_http_requests_total', labels);
      expect(delta({ method: 'POST', route: 'token', status: '200' })).to.equal(1);
      expect(delta({ method: 'POST', route: 'pushed_authorization_request', status: '201' })).to.equal(1);
      expect(delta({ method: 'GET', route: 'authorization', status: '200' })).to.equal(1);
      expect(delta({ method: 'POST', route: '/interaction/:uid/login', status: '200' })).to.equal(1);
      // Answered by the provider's resume in the same request, and counted as the post it was.
      expect(delta({ method: 'POST', route: '/interaction/:uid/confirm', status: '303' })).to.equal(1);
      expect(delta({ method: 'GET', route: 'unmatched', status: '404' })).to.equal(1);
      const seconds = (name: string) => valueOf(after, name, { method: 'POST', route: 'token' }) - valueOf(before, name, { method: 'POST', route: 'token' });
      expect(seconds('cybercard_http_request_duration_seconds_count')).to.equal(1);
      expect(seconds('cybercard_http_request_duration_seconds_sum')).to.be.greaterThan(0);

      // A body refused by a router's prefix middleware is labelled by the prefix, not the pattern it matched with.
      const unparsable = await fetch(`${ts.url}/admin/api/sites`, {
        method: 'POST',
        headers: { authorization: `Bearer ${ts.config.secrets.operatorToken}`, 'content-type': 'application/json' },
        body: '{"name":',
      });
      expect(unparsable.status).to.equal(400);
      const later = await scrape(ts);
      expect(valueOf(later, 'cybercard_http_requests_total', { method: 'POST', route: '/admin/api/sites/*', status: '400' })).to.equal(1);

      const routes = new Set(samples(later).flatMap((x) => (x.labels.route === undefined ? [] : [x.labels.route])));
      for (const route of routes) expect(route).to.match(/^(?:\/[a-z0-9/:._-]*(?:\/\*)?|[a-z_]+)$/);
      const spaced = card.number.replace(/(\d{4})(?=\d)/g, '$1 ');
      const code = callback.searchParams.get('code')!;
      for (const secret of [uid, card.number, spaced, card.password, site.clientId, site.clientSecret, code, tokens.access_token, stray]) {
        expect(after, 'a secret of the flow is in the metrics').to.not.include(secret);
      }
    });
  });

  describe('of domain events', () => {
    let site: TestSite;
    let cfg: client.Configuration;

    before(async () => {
      site = await registerTestSite(ts, { maxAmount: 50_000 });
      cfg = await siteClient(ts, site);
    });

    const approvals = (text: string) =>
      Object.fromEntries(samples(text).filter((x) => x.name === 'cybercard_approvals_total').map((x) => [x.labels.outcome!, x.value]));
    const changes = (before: Record<string, number>, after: Record<string, number>) =>
      Object.fromEntries(Object.entries(after).flatMap(([k, v]) => (v !== (before[k] ?? 0) ? [[k, v - (before[k] ?? 0)]] : [])));

    it('counts a payment approved once, and one refused over the limit once under its refusal code', async () => {
      const card = await cardWithLimit(ts, 5_000);
      const start = approvals(await scrape(ts));
      // Every outcome is there from the start, at 0 until it happens.
      expect(start).to.include.keys('approved', 'over_limit', 'under_age', 'card_locked');
      const paid = await payThroughPages(ts, cfg, site, card, 3_000);
      expect(paid.answer.status).to.equal(303);
      const approved = approvals(await scrape(ts));
      expect(changes(start, approved)).to.deep.equal({ approved: 1 });

      const refused = await payThroughPages(ts, cfg, site, card, 3_000);
      expect(refused.answer.status).to.equal(403);
      expect(changes(approved, approvals(await scrape(ts)))).to.deep.equal({ over_limit: 1 });
    });

    it('counts a payment the age gate stops at the login, under under_age, and a plain login stopped there not at all', async () => {
      const card = await cardWithLimit(ts, 50_000);
      await ts.db('accounts').where({ id: card.accountId }).update({ birthdate: birthdateForAge(16) });
      const adultSite = await registerTestSite(ts, { maxAmount: 50_000, contentRating: 19 });
      const adultCfg = await siteClient(ts, adultSite);
      const start = approvals(await scrape(ts));
      const { url } = await payRequest(adultCfg, adultSite, [{ type: 'payment', amount: 1_000, currency: 'KRW', description: 'Late show' }]);
      const stopped = await runLogin(new Agent(ts.url), url, card);
      expect(stopped.kind === 'page' && stopped.html).to.include('This content is for 19 and over');
      const afterPayment = approvals(await scrape(ts));
      expect(changes(start, afterPayment)).to.deep.equal({ under_age: 1 });
      // A plain login refused by the same gate is no payment.
      const login = await runLogin(new Agent(ts.url), (await authRequest(adultCfg, adultSite)).url, card);
      expect(login.kind === 'page' && login.html).to.include('This content is for 19 and over');
      expect(changes(afterPayment, approvals(await scrape(ts)))).to.deep.equal({});
    });

    it('counts a refusal decided under the approval\'s lock: a holder found under age since the login', async () => {
      const card = await cardWithLimit(ts, 50_000);
      const adultSite = await registerTestSite(ts, { maxAmount: 50_000, contentRating: 19 });
      const adultCfg = await siteClient(ts, adultSite);
      const start = approvals(await scrape(ts));
      // The birthdate corrected between the login and the Approve button.
      const young = birthdateForAge(16);
      const refused = await payThroughPages(ts, adultCfg, adultSite, card, 1_000, () => ts.db('accounts').where({ id: card.accountId }).update({ birthdate: young }));
      expect(refused.answer.status).to.equal(403);
      expect(changes(start, approvals(await scrape(ts)))).to.deep.equal({ under_age: 1 });
    });

    it('counts wrong passwords and the lockout they cause; a plain login refused is no payment refused', async () => {
      const card = await cardWithLimit(ts, 1_000);
      const before = await scrape(ts);
      const max = ts.config.lockout.maxFailures;
      let last: Awaited<ReturnType<typeof runLogin>> | undefined;
      for (let i = 0; i < max; i++) {
        const req = await authRequest(cfg, site);
        last = await runLogin(new Agent(ts.url), req.url, { number: card.number, password: `Wrong-Password-${i}` });
      }
      // The failure that reached the limit locked the card: its page says so.
      expect(last?.kind === 'page' && last.status).to.equal(403);
      const after = await scrape(ts);
      const failed = (text: string, check: string) => valueOf(text, 'cybercard_failed_checks_total', { check });
      expect(failed(after, 'password') - failed(before, 'password')).to.equal(max);
      expect(failed(after, 'second_factor') - failed(before, 'second_factor')).to.equal(0);
      expect(valueOf(after, 'cybercard_card_lockouts_total') - valueOf(before, 'cybercard_card_lockouts_total')).to.equal(1);
      // Once locked, another try is refused unchecked: no failure, no second lockout.
      const again = await runLogin(new Agent(ts.url), (await authRequest(cfg, site)).url, card);
      expect(again.kind === 'page' && again.status).to.equal(403);
      const later = await scrape(ts);
      expect(failed(later, 'password')).to.equal(failed(after, 'password'));
      expect(valueOf(later, 'cybercard_card_lockouts_total')).to.equal(valueOf(after, 'cybercard_card_lockouts_total'));
      expect(changes(approvals(before), approvals(later))).to.deep.equal({});
    });
  });

  describe('of throttled attempts', () => {
    let strict: TestServer;

    before(async () => {
      // A source may fail once, then waits a minute; each client here has an address of its own.
      strict = await startCardManager({ trustProxy: true, sourceThrottle: { freeFailures: 1, windowSeconds: 900, baseDelaySeconds: 60, maxDelaySeconds: 900 } });
    });
    after(() => strict.stop());

    it('counts each attempt a source throttle refused with 429, by scope', async () => {
      const site = await registerTestSite(strict);
      const cfg = await siteClient(strict, site);
      const card = await issueTestCard(strict);
      const browser = new ForwardedAgent(strict.url, `203.0.113.${1 + Math.floor(Math.random() * 250)}`);
      const before = await scrape(strict);
      const statuses: number[] = [];
      for (let i = 0; i < 4; i++) {
        const { path, csrf } = await startInteraction(browser, (await authRequest(cfg, site)).url);
        statuses.push((await browser.post(`${path}/login`, { csrf, card_number: card.number, password: 'Wrong-Password-1' })).status);
      }
      const refused = statuses.filter((s) => s === 429).length;
      expect(refused, statuses.join()).to.be.at.least(1);
      const after = await scrape(strict);
      const throttled = (text: string, scope: string) => valueOf(text, 'cybercard_throttled_attempts_total', { scope });
      expect(throttled(after, 'ip') - throttled(before, 'ip')).to.equal(refused);
      expect(throttled(after, 'device') - throttled(before, 'device')).to.equal(refused);
      // What was refused unchecked is no failed password.
      const failed = (text: string) => valueOf(text, 'cybercard_failed_checks_total', { check: 'password' });
      expect(failed(after) - failed(before)).to.equal(statuses.length - refused);
      // The other card manager in this process counts its own requests only.
      expect(throttled(await scrape(ts), 'ip')).to.equal(0);
    });
  });

  describe('of password hashing', () => {
    it('times each hash (a card issued) and each verify (a login, an unknown card number too)', async () => {
      const count = (text: string, op: string) => valueOf(text, 'cybercard_password_hash_seconds_count', { op });
      const site = await registerTestSite(ts);
      const cfg = await siteClient(ts, site);
      const before = await scrape(ts);
      const card = await issueTestCard(ts);
      const issued = await scrape(ts);
      expect(count(issued, 'hash') - count(before, 'hash')).to.equal(1);
      expect(count(issued, 'verify') - count(before, 'verify')).to.equal(0);

      const req = await authRequest(cfg, site);
      expect((await runLogin(new Agent(ts.url), req.url, card)).kind).to.equal('redirect');
      const unknown = await authRequest(cfg, site);
      const refused = await runLogin(new Agent(ts.url), unknown.url, { number: generateCardNumber(ts.config.cards.issuerPrefix), password: 'Not-A-Card-1234' });
      expect(refused.kind === 'page' && refused.status).to.equal(401);
      const after = await scrape(ts);
      expect(count(after, 'verify') - count(issued, 'verify')).to.equal(2);
      expect(count(after, 'hash') - count(issued, 'hash')).to.equal(0);
      expect(valueOf(after, 'cybercard_password_hash_seconds_sum', { op: 'verify' })).to.be.greaterThan(valueOf(issued, 'cybercard_password_hash_seconds_sum', { op: 'verify' }));
      expect(valueOf(after, 'cybercard_password_hash_seconds_bucket', { op: 'verify', le: '+Inf' })).to.equal(count(after, 'verify'));
    });
  });

  describe('in production without METRICS_TOKEN', () => {
    let prod: TestServer;
    const prodLog = logCapture();

    before(async () => {
      // The signing key the production server needs was made by the server above.
      prod = await startCardManager(QUIET, { env: PRODUCTION_ENV, logStream: prodLog.stream });
    });
    after(() => prod?.stop());

    it('starts, serves no metrics (404 with or without a token), and says once that metrics are off', async () => {
      expect(prod.config.env).to.equal('production');
      expect(prod.config.secrets.metricsToken).to.equal(undefined);
      expect((await fetch(`${prod.url}/healthz`)).status).to.equal(200);
      for (const authorization of [null, 'Bearer anything-at-all', `Bearer ${ts.config.secrets.metricsToken}`]) {
        const res = await getMetrics(prod, authorization);
        expect(res.status, String(authorization)).to.equal(404);
        expect(await res.text()).to.not.include('cybercard_');
      }
      const off = prodLog.parsed().filter((l) => String(l.msg).startsWith('metrics are off'));
      expect(off).to.have.length(1);
    });
  });
});
