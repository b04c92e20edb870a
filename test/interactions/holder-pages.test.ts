import { expect } from 'chai';
import { Secret, TOTP } from 'otpauth';
import { Agent, csrfFrom, csrfOf, location } from '../helpers/agent.ts';
import { reportLost } from '../../src/cards/report-lost.ts';
import { endExpiredHolderSessions } from '../../src/db/holder-sessions.ts';
import { issueTestCard, registerTestSite, type TestCard } from '../helpers/fixtures.ts';
import { alertText, fieldError, inputValue } from '../helpers/html.ts';
import { findThrottle } from '../../src/db/throttles.ts';
import { cardThrottleKey } from '../../src/throttles/check-card-password.ts';
import { startCardManager, type TestServer } from '../helpers/server.ts';

/** The csrf token of the form posting to `action` (holder pages also carry the sign-out form). */
describe('holder sign-in, spending controls and second factor', () => {
  let ts: TestServer;
  before(async () => {
    ts = await startCardManager();
  });
  after(() => ts.stop());

  async function signedIn(card: TestCard): Promise<Agent> {
    const agent = new Agent(ts.url);
    const page = await (await agent.get('/card/signin')).text();
    const res = await agent.post('/card/signin', { csrf: csrfFrom(page), card_number: card.number, password: card.password });
    expect(res.status).to.equal(303);
    expect(location(res, ts.url).pathname).to.equal('/card/account');
    return agent;
  }

  const controlsRow = async (card: TestCard) =>
    ts.db('accounts').where({ id: card.accountId }).select('max_per_approval', 'monthly_cap', 'blocked_sites', 'adult_content_off').first();

  const putJson = (agent: Agent, path: string, body: unknown, contentType = 'application/json') =>
    agent.request(path, { method: 'PUT', headers: { 'content-type': contentType, accept: 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body) });
  const postJson = (agent: Agent, path: string, body: unknown) =>
    agent.request(path, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json' }, body: JSON.stringify(body) });

  it('signs the holder in with a signed HttpOnly SameSite=Lax cookie, keeps only a hash in PostgreSQL, and signs out', async () => {
    const card = await issueTestCard(ts);
    const agent = new Agent(ts.url);
    const page = await (await agent.get('/card/signin?next=/card/security')).text();
    const res = await agent.post('/card/signin', { csrf: csrfFrom(page), card_number: card.number, password: card.password, next: '/card/security' });
    expect(location(res, ts.url).pathname).to.equal('/card/security');
    const cookie = res.headers.getSetCookie().find((c) => c.startsWith('cc.holder='))!;
    expect(cookie).to.match(/httponly/i).and.match(/samesite=lax/i);
    const id = agent.cookies.get('cc.holder')!;
    const rows = await ts.db('holder_sessions').where({ account_id: card.accountId });
    expect(rows).to.have.length(1);
    expect(Buffer.from(rows[0].id_hash).toString('hex')).to.not.include(Buffer.from(id).toString('hex'));
    expect((await agent.get('/card/security')).status).to.equal(200);
    const controls = await (await agent.get('/card/controls')).text();
    const signout = /action="\/card\/signout"[\s\S]*?name="csrf" value="([^"]+)"/.exec(controls)![1]!;
    const out = await agent.post('/card/signout', { csrf: signout });
    expect(out.status).to.equal(303);
    expect(await ts.db('holder_sessions').where({ account_id: card.accountId })).to.have.length(0);
    // The sign-in page it lands on says the sign-out worked, in the page's language.
    const landed = await agent.get(location(out, ts.url).pathname + location(out, ts.url).search);
    const said = (html: string) => /<p role="status" id="signed-out">([^<]*)</.exec(html)?.[1];
    expect(said(await landed.text())).to.equal('You are signed out of your card pages.');
    const ko = await agent.request(location(out, ts.url).pathname + location(out, ts.url).search, { headers: { 'accept-language': 'ko' } });
    expect(said(await ko.text())).to.equal('카드 관리 페이지에서 로그아웃되었습니다.');
    // A plain visit of the sign-in page says nothing of it.
    expect(await (await agent.get('/card/signin')).text()).to.not.include('id="signed-out"');
    const api = await agent.request('/api/holder/controls', { headers: { accept: 'application/json' } });
    expect(api.status).to.equal(401);
  });

  it('ends the session a browser had when it signs in again, as another card or the same: a new id, the old one dead', async () => {
    const [first, second] = [await issueTestCard(ts), await issueTestCard(ts)];
    const agent = await signedIn(first);
    const old = { id: agent.cookies.get('cc.holder')!, sig: agent.cookies.get('cc.holder.sig')! };
    const form = await (await agent.get('/card/signin')).text();
    const again = await agent.post('/card/signin', { csrf: csrfFrom(form), card_number: second.number, password: second.password });
    expect(again.status).to.equal(303);
    expect(agent.cookies.get('cc.holder')).to.not.equal(old.id);
    expect(await ts.db('holder_sessions').where({ account_id: first.accountId })).to.have.length(0);
    // Whoever kept a copy of the old cookie has nothing.
    const copy = new Agent(ts.url);
    copy.cookies.set('cc.holder', old.id);
    copy.cookies.set('cc.holder.sig', old.sig);
    const refused = await copy.get('/card/account');
    expect(refused.status).to.equal(303);
    expect(location(refused, ts.url).pathname).to.equal('/card/signin');
    expect((await agent.get('/card/account')).status).to.equal(200);
  });

  it("sends a GET of a form's own address (a reload, a sign-in's way back) to the page the form is on, not a 404", async () => {
    const card = await issueTestCard(ts);
    for (const [path, page] of [
      ['/card/security/totp', '/card/security'],
      ['/card/security/totp/confirm', '/card/security'],
      ['/card/contacts/language', '/card/contacts'],
      [`/card/wards/${card.accountId}/limit`, '/card/wards'],
    ] as const) {
      // Signed out: on to the form's page, which asks for a sign-in; a post that found the session gone (requireHolder
      // sends it to the sign-in with the post's address as `next`) comes back to the address, then on to the page.
      const agent = new Agent(ts.url);
      const out = await agent.get(path);
      expect(out.status, path).to.equal(303);
      expect(location(out, ts.url).pathname, path).to.equal(page);
      const toSignIn = await agent.get(page);
      expect(location(toSignIn, ts.url).pathname, path).to.equal('/card/signin');
      const form = await (await agent.get(`/card/signin?next=${encodeURIComponent(path)}`)).text();
      const signedIn = await agent.post('/card/signin', { csrf: csrfFrom(form), card_number: card.number, password: card.password, next: path });
      expect(location(signedIn, ts.url).pathname, path).to.equal(path);
      const back = await agent.get(path);
      expect(back.status, path).to.equal(303);
      expect(location(back, ts.url).pathname, path).to.equal(page);
      expect((await agent.get(page)).status, page).to.equal(200);
    }
  });

  it('sends a visitor without a session to the sign-in page, and an API caller a 401', async () => {
    const stranger = new Agent(ts.url);
    const page = await stranger.get('/card/controls');
    expect(page.status).to.equal(303);
    expect(location(page, ts.url).pathname + location(page, ts.url).search).to.equal('/card/signin?next=%2Fcard%2Fcontrols');
    expect((await stranger.request('/api/holder/totp', { headers: { accept: 'application/json' } })).status).to.equal(401);
    stranger.cookies.set('cc.holder', 'forged-value-forged-value-forged-value-forged');
    expect((await stranger.get('/card/security')).status).to.equal(303);
  });

  it('refuses bad sign-in input with the form, and counts wrong passwords towards the card lockout', async () => {
    const card = await issueTestCard(ts);
    const agent = new Agent(ts.url);
    const csrf = csrfFrom(await (await agent.get('/card/signin')).text());
    const empty = await agent.post('/card/signin', { csrf, card_number: '', password: '' });
    expect(empty.status).to.equal(400);
    expect(await empty.text()).to.include('Enter the 16-digit card number.');
    const noCsrf = await agent.post('/card/signin', { card_number: card.number, password: card.password });
    expect(noCsrf.status).to.equal(403);
    const evil = await agent.post('/card/signin', { csrf, card_number: card.number, password: 'x', next: 'https://evil.example/' });
    expect(evil.status).to.equal(401);
    for (let i = 0; i < 3; i++) {
      const wrong = await agent.post('/card/signin', { csrf, card_number: card.number, password: `no-${i}` });
      expect(wrong.status).to.equal(401);
      // Each says the policy, never the card's count.
      expect(alertText(await wrong.text())).to.equal('The card number or password is not correct. 5 wrong passwords lock the card for a while.');
    }
    expect((await agent.post('/card/signin', { csrf, card_number: card.number, password: 'fifth' })).status).to.equal(423);
    const locked = await agent.post('/card/signin', { csrf, card_number: card.number, password: card.password });
    expect(locked.status).to.equal(423);
    const lockedHtml = await locked.text();
    expect(lockedHtml).to.include('This card is locked');
    expect(lockedHtml).to.include('<p id="unlock"><a href="/card/password/reset">Reset your password to unlock the card</a></p>');
    expect(await ts.db('holder_sessions').where({ account_id: card.accountId })).to.have.length(0);
  });

  it('refuses a lost card with a link to the New card number page', async () => {
    const card = await issueTestCard(ts);
    await reportLost(ts.db, { cardId: card.cardId, actor: 'test', reason: 'lost', proof: 'operator' });
    const agent = new Agent(ts.url);
    const csrf = csrfFrom(await (await agent.get('/card/signin')).text());
    const res = await agent.post('/card/signin', { csrf, card_number: card.number, password: card.password });
    expect(res.status).to.equal(403);
    const html = await res.text();
    expect(alertText(html)).to.equal('This card was reported lost and is blocked. If you already have its new number, use that one; if not, get one on the New card number page.');
    expect(html).to.include('<p id="reissue"><a href="/card/reissue">Get a new card number</a></p>');
  });

  it('sets the spending controls on the page and through the API, refusing bad input with the database unchanged', async () => {
    const card = await issueTestCard(ts);
    const site = await registerTestSite(ts);
    const agent = await signedIn(card);
    const page = await (await agent.get('/card/controls')).text();
    const csrf = csrfOf(page, '/card/controls');
    expect(page).to.include(`name="block_${site.clientId}"`);

    const saved = await agent.post('/card/controls', { csrf, max_per_approval: '5000', monthly_cap: '', adult_content_off: 'on', [`block_${site.clientId}`]: 'on' });
    expect(saved.status).to.equal(200);
    expect(await saved.text()).to.include('Your spending controls are saved.');
    const row = await controlsRow(card);
    expect(Number(row.max_per_approval)).to.equal(5000);
    expect(row.monthly_cap).to.equal(null);
    expect(row.adult_content_off).to.equal(true);
    expect(row.blocked_sites).to.deep.equal([site.clientId]);

    // Typed as the pages show amounts: 1,000 is a thousand.
    expect((await agent.post('/card/controls', { csrf, max_per_approval: '1,000', monthly_cap: '', adult_content_off: 'on', [`block_${site.clientId}`]: 'on' })).status).to.equal(200);
    expect(Number((await controlsRow(card)).max_per_approval)).to.equal(1000);
    // Back up to 5,000: a raise, with the card password again.
    await agent.post('/card/controls', { csrf, max_per_approval: '5000', monthly_cap: '', adult_content_off: 'on', [`block_${site.clientId}`]: 'on', password: card.password });
    for (const bad of ['-5', '1.5', 'abc', '0', '99999999999999', '1,00', '1,5']) {
      const res = await agent.post('/card/controls', { csrf, max_per_approval: bad, monthly_cap: '' });
      const html = await res.text();
      expect(res.status, bad).to.equal(400);
      expect(fieldError(html, 'max_per_approval'), bad).to.equal('Enter a whole amount from 1 KRW to 1,000,000,000,000 KRW, or leave it empty for no limit.');
      expect(html).to.include(`value="${bad}"`);
    }
    const korean = await agent.request('/card/controls', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'accept-language': 'ko' },
      body: new URLSearchParams({ csrf, max_per_approval: 'abc', monthly_cap: '' }).toString(),
    });
    expect(fieldError(await korean.text(), 'max_per_approval')).to.equal('1원부터 1,000,000,000,000원까지의 금액을 정수로 입력하거나, 제한이 없으면 비워 두세요.');
    expect((await agent.post('/card/controls', { csrf, [`block_${site.clientId}`]: 'yes' })).status).to.equal(400);
    expect((await agent.post('/card/controls', { max_per_approval: '1' })).status).to.equal(403);
    expect(await controlsRow(card)).to.deep.equal(row);

    const api = await putJson(agent, '/api/holder/controls', { max_per_approval: null, monthly_cap: 20000, blocked_sites: [], adult_content_off: false, password: card.password });
    expect(api.status).to.equal(200);
    expect(await api.json()).to.deep.equal({ max_per_approval: null, monthly_cap: 20000, blocked_sites: [], adult_content_off: false });
    const after = await controlsRow(card);
    for (const [body, field] of [
      [{ max_per_approval: -1, monthly_cap: null, blocked_sites: [], adult_content_off: false }, 'max_per_approval'],
      [{ max_per_approval: 1.5, monthly_cap: null, blocked_sites: [], adult_content_off: false }, 'max_per_approval'],
      [{ max_per_approval: '100', monthly_cap: null, blocked_sites: [], adult_content_off: false }, 'max_per_approval'],
      [{ max_per_approval: null, monthly_cap: null, blocked_sites: ['site_nobody'], adult_content_off: false }, 'blocked_sites'],
      [{ max_per_approval: null, monthly_cap: null, blocked_sites: [], adult_content_off: 'yes' }, 'adult_content_off'],
      [{ max_per_approval: null, monthly_cap: null, blocked_sites: [], adult_content_off: false, surprise: 1 }, 'body'],
    ] as const) {
      const res = await putJson(agent, '/api/holder/controls', body);
      const json = (await res.json()) as { error: string; fields: Record<string, string> };
      expect(res.status, JSON.stringify(body)).to.equal(400);
      expect(Object.keys(json.fields), JSON.stringify(body)).to.include(field);
    }
    expect((await putJson(agent, '/api/holder/controls', 'max_per_approval=1', 'application/x-www-form-urlencoded')).status).to.equal(415);
    // A NUL character, which PostgreSQL's text cannot hold: the client's error, not the server's.
    const nul = await putJson(agent, '/api/holder/controls', { max_per_approval: null, monthly_cap: null, blocked_sites: ['x\u0000'], adult_content_off: false });
    expect(nul.status).to.equal(400);
    expect(((await nul.json()) as { error: string }).error).to.equal('invalid_request');
    expect(await controlsRow(card)).to.deep.equal(after);
  });

  it('refills a refused controls form with the boxes as they were ticked, not as they are saved', async () => {
    const card = await issueTestCard(ts);
    const site = await registerTestSite(ts);
    const other = await registerTestSite(ts);
    const agent = await signedIn(card);
    const csrf = csrfOf(await (await agent.get('/card/controls')).text(), '/card/controls');
    // Saved: adult content on, the other site blocked. Posted with a bad amount: adult content off, this site blocked.
    expect((await agent.post('/card/controls', { csrf, max_per_approval: '', monthly_cap: '', [`block_${other.clientId}`]: 'on' })).status).to.equal(200);
    const before = await controlsRow(card);
    const res = await agent.post('/card/controls', { csrf, max_per_approval: 'abc', monthly_cap: '', adult_content_off: 'on', [`block_${site.clientId}`]: 'on' });
    expect(res.status).to.equal(400);
    const html = await res.text();
    const ticked = (name: string) => new RegExp(`<input type="checkbox" name="${name}" value="on"[^>]* checked`).test(html);
    expect([ticked('adult_content_off'), ticked(`block_${site.clientId}`), ticked(`block_${other.clientId}`)]).to.deep.equal([true, true, false]);
    expect(await controlsRow(card)).to.deep.equal(before);
    // A plain visit shows what is saved.
    const shown = await (await agent.get('/card/controls')).text();
    const savedTick = (name: string) => new RegExp(`<input type="checkbox" name="${name}" value="on"[^>]* checked`).test(shown);
    expect([savedTick('adult_content_off'), savedTick(`block_${site.clientId}`), savedTick(`block_${other.clientId}`)]).to.deep.equal([false, false, true]);
  });

  it('loosens the controls only with the card password again: raising or removing a limit, unblocking a site, allowing adult content', async () => {
    const card = await issueTestCard(ts);
    const site = await registerTestSite(ts);
    const agent = await signedIn(card);
    const csrf = csrfOf(await (await agent.get('/card/controls')).text(), '/card/controls');
    const strict = { max_per_approval: '5000', monthly_cap: '20000', adult_content_off: 'on', [`block_${site.clientId}`]: 'on' };
    // Tightening needs nothing more than the session: the quick way to protect the card.
    expect((await agent.post('/card/controls', { csrf, ...strict })).status).to.equal(200);
    const tight = await controlsRow(card);
    const key = { scope: 'card' as const, key: cardThrottleKey(ts.config.secrets.cardHmacKey, card.number)! };

    const { adult_content_off: _adult, [`block_${site.clientId}`]: _block, ...unticked } = strict;
    const loosenings: Array<Record<string, string>> = [
      { ...strict, max_per_approval: '9000' },
      { ...strict, monthly_cap: '' },
      { ...strict, adult_content_off: '' },
      { max_per_approval: '5000', monthly_cap: '20000', adult_content_off: 'on' },
      unticked,
    ];
    for (const form of loosenings) {
      const clean = Object.fromEntries(Object.entries(form).filter(([, v]) => v !== ''));
      const res = await agent.post('/card/controls', { csrf, ...clean });
      const html = await res.text();
      expect(res.status, JSON.stringify(form)).to.equal(400);
      expect(fieldError(html, 'password'), JSON.stringify(form)).to.equal('Type your card password to raise or remove a limit, unblock a site or allow adult content.');
      expect(await controlsRow(card), JSON.stringify(form)).to.deep.equal(tight);
    }
    // A wrong password is a guess: refused, counted towards the card lockout, on the holder's activity, never shown again.
    const wrong = await agent.post('/card/controls', { csrf, ...strict, max_per_approval: '9000', password: 'not my password' });
    expect(wrong.status).to.equal(401);
    const wrongHtml = await wrong.text();
    expect(fieldError(wrongHtml, 'password')).to.equal('The card password is not correct.');
    expect(wrongHtml).to.not.include('not my password');
    expect(inputValue(wrongHtml, 'max_per_approval')).to.equal('9000');
    expect((await findThrottle(ts.db, key))?.count).to.equal(1);
    const audited = await ts.db('audit_log').where({ action: 'card.password_failed', subject_id: card.cardId });
    expect(audited.map((r: { details: { page: string } }) => r.details.page)).to.deep.equal(['spending_controls']);
    const activity = await (await agent.get('/card/activity')).text();
    expect(activity).to.include('Wrong password when changing the spending controls.');
    expect(await controlsRow(card)).to.deep.equal(tight);

    // With it, every loosening at once.
    const loose = await agent.post('/card/controls', { csrf, max_per_approval: '', monthly_cap: '', password: card.password });
    expect(loose.status).to.equal(200);
    expect(await controlsRow(card)).to.deep.include({ max_per_approval: null, monthly_cap: null, adult_content_off: false, blocked_sites: [] });

    // The API the same: a loosening without `password` is a field error and not a guess; with it, saved.
    expect((await putJson(agent, '/api/holder/controls', { max_per_approval: 100, monthly_cap: null, blocked_sites: [site.clientId], adult_content_off: true })).status).to.equal(200);
    const raise = { max_per_approval: 200, monthly_cap: null, blocked_sites: [site.clientId], adult_content_off: true };
    const refused = await putJson(agent, '/api/holder/controls', raise);
    expect(refused.status).to.equal(400);
    expect(((await refused.json()) as { fields: Record<string, string> }).fields).to.have.property('password');
    expect(Number((await controlsRow(card)).max_per_approval)).to.equal(100);
    expect((await putJson(agent, '/api/holder/controls', { ...raise, password: 'wrong again' })).status).to.equal(401);
    expect((await findThrottle(ts.db, key))?.count).to.equal(2);
    const ok = await putJson(agent, '/api/holder/controls', { ...raise, password: card.password });
    expect(ok.status).to.equal(200);
    expect(await ok.json()).to.deep.equal({ max_per_approval: 200, monthly_cap: null, blocked_sites: [site.clientId], adult_content_off: true });
    // Tightening through the API needs none either.
    expect((await putJson(agent, '/api/holder/controls', { ...raise, max_per_approval: 150 })).status).to.equal(200);
  });

  it('enrols an authenticator app: shows the otpauth URI and key, refuses a wrong code and a forged token, confirms with the right code', async () => {
    const card = await issueTestCard(ts);
    const agent = await signedIn(card);
    const security = await (await agent.get('/card/security')).text();
    expect(security).to.include('No authenticator app is set up yet.');
    const started = await agent.post('/card/security/totp', { csrf: csrfOf(security, '/card/security/totp') });
    const html = await started.text();
    expect(started.status).to.equal(200);
    const uri = /id="otpauth-uri"[^>]*>([^<]+)</.exec(html)![1]!.replace(/&amp;/g, '&');
    const key = /id="totp-secret"[^>]*>([^<]+)</.exec(html)![1]!;
    expect(uri).to.match(/^otpauth:\/\/totp\//);
    expect(new URL(uri).searchParams.get('secret')).to.equal(key);
    const token = /name="enrol_token" value="([^"]+)"/.exec(html)![1]!;
    const csrf = csrfOf(html, '/card/security/totp/confirm');
    const totp = new TOTP({ secret: Secret.fromBase32(key), digits: 6, period: 30, algorithm: 'SHA1' });
    const good = totp.generate();
    const wrong = await agent.post('/card/security/totp/confirm', { csrf, enrol_token: token, code: good === '123456' ? '654321' : '123456' });
    expect(wrong.status).to.equal(400);
    const again = await wrong.text();
    expect(again).to.include('That code is not right.');
    // The same set-up is shown again, key included, for a holder who mistyped it into the app.
    expect(again).to.include(key);
    const forged = await agent.post('/card/security/totp/confirm', { csrf, enrol_token: 'A'.repeat(32), code: good });
    expect(forged.status).to.equal(409);
    const badCode = await agent.post('/card/security/totp/confirm', { csrf, enrol_token: token, code: '12ab' });
    expect(badCode.status).to.equal(400);
    const factor = await ts.db('totp_factors').where({ account_id: card.accountId }).first();
    expect(factor.secret_sealed).to.equal(null);
    expect(Buffer.from(factor.pending_sealed).toString()).to.not.include(key);
    const ok = await agent.post('/card/security/totp/confirm', { csrf, enrol_token: token, code: good });
    expect(ok.status).to.equal(200);
    expect(await ok.text()).to.include('Your authenticator app is set up.');
    const status = await agent.request('/api/holder/totp', { headers: { accept: 'application/json' } });
    expect(((await status.json()) as { enrolled: boolean }).enrolled).to.equal(true);
  });

  it('replaces an authenticator app only with a code of the current one, counts wrong ones as guesses, and tells the holder', async () => {
    const card = await issueTestCard(ts);
    await ts.db('accounts').where({ id: card.accountId }).update({ email: `holder-${card.cardId.slice(0, 8)}@example.test` });
    const agent = await signedIn(card);
    const enrol = async () => {
      const e = (await (await postJson(agent, '/api/holder/totp', {})).json()) as { secret: string; enrol_token: string };
      return { token: e.enrol_token, totp: new TOTP({ secret: Secret.fromBase32(e.secret), digits: 6, period: 30, algorithm: 'SHA1' }) };
    };
    const first = await enrol();
    expect((await postJson(agent, '/api/holder/totp/confirm', { enrol_token: first.token, code: first.totp.generate() })).status).to.equal(200);
    const sealed = async () => Buffer.from((await ts.db('totp_factors').where({ account_id: card.accountId }).first()).secret_sealed).toString('hex');
    const before = await sealed();

    // Someone with the card password alone (this session) tries to swap in their own app.
    const second = await enrol();
    const without = await postJson(agent, '/api/holder/totp/confirm', { enrol_token: second.token, code: second.totp.generate() });
    expect(without.status).to.equal(400);
    expect(((await without.json()) as { fields: Record<string, string> }).fields).to.have.property('current_code');
    const guess = (n: number) => String((Number(first.totp.generate()) + n) % 1_000_000).padStart(6, '0');
    const wrong = await postJson(agent, '/api/holder/totp/confirm', { enrol_token: second.token, code: second.totp.generate(), current_code: guess(500_000) });
    expect(wrong.status).to.equal(400);
    const failures = Number((await ts.db('throttles').where({ scope: 'card' }).whereRaw('key = (SELECT encode(number_hmac, \'hex\') FROM cards WHERE id = ?)', [card.cardId]).first())?.count ?? 0);
    expect(failures, 'a wrong current code counts towards the card lockout').to.equal(1);
    expect(await sealed()).to.equal(before);

    // The holder, with the current app at hand (a code of a later step than the one used to confirm it).
    const next = first.totp.generate({ timestamp: Date.now() + 30_000 });
    const ok = await postJson(agent, '/api/holder/totp/confirm', { enrol_token: second.token, code: second.totp.generate(), current_code: next });
    expect(ok.status).to.equal(200);
    expect(await sealed()).to.not.equal(before);
    const told = await ts.db('notifications_outbox').where({ account_id: card.accountId, template: 'second_factor_set' }).orderBy('id');
    expect(told.map((m: { data: { replaced: boolean } }) => m.data.replaced)).to.include.members([false, true]);
  });

  it('lets the operator remove a lost authenticator app, audited, and the holder told', async () => {
    const card = await issueTestCard(ts);
    await ts.db('accounts').where({ id: card.accountId }).update({ email: `holder-${card.cardId.slice(0, 8)}@example.test` });
    const agent = await signedIn(card);
    const e = (await (await postJson(agent, '/api/holder/totp', {})).json()) as { secret: string; enrol_token: string };
    const totp = new TOTP({ secret: Secret.fromBase32(e.secret), digits: 6, period: 30, algorithm: 'SHA1' });
    expect((await postJson(agent, '/api/holder/totp/confirm', { enrol_token: e.enrol_token, code: totp.generate() })).status).to.equal(200);
    const remove = (body: unknown) =>
      fetch(`${ts.url}/admin/api/cards/${card.cardId}/second-factor/remove`, {
        method: 'POST',
        headers: { authorization: `Bearer ${ts.config.secrets.operatorToken}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    expect((await remove({})).status, 'a reason is required').to.equal(400);
    const res = await remove({ reason: 'phone lost; identity checked by call-back' });
    expect(res.status).to.equal(200);
    expect(await res.json()).to.deep.equal({ last4: card.number.slice(-4), removed: true });
    expect(await ts.db('totp_factors').where({ account_id: card.accountId })).to.have.length(0);
    expect(await ts.db('audit_log').where({ subject_id: card.accountId, action: 'totp.removed' })).to.have.length(1);
    expect(await ts.db('notifications_outbox').where({ account_id: card.accountId, template: 'second_factor_removed' })).to.have.length.at.least(1);
    // The lost phone may hold a signed-in browser: every session ends, as with a new password.
    expect((await agent.request('/api/holder/account', { headers: { accept: 'application/json' } })).status).to.equal(401);
    expect(await ts.db('holder_sessions').where({ card_id: card.cardId })).to.have.length(0);
    expect(await ts.db('audit_log').where({ subject_id: card.accountId, action: 'account.tokens_revoked' })).to.have.length(1);
    expect(await (await remove({ reason: 'again' })).json()).to.include({ removed: false });
  });

  it('signs every session out when the holder changes the password: holder pages and member sites', async () => {
    const card = await issueTestCard(ts);
    const agent = await signedIn(card);
    const site = await registerTestSite(ts);
    await ts.db('oidc_payloads').insert({ model: 'Session', id: `s-${card.cardId}`, payload: JSON.stringify({ accountId: card.accountId }) });
    expect((await agent.request('/api/holder/controls', { headers: { accept: 'application/json' } })).status).to.equal(200);
    const changed = await fetch(`${ts.url}/api/cards/password`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ card_number: card.number, password: card.password, new_password: `Quiet copper meadow ${site.clientId.slice(-4)}` }),
    });
    expect(changed.status).to.equal(200);
    expect((await agent.request('/api/holder/controls', { headers: { accept: 'application/json' } })).status).to.equal(401);
    expect(await ts.db('oidc_payloads').where({ id: `s-${card.cardId}` })).to.have.length(0);
    expect(await ts.db('audit_log').where({ subject_id: card.accountId, action: 'account.tokens_revoked' })).to.have.length(1);
  });

  it('ends the holder-page sessions when the operator blocks the card: unblocking does not bring them back', async () => {
    const card = await issueTestCard(ts);
    const agent = await signedIn(card);
    const operator = (action: string) =>
      fetch(`${ts.url}/admin/api/cards/${card.cardId}/${action}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${ts.config.secrets.operatorToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ reason: 'suspected misuse' }),
      });
    const account = () => agent.request('/api/holder/account', { headers: { accept: 'application/json' } });
    expect((await account()).status).to.equal(200);
    expect((await operator('block')).status).to.equal(200);
    expect((await account()).status).to.equal(401);
    expect(await ts.db('holder_sessions').where({ card_id: card.cardId })).to.have.length(0);
    expect((await operator('unblock')).status).to.equal(200);
    expect((await account()).status).to.equal(401);
    // The holder signs in again as usual.
    expect((await (await signedIn(card)).request('/api/holder/account', { headers: { accept: 'application/json' } })).status).to.equal(200);
  });

  it('audits a session that ran out, once, when a request finds it, and those the cleanup finds, with no id of it', async () => {
    const ended = (card: TestCard) => ts.db('audit_log').where({ action: 'holder.session_ended', subject_type: 'card', subject_id: card.cardId });
    const runOut = (card: TestCard) => ts.db('holder_sessions').where({ card_id: card.cardId }).update({ expires_at: ts.db.raw("now() - interval '1 second'") });
    const card = await issueTestCard(ts);
    const agent = await signedIn(card);
    const [session] = await ts.db('holder_sessions').where({ card_id: card.cardId });
    await runOut(card);
    const page = await agent.get('/card/controls');
    expect(page.status).to.equal(303);
    expect(await agent.get('/card/account')).to.have.property('status', 303);
    const entries = await ended(card);
    expect(entries).to.have.length(1);
    expect(entries[0]).to.include({ actor: 'system', request_id: page.headers.get('x-request-id') });
    expect(entries[0].details).to.deep.equal({ accountId: card.accountId, reason: 'expired', signedInAt: new Date(session.created_at).toISOString() });
    const said = JSON.stringify(entries[0]);
    expect(said).not.to.include(agent.cookies.get('cc.holder')).and.not.include(Buffer.from(session.id_hash).toString('hex'));
    expect(await ts.db('holder_sessions').where({ card_id: card.cardId })).to.have.length(0);

    // Found by an API call (no request transaction for a GET there), and answered 401 all the same.
    const apiCard = await issueTestCard(ts);
    const apiAgent = await signedIn(apiCard);
    await runOut(apiCard);
    expect((await apiAgent.request('/api/holder/account', { headers: { accept: 'application/json' } })).status).to.equal(401);
    expect(await ended(apiCard)).to.have.length(1);

    // A session no request comes back for: the cleanup ends it, audited the same way, once.
    const idle = await issueTestCard(ts);
    await signedIn(idle);
    await runOut(idle);
    expect(await endExpiredHolderSessions(ts.db)).to.be.at.least(1);
    expect(await endExpiredHolderSessions(ts.db)).to.equal(0);
    expect(await ended(idle)).to.have.length(1);
    expect((await ended(idle))[0]).to.include({ actor: 'system', request_id: null });
  });

  it('enrols through the JSON API and refuses bad input there', async () => {
    const card = await issueTestCard(ts);
    const agent = await signedIn(card);
    const begun = await postJson(agent, '/api/holder/totp', {});
    expect(begun.status).to.equal(201);
    const e = (await begun.json()) as { otpauth_uri: string; secret: string; enrol_token: string };
    const totp = new TOTP({ secret: Secret.fromBase32(e.secret), digits: 6, period: 30, algorithm: 'SHA1' });
    expect((await postJson(agent, '/api/holder/totp', { extra: 1 })).status).to.equal(400);
    expect((await postJson(agent, '/api/holder/totp/confirm', { enrol_token: e.enrol_token, code: 'abcdef' })).status).to.equal(400);
    expect((await postJson(agent, '/api/holder/totp/confirm', { enrol_token: e.enrol_token })).status).to.equal(400);
    expect((await postJson(agent, '/api/holder/totp/confirm', { enrol_token: e.enrol_token, code: totp.generate(), x: 1 })).status).to.equal(400);
    const ok = await postJson(agent, '/api/holder/totp/confirm', { enrol_token: e.enrol_token, code: totp.generate() });
    expect(ok.status).to.equal(200);
    // The token is spent: confirming again is refused.
    expect((await postJson(agent, '/api/holder/totp/confirm', { enrol_token: e.enrol_token, code: totp.generate() })).status).to.equal(409);
  });
});
