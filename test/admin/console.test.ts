import { expect } from 'chai';
import { createHmac, randomBytes } from 'node:crypto';
import { ForwardedAgent, csrfFrom, csrfOf, location } from '../helpers/agent.ts';
import { APPLY_SERVER, application, postApplication, uniqueIp, uniqueName } from '../helpers/applicant.ts';
import { issueTestCard } from '../helpers/fixtures.ts';
import { signedInHolder } from '../helpers/holder.ts';
import { alertText, unescapeHtml } from '../helpers/html.ts';
import { scrape, valueOf } from '../helpers/metrics.ts';
import { postConsoleForm, signedInOperator } from '../helpers/operator.ts';
import { endExpiredOperatorSessions } from '../../src/db/operator-sessions.ts';
import { startCardManager, type TestServer } from '../helpers/server.ts';

/** The value of a Set-Cookie line's cookie `name`, with its attributes, or undefined. */
function setCookie(res: Response, name: string): string | undefined {
  return res.headers.getSetCookie().find((l) => l.startsWith(`${name}=`));
}

/** The text of an element with this id, or undefined. */
function textOf(html: string, id: string): string | undefined {
  const m = new RegExp(`id="${id}"[^>]*>([^<]*)<`).exec(html);
  return m ? unescapeHtml(m[1]!).trim() : undefined;
}

describe('operator console', () => {
  const alice = randomBytes(32).toString('base64url');
  const bob = randomBytes(32).toString('base64url');
  const shared = randomBytes(32).toString('base64url');
  const lines: string[] = [];
  let ts: TestServer;

  before(async () => {
    ts = await startCardManager(
      {
        ...APPLY_SERVER,
        logLevel: 'info',
        // Every agent is a client address of its own (ForwardedAgent): three wrong tokens from one make it wait.
        sourceThrottle: { freeFailures: 3, baseDelaySeconds: 60 },
        cards: { ...APPLY_SERVER.cards, duplicates: 'review', denyList: { action: 'review', names: ['* consoleson'], emails: [], mobiles: [] } },
      },
      { env: { OPERATOR_TOKENS: `alice:${alice}, bob:${bob}`, OPERATOR_TOKEN: shared }, logStream: { write: (l: string) => void lines.push(l) } },
    );
  });
  after(() => ts?.stop());

  const sessions = async () => Number((await ts.db('operator_sessions').count({ n: '*' }).first())?.n);

  /** An application the deny list sends to review. */
  async function queued(name = 'Alex Consoleson'): Promise<string> {
    const { status, body } = await postApplication(ts, application({ legal_name: name }));
    expect(status, JSON.stringify(body)).to.equal(202);
    return String(body.application_id);
  }
  const applicationRow = (id: string) => ts.db('applications').where({ id }).first();

  describe('sign-in and session', () => {
    it('sends a browser without a session to the sign-in page, for pages and forms alike, doing nothing', async () => {
      const id = await queued();
      const agent = new ForwardedAgent(ts.url, uniqueIp());
      const page = await agent.get('/admin/applications');
      expect(page.status).to.equal(303);
      expect(location(page, ts.url).pathname).to.equal('/admin/signin');
      const post = await agent.post(`/admin/applications/${id}/approve`, { csrf: 'x', reason: 'no session' });
      expect(post.status).to.equal(303);
      expect(location(post, ts.url).pathname).to.equal('/admin/signin');
      expect(await applicationRow(id)).to.include({ status: 'review' });
    });

    it('shows the sign-in page in English, uncached, under the strict CSP with no script, whatever the browser language', async () => {
      const res = await fetch(`${ts.url}/admin/signin`, { headers: { 'accept-language': 'ko-KR,ko;q=0.9' } });
      expect(res.status).to.equal(200);
      expect(res.headers.get('cache-control')).to.equal('no-store');
      expect(res.headers.get('content-security-policy')).to.include("script-src 'none'");
      expect(res.headers.get('x-frame-options')).to.equal('DENY');
      const html = await res.text();
      expect(html).to.include('<html lang="en">');
      expect(html).to.include('<label for="token">Operator token</label>');
      expect(html).to.match(/<input type="password" id="token" name="token"/);
      expect(html).not.to.include('<script');
    });

    it('signs in with a named token: a fresh HttpOnly, SameSite=Strict cookie, the console as that operator, audited', async () => {
      const agent = new ForwardedAgent(ts.url, uniqueIp());
      const page = await (await agent.get('/admin/signin')).text();
      const before = await sessions();
      const res = await agent.post('/admin/signin', { csrf: csrfFrom(page), token: alice });
      expect(res.status).to.equal(303);
      expect(location(res, ts.url).pathname).to.equal('/admin/applications');
      const cookie = setCookie(res, 'cc.operator')!;
      expect(cookie).to.match(/; path=\/admin/i).and.match(/; httponly/i).and.match(/; samesite=strict/i);
      expect(cookie).not.to.match(/; secure/i).and.not.match(/max-age|expires/i);
      expect(await sessions()).to.equal(before + 1);
      const queue = await agent.get('/admin/applications');
      expect(queue.status).to.equal(200);
      expect(queue.headers.get('cache-control')).to.equal('no-store');
      expect(await queue.text()).to.include('Signed in as <strong>operator:alice</strong>');
      const audit = await ts.db('audit_log').where({ action: 'operator.signed_in', actor: 'operator:alice' }).orderBy('id', 'desc').first();
      expect(audit).to.include({ subject_type: 'operator', subject_id: 'operator:alice' });
      expect(JSON.stringify(audit)).not.to.include(alice);
    });

    it('takes a pasted token without the whitespace around it, and nothing else but the token exactly', async () => {
      const agent = new ForwardedAgent(ts.url, uniqueIp());
      const signIn = async (token: string) => agent.post('/admin/signin', { csrf: csrfFrom(await (await agent.get('/admin/signin')).text()), token });
      for (const token of [`${bob} x`, `${bob.slice(0, 10)} ${bob.slice(10)}`]) expect((await signIn(token)).status, token).to.equal(401);
      expect((await signIn(`\n  ${bob}\t \n`)).status).to.equal(303);
      expect(await (await agent.get('/admin/applications')).text()).to.include('Signed in as <strong>operator:bob</strong>');
    });

    it('signs in with the shared token as "operator", and a second sign-in in the same browser gets a new session id', async () => {
      const agent = await signedInOperator(ts.url, shared);
      const first = agent.cookies.get('cc.operator');
      const firstSig = agent.cookies.get('cc.operator.sig');
      expect(await (await agent.get('/admin/applications')).text()).to.include('Signed in as <strong>operator</strong>');
      const page = await (await agent.get('/admin/signin')).text();
      const again = await agent.post('/admin/signin', { csrf: csrfFrom(page), token: bob });
      expect(again.status).to.equal(303);
      expect(agent.cookies.get('cc.operator')).to.be.a('string').and.not.equal(first);
      expect(await (await agent.get('/admin/applications')).text()).to.include('Signed in as <strong>operator:bob</strong>');
      // The session the browser had before is gone: its cookie opens nothing any more.
      const stale = new ForwardedAgent(ts.url, uniqueIp());
      stale.cookies.set('cc.operator', first!);
      stale.cookies.set('cc.operator.sig', firstSig!);
      expect((await stale.get('/admin/applications')).status).to.equal(303);
    });

    it('refuses a wrong or empty token with the form (401/400), never echoing or logging it, and opens no session', async () => {
      const agent = new ForwardedAgent(ts.url, uniqueIp());
      const before = await sessions();
      const failedBefore = valueOf(await scrape(ts), 'cybercard_failed_checks_total', { check: 'operator_token' });
      const wrong = `${alice.slice(0, -1)}${alice.endsWith('Q') ? 'R' : 'Q'}`;
      let page = await (await agent.get('/admin/signin')).text();
      const res = await agent.post('/admin/signin', { csrf: csrfFrom(page), token: wrong });
      expect(res.status).to.equal(401);
      expect(setCookie(res, 'cc.operator')).to.equal(undefined);
      page = await res.text();
      expect(alertText(page)).to.equal('That is not an operator token of this card manager.');
      expect(textOf(page, 'token-error')).to.equal('Not an operator token.');
      expect(page).not.to.include(wrong);
      const empty = await agent.post('/admin/signin', { csrf: csrfFrom(page), token: '  ' });
      expect(empty.status).to.equal(400);
      expect(textOf(await empty.text(), 'token-error')).to.equal('Paste your operator token.');
      expect(await sessions()).to.equal(before);
      // The wrong token is counted where the operator alerts on guessing; the empty one was never checked.
      expect(valueOf(await scrape(ts), 'cybercard_failed_checks_total', { check: 'operator_token' })).to.equal(failedBefore + 1);
      expect(lines.join('\n')).not.to.include(wrong).and.not.include(alice);
    });

    it('makes a source wait after a few wrong tokens (429, Retry-After), the right token too, counted in PostgreSQL', async () => {
      const ip = uniqueIp();
      const agent = new ForwardedAgent(ts.url, ip);
      const page = await (await agent.get('/admin/signin')).text();
      const csrf = csrfFrom(page);
      const statuses: number[] = [];
      for (let i = 0; i < 4; i++) statuses.push((await agent.post('/admin/signin', { csrf, token: `guess-${i}-${randomBytes(8).toString('hex')}` })).status);
      expect(statuses).to.deep.equal([401, 401, 401, 401]);
      const refused = await agent.post('/admin/signin', { csrf, token: alice });
      expect(refused.status).to.equal(429);
      expect(Number(refused.headers.get('retry-after'))).to.be.greaterThan(0);
      expect(alertText(await refused.text())).to.match(/^Too many attempts from this network or device\. Wait \d+ seconds, then try again\.$/);
      expect(setCookie(refused, 'cc.operator')).to.equal(undefined);
      // Another instance would refuse it as well: the count is a row of the shared database.
      const row = await ts.db('throttles').where({ scope: 'ip' }).andWhere('blocked_until', '>', ts.db.fn.now()).first();
      expect(row).to.not.equal(undefined);
      // A right token from another address still signs in.
      await signedInOperator(ts.url, alice);
    });

    it('ends a session left idle past its deadline, and one older than its longest life, and moves the deadline on at each page', async () => {
      const agent = await signedInOperator(ts.url, alice);
      const deadline = async () => (await ts.db('operator_sessions').orderBy('created_at', 'desc').first('expires_at')).expires_at as Date;
      await ts.db('operator_sessions').update({ expires_at: ts.db.raw("now() + interval '60 seconds'") });
      const before = await deadline();
      expect((await agent.get('/admin/applications')).status).to.equal(200);
      expect((await deadline()).getTime()).to.be.greaterThan(before.getTime() + 1000 * 60);

      await ts.db('operator_sessions').update({ expires_at: ts.db.raw("now() - interval '1 second'") });
      const idle = await agent.get('/admin/applications');
      expect(idle.status).to.equal(303);
      expect(location(idle, ts.url).pathname).to.equal('/admin/signin');

      const other = await signedInOperator(ts.url, bob);
      await ts.db('operator_sessions').update({ created_at: ts.db.raw("now() - interval '13 hours'") });
      expect((await other.get('/admin/applications')).status).to.equal(303);
    });

    it('audits a session ended without a sign-out (idle, too old, its token gone) once, when a request finds it, with no id of it', async () => {
      const ended = (actor: string) => ts.db('audit_log').where({ action: 'operator.session_ended', subject_type: 'operator', subject_id: actor }).orderBy('id');
      const [idleBefore, oldBefore] = [(await ended('operator:alice')).length, (await ended('operator')).length];
      const idle = await signedInOperator(ts.url, alice);
      const [row] = await ts.db('operator_sessions').orderBy('created_at', 'desc').limit(1);
      await ts.db('operator_sessions').where({ id_hash: row.id_hash }).update({ expires_at: ts.db.raw("now() - interval '1 second'") });
      const found = await idle.get('/admin/applications');
      expect(found.status).to.equal(303);
      expect((await idle.get('/admin/disputes')).status).to.equal(303);
      const entries = await ended('operator:alice');
      expect(entries).to.have.length(idleBefore + 1);
      const entry = entries.at(-1);
      expect(entry).to.include({ actor: 'system', request_id: found.headers.get('x-request-id') });
      expect(entry.details).to.deep.equal({ via: 'console', reason: 'idle', signedInAt: new Date(row.created_at).toISOString(), ip: idle.ip });
      expect(JSON.stringify(entry)).not.to.include(idle.cookies.get('cc.operator')).and.not.include(Buffer.from(row.id_hash).toString('hex'));

      const old = await signedInOperator(ts.url, shared);
      await ts.db('operator_sessions').where({ actor: 'operator' }).update({ created_at: ts.db.raw("now() - interval '13 hours'") });
      expect((await old.get('/admin/applications')).status).to.equal(303);
      expect((await old.get('/admin/applications')).status).to.equal(303);
      expect((await ended('operator')).slice(oldBefore).map((e) => e.details.reason)).to.deep.equal(['max_age']);

      // The cleanup ends, audited the same way, the sessions no request comes back for.
      const left = await signedInOperator(ts.url, bob);
      const [bobs] = await ts.db('operator_sessions').orderBy('created_at', 'desc').limit(1);
      await ts.db('operator_sessions').where({ id_hash: bobs.id_hash }).update({ expires_at: ts.db.raw("now() - interval '1 second'") });
      const ofBobs = async () => (await ended('operator:bob')).filter((e) => e.details.signedInAt === new Date(bobs.created_at).toISOString());
      expect(await endExpiredOperatorSessions(ts.db, ts.config.operatorSessions.maxSeconds)).to.be.at.least(1);
      expect(await endExpiredOperatorSessions(ts.db, ts.config.operatorSessions.maxSeconds)).to.equal(0);
      expect((await left.get('/admin/applications')).status).to.equal(303);
      expect((await ofBobs()).map((e) => e.details)).to.deep.equal([{ via: 'console', reason: 'idle', signedInAt: new Date(bobs.created_at).toISOString() }]);
    });

    it('signs out with the form: the session row is gone, and its cookie replayed opens nothing', async () => {
      const agent = await signedInOperator(ts.url, alice);
      const kept = new Map(agent.cookies);
      const page = await (await agent.get('/admin/applications')).text();
      const out = await agent.post('/admin/signout', { csrf: csrfOf(page, '/admin/signout') });
      expect(out.status).to.equal(303);
      expect(location(out, ts.url).pathname).to.equal('/admin/signin');
      expect((await agent.get('/admin/applications')).status).to.equal(303);
      const replay = new ForwardedAgent(ts.url, uniqueIp());
      for (const [k, v] of kept) replay.cookies.set(k, v);
      expect((await replay.get('/admin/applications')).status).to.equal(303);
    });

    it('audits where a sign-in came from and with what role, and the sign-out of the session as the operator who signed in', async () => {
      const agent = await signedInOperator(ts.url, bob);
      const signedIn = await ts.db('audit_log').where({ action: 'operator.signed_in', actor: 'operator:bob' }).orderBy('id', 'desc').first();
      expect(signedIn.details).to.deep.equal({ via: 'console', ip: agent.ip, role: 'full' });
      const page = await (await agent.get('/admin/disputes')).text();
      const out = await agent.post('/admin/signout', { csrf: csrfOf(page, '/admin/signout') });
      expect(out.status).to.equal(303);
      const signedOut = await ts.db('audit_log').where({ action: 'operator.signed_out' }).orderBy('id', 'desc').first();
      expect(signedOut).to.include({ actor: 'operator:bob', subject_type: 'operator', subject_id: 'operator:bob', request_id: out.headers.get('x-request-id') });
      expect(signedOut.details).to.deep.equal({ via: 'console', ip: agent.ip });
      // Signing out again, with no session left, records nothing more.
      const count = async () => Number((await ts.db('audit_log').where({ action: 'operator.signed_out' }).count({ n: '*' }).first())?.n);
      const before = await count();
      const again = await agent.post('/admin/signout', { csrf: csrfOf(page, '/admin/signout') });
      expect(again.status).to.be.oneOf([303, 403]);
      expect(await count()).to.equal(before);
    });

    it('refuses a sign-out or a decision without the form’s CSRF token (403), changing nothing', async () => {
      const id = await queued();
      const agent = await signedInOperator(ts.url, alice);
      const noCsrf = await agent.post('/admin/signout', {});
      expect(noCsrf.status).to.equal(403);
      expect((await agent.get('/admin/applications')).status).to.equal(200);
      const page = await (await agent.get('/admin/applications')).text();
      // The sign-out form's token is no good for a decision.
      const res = await agent.post(`/admin/applications/${id}/approve`, { csrf: csrfOf(page, '/admin/signout'), reason: 'forged' });
      expect(res.status).to.equal(403);
      expect(res.headers.get('content-type')).to.match(/^text\/html/);
      expect(await applicationRow(id)).to.include({ status: 'review' });
    });

    it('takes only form bodies: JSON, multipart or text with the form’s own CSRF token is refused 415 with a page, changing nothing', async () => {
      const id = await queued();
      const card = await issueTestCard(ts);
      const agent = await signedInOperator(ts.url, alice);
      const queuePage = await (await agent.get('/admin/applications')).text();
      const cardPage = await (await agent.get(`/admin/cards/${card.cardId}`)).text();
      const signin = csrfFrom(await (await new ForwardedAgent(ts.url, uniqueIp()).get('/admin/signin')).text());
      const audits = async () => Number((await ts.db('audit_log').count({ n: '*' }).first())!.n);
      const before = { audits: await audits(), sessions: await sessions() };
      const approve = { csrf: csrfOf(queuePage, `/admin/applications/${id}/approve`), reason: 'as JSON' };
      const block = { csrf: csrfOf(cardPage, `/admin/cards/${card.cardId}/block`), reason: 'as JSON' };
      const multipart = new FormData();
      for (const [k, v] of Object.entries(block)) multipart.set(k, v);
      const tries: Array<[string, string, RequestInit]> = [
        ['approve as JSON', `/admin/applications/${id}/approve`, { headers: { 'content-type': 'application/json' }, body: JSON.stringify(approve) }],
        ['block as JSON', `/admin/cards/${card.cardId}/block`, { headers: { 'content-type': 'application/json' }, body: JSON.stringify(block) }],
        ['block as multipart', `/admin/cards/${card.cardId}/block`, { body: multipart }],
        ['block as text', `/admin/cards/${card.cardId}/block`, { headers: { 'content-type': 'text/plain' }, body: new URLSearchParams(block).toString() }],
        ['sign-out as JSON', '/admin/signout', { headers: { 'content-type': 'application/json' }, body: JSON.stringify({ csrf: csrfOf(queuePage, '/admin/signout') }) }],
        ['sign-in as JSON', '/admin/signin', { headers: { 'content-type': 'application/json' }, body: JSON.stringify({ csrf: signin, token: bob }) }],
      ];
      for (const [what, path, init] of tries) {
        const res = await agent.request(path, { method: 'POST', ...init });
        expect(res.status, what).to.equal(415);
        expect(res.headers.get('content-type'), what).to.match(/^text\/html/);
        expect(alertText(await res.text()), what).to.equal('Send this form as a browser does (application/x-www-form-urlencoded).');
      }
      expect(await applicationRow(id)).to.include({ status: 'review' });
      expect((await ts.db('cards').where({ id: card.cardId }).first()).status).to.equal('active');
      expect({ audits: await audits(), sessions: await sessions() }).to.deep.equal(before);
      // The same form as a browser sends it goes through.
      expect((await agent.post(`/admin/cards/${card.cardId}/block`, block)).status).to.equal(303);
    });

    it('takes only CSRF tokens made for this session: a CSRF cookie planted by a same-site page forges no decision [cookie tossing]', async () => {
      const id = await queued();
      const victim = await signedInOperator(ts.url, alice);
      // Any visitor gets a signed CSRF cookie whose value is the secret; a page on the same site (another port of the
      // host, a sibling subdomain) can plant that pair in the operator's browser, where the strict session cookie goes too.
      const attacker = new ForwardedAgent(ts.url, uniqueIp());
      await attacker.get('/admin/signin');
      const secret = attacker.cookies.get('cc.csrf')!;
      victim.cookies.set('cc.csrf', secret);
      victim.cookies.set('cc.csrf.sig', attacker.cookies.get('cc.csrf.sig')!);
      for (const purpose of ['admin:applications', 'admin:signout']) {
        const forged = createHmac('sha256', decodeURIComponent(secret)).update(purpose).digest('base64url');
        const path = purpose === 'admin:signout' ? '/admin/signout' : `/admin/applications/${id}/approve`;
        const res = await victim.post(path, { csrf: forged, reason: 'planted' });
        expect(res.status, path).to.equal(403);
        expect(res.headers.get('cache-control')).to.equal('no-store');
      }
      expect(await applicationRow(id)).to.include({ status: 'review' });
      expect((await victim.get('/admin/applications')).status).to.equal(200);
      // A token of an earlier session in the same browser is no good either, once signed in again.
      const before = await (await victim.get('/admin/applications')).text();
      const again = await victim.post('/admin/signin', { csrf: csrfFrom(await (await victim.get('/admin/signin')).text()), token: alice });
      expect(again.status).to.equal(303);
      const stale = await victim.post(`/admin/applications/${id}/approve`, { csrf: csrfOf(before, `/admin/applications/${id}/approve`), reason: 'stale' });
      expect(stale.status).to.equal(403);
      // The page's own form, as the browser shows it, still works.
      const ok = await postConsoleForm(victim, '/admin/applications', `/admin/applications/${id}/approve`, { reason: 'looked at it' });
      expect(ok.status).to.equal(303);
      expect(await applicationRow(id)).to.include({ status: 'approved' });
    });

    it('marks every console answer no-store: the redirect to sign in, a refused sign-in form, a CSRF refusal, an ended session', async () => {
      const stranger = new ForwardedAgent(ts.url, uniqueIp());
      for (const res of [
        await stranger.get('/admin/applications'),
        await stranger.post('/admin/cards/search', { csrf: 'x', number: '4000000000000002' }),
        await stranger.post('/admin/signin', { token: alice }),
        await stranger.post('/admin/signout', { csrf: 'x' }),
      ]) {
        expect(res.status, res.url).to.be.oneOf([303, 403]);
        expect(res.headers.get('cache-control'), `${res.status} ${res.url}`).to.equal('no-store');
      }
      const agent = await signedInOperator(ts.url, alice);
      expect((await agent.post('/admin/signout', {})).headers.get('cache-control')).to.equal('no-store');
      await ts.db('operator_sessions').update({ expires_at: ts.db.raw("now() - interval '1 second'") });
      const ended = await agent.get('/admin/disputes');
      expect(ended.status).to.equal(303);
      expect(ended.headers.get('cache-control')).to.equal('no-store');
    });

    it('does not open for a holder signed in on their own pages, nor for their cookie under the console’s name', async () => {
      const card = await issueTestCard(ts);
      const holder = await signedInHolder(ts.url, card);
      const res = await holder.get('/admin/applications');
      expect(res.status).to.equal(303);
      expect(location(res, ts.url).pathname).to.equal('/admin/signin');
      const forged = new ForwardedAgent(ts.url, uniqueIp());
      forged.cookies.set('cc.operator', holder.cookies.get('cc.holder')!);
      forged.cookies.set('cc.operator.sig', holder.cookies.get('cc.holder.sig')!);
      expect((await forged.get('/admin/applications')).status).to.equal(303);
    });

    it('does not open for the API’s bearer token, and its cookie opens no API: /admin/api wants the bearer token, answering JSON', async () => {
      const id = await queued();
      const bearer = new ForwardedAgent(ts.url, uniqueIp());
      const page = await bearer.request('/admin/applications', { headers: { authorization: `Bearer ${alice}` } });
      expect(page.status).to.equal(303);
      expect(location(page, ts.url).pathname).to.equal('/admin/signin');
      const agent = await signedInOperator(ts.url, alice);
      for (const [method, path] of [['GET', '/admin/api/applications'], ['POST', `/admin/api/applications/${id}/approve`]] as const) {
        const res = await agent.request(path, { method, headers: { 'content-type': 'application/json' }, ...(method === 'POST' ? { body: '{}' } : {}) });
        expect(res.status, path).to.equal(401);
        expect(res.headers.get('content-type')).to.match(/^application\/json/);
        expect(((await res.json()) as { error: string }).error).to.equal('unauthorized');
      }
      expect(await applicationRow(id)).to.include({ status: 'review' });
    });

    it('ends the sessions of a token no longer configured (another instance, OPERATOR_TOKENS without it)', async () => {
      const agent = await signedInOperator(ts.url, alice);
      const without = await startCardManager({ ...APPLY_SERVER }, { env: { OPERATOR_TOKENS: `bob:${bob}` } });
      try {
        const elsewhere = new ForwardedAgent(without.url, uniqueIp());
        for (const [k, v] of agent.cookies) elsewhere.cookies.set(k, v);
        expect((await elsewhere.get('/admin/applications')).status).to.equal(303);
        expect((await elsewhere.get('/admin/applications')).status).to.equal(303);
        const gone = await ts.db('audit_log').where({ action: 'operator.session_ended', subject_id: 'operator:alice' }).orderBy('id', 'desc');
        expect(gone.filter((e) => e.details.reason === 'token_removed')).to.have.length(1);
        expect(gone[0].details).to.include({ via: 'console', reason: 'token_removed', ip: elsewhere.ip });
      } finally {
        await without.stop();
      }
    });
  });

  describe('review queue /admin/applications', () => {
    it('lists the applications in review, as the API does, each with approve and reject', async () => {
      const id = await queued('Dana Consoleson');
      const agent = await signedInOperator(ts.url, alice);
      const html = await (await agent.get('/admin/applications')).text();
      const api = (await (await fetch(`${ts.url}/admin/api/applications`, { headers: { authorization: `Bearer ${alice}` } })).json()) as {
        applications: Array<{ id: string }>;
      };
      const shown = [...html.matchAll(/<section class="queue-item" id="application-([0-9a-f-]+)"/g)].map((m) => m[1]);
      expect(shown).to.deep.equal(api.applications.map((a) => a.id));
      expect(html).to.include('<h2 id="name-' + id + '">Dana Consoleson</h2>');
      expect(html).to.include(`action="/admin/applications/${id}/approve"`).and.include(`action="/admin/applications/${id}/reject"`);
      // cards.duplicates is 'review' here: the approval may go past a duplicate.
      expect(html).to.include(`id="dup-${id}" name="accept_duplicate"`);
    });

    it('shows why each application was sent to review, and what a check finds now that the approval weighs', async () => {
      const name = `${uniqueName('Quinn')} Consoleson`;
      const app = application({ legal_name: name });
      const { body } = await postApplication(ts, app);
      const id = String(body.application_id);
      // One sent to review for a duplicate email, whose other holder's card is closed since: a check finds nothing now.
      const other = await issueTestCard(ts);
      const sameEmail = application();
      await ts.db('accounts').where({ id: other.accountId }).update({ email: String(sameEmail.email) });
      const sent = await postApplication(ts, sameEmail);
      expect(sent.body.review_reason).to.equal('duplicate_email');
      const plain = String(sent.body.application_id);
      await ts.db('cards').where({ id: other.cardId }).update({ status: 'closed' });
      // While it waits: a holder of the same name and date of birth is issued a card, and an account on its email,
      // closed, comes to owe.
      await issueTestCard(ts, String(app.birthdate), name);
      const owing = await issueTestCard(ts);
      await ts.db('accounts').where({ id: owing.accountId }).update({ email: String(app.email), posted_balance: 5_000 });
      await ts.db('cards').where({ id: owing.cardId }).update({ status: 'closed' });

      const agent = await signedInOperator(ts.url, alice);
      const html = await (await agent.get('/admin/applications')).text();
      const item = (of: string) => html.slice(html.indexOf(`id="application-${of}"`), html.indexOf('</section>', html.indexOf(`id="application-${of}"`)));
      const why = /id="why-[^"]+">(.*?)<\/dd>/.exec(item(id))?.[1] ?? '';
      expect(unescapeHtml(why.replace(/<[^>]+>/g, ''))).to.equal('denied: the name, email or mobile matches the deny list');
      const found = [...item(id).matchAll(/<li id="found-[^"]+">(.*?)<\/li>/g)].map((m) => unescapeHtml(m[1]!.replace(/<[^>]+>/g, '')).trim());
      expect(found).to.deep.equal([
        'denied: the name, email or mobile matches the deny list',
        'balance_owed: an account with this email address or mobile number still owes money (it may be closed)',
        'duplicate_person: a holder of an open card has this name and date of birth: the same person with new contacts, or two people?',
      ]);
      expect(textOf(item(plain), `found-none-${plain}`)).to.equal('Nothing.');

      // The API shows the same, beside the application.
      const shown = (await (await fetch(`${ts.url}/admin/api/applications/${id}`, { headers: { authorization: `Bearer ${alice}` } })).json()) as {
        reason: string;
        findings: Array<{ code: string; about: string }>;
      };
      expect(shown.reason).to.equal('denied');
      expect(shown.findings.map((f) => f.code)).to.deep.equal(['denied', 'balance_owed', 'duplicate_person']);
      // The approval weighs the debt (cards.duplicates 'review' here: the operator accepts it knowingly).
      const approve = await postConsoleForm(agent, '/admin/applications', `/admin/applications/${id}/approve`, { reason: 'checked' });
      expect(approve.status).to.equal(409);
      expect(alertText(await approve.text())).to.include('still owes money');
    });

    it('approves through the API’s decision, audited as the operator signed in, then says so', async () => {
      const id = await queued();
      const agent = await signedInOperator(ts.url, bob);
      const res = await postConsoleForm(agent, '/admin/applications', `/admin/applications/${id}/approve`, { reason: 'identity checked by phone' });
      expect(res.status).to.equal(303);
      const html = await (await agent.get(location(res, ts.url))).text();
      expect(textOf(html, 'notice')).to.equal('Approved: the card is active and the applicant has been told.');
      expect(html).not.to.include(`id="application-${id}"`);
      expect(await applicationRow(id)).to.include({ status: 'approved', decided_by: 'operator:bob', decision_note: 'identity checked by phone' });
      const audit = await ts.db('audit_log').where({ action: 'application.approved', subject_id: id }).first();
      expect(audit.actor).to.equal('operator:bob');
    });

    it('rejects with a reason, audited as the operator; asked again, changes nothing', async () => {
      const id = await queued();
      const agent = await signedInOperator(ts.url, shared);
      const csrf = csrfOf(await (await agent.get('/admin/applications')).text(), `/admin/applications/${id}/reject`);
      const res = await agent.post(`/admin/applications/${id}/reject`, { csrf, reason: 'could not confirm identity' });
      expect(res.status).to.equal(303);
      expect(await applicationRow(id)).to.include({ status: 'rejected', decided_by: 'operator' });
      const again = await agent.post(`/admin/applications/${id}/reject`, { csrf, reason: 'again' });
      expect(again.status).to.equal(303);
      expect(textOf(await (await agent.get(location(again, ts.url))).text(), 'notice')).to.equal('That decision had already been made: nothing changed.');
      // The other decision is refused, and says why.
      const other = await agent.post(`/admin/applications/${id}/approve`, { csrf, reason: 'changed my mind' });
      expect(other.status).to.equal(409);
      expect(alertText(await other.text())).to.equal('This application was already rejected.');
      expect(await applicationRow(id)).to.include({ status: 'rejected', decision_note: 'could not confirm identity' });
    });

    it('refuses bad input on every form with a 4xx, the form refilled, and the database unchanged', async () => {
      const id = await queued();
      const agent = await signedInOperator(ts.url, alice);
      const page = await (await agent.get('/admin/applications')).text();
      const csrf = csrfOf(page, `/admin/applications/${id}/reject`);
      const before = await ts.db('audit_log').count({ n: '*' }).first();
      const row = await applicationRow(id);

      const noReason = await agent.post(`/admin/applications/${id}/reject`, { csrf, reason: '   ' });
      expect(noReason.status).to.equal(400);
      expect(textOf(await noReason.text(), `reason-reject-${id}-error`)).to.equal('Say why (it goes into the audit trail).');

      const long = 'x'.repeat(501);
      const tooLong = await agent.post(`/admin/applications/${id}/approve`, { csrf, reason: long });
      expect(tooLong.status).to.equal(400);
      const tooLongPage = await tooLong.text();
      expect(textOf(tooLongPage, `reason-approve-${id}-error`)).to.equal('Use at most 500 characters.');
      expect(tooLongPage).to.match(new RegExp(`id="reason-approve-${id}" name="reason" value="${long}"`));

      const control = await agent.post(`/admin/applications/${id}/approve`, { csrf, reason: 'tab\u0007bell' });
      expect(control.status).to.equal(400);

      const checkbox = await agent.post(`/admin/applications/${id}/approve`, { csrf, reason: 'kept reason', accept_duplicate: 'yes' });
      expect(checkbox.status).to.equal(400);
      const checkboxPage = await checkbox.text();
      expect(textOf(checkboxPage, `dup-${id}-error`)).to.equal('Only when approving past a duplicate, as the review queue allows.');
      expect(checkboxPage).to.match(new RegExp(`id="reason-approve-${id}" name="reason" value="kept reason"`));

      const notAnId = await agent.post('/admin/applications/not-an-id/approve', { csrf, reason: '' });
      expect(notAnId.status).to.equal(404);
      expect(alertText(await notAnId.text())).to.equal('There is no such application.');
      const unknown = await agent.post(`/admin/applications/${crypto.randomUUID()}/reject`, { csrf, reason: 'who' });
      expect(unknown.status).to.equal(404);

      expect(await applicationRow(id)).to.deep.equal(row);
      expect(await ts.db('audit_log').count({ n: '*' }).first()).to.deep.equal(before);
    });
  });
});
