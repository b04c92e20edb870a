import { expect } from 'chai';
import { generateCardNumber } from '../../src/cards/card-number.ts';
import type { CodePurpose } from '../../src/cards/one-time-code.ts';
import { codeRequestKey } from '../../src/db/throttles.ts';
import { renderMessage } from '../../src/notifications/templates.ts';
import { cardThrottleKey } from '../../src/throttles/check-card-password.ts';
import { Agent, csrfFrom, runLogin } from '../helpers/agent.ts';
import { APPLY_SERVER, issueByApplication, latestCode, uniqueIp } from '../helpers/applicant.ts';
import { authRequest, registerTestSite, siteClient, type TestSite } from '../helpers/fixtures.ts';
import { alertText, fieldError } from '../helpers/html.ts';
import { startCardManager, type TestServer } from '../helpers/server.ts';

const DEVICE = 'cc.device';

/** A browser stand-in whose every request comes from an address of its own (the codes' source throttle aside). */
class Browser extends Agent {
  override request(url: string | URL, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    headers.set('x-forwarded-for', uniqueIp());
    return super.request(url, { ...init, headers });
  }
}

/**
 * The share of a number's daily one-time codes kept for the holder's known devices (config
 * oneTimeCodes.knownDeviceMaxPerDay): whoever knows only a card number can spend the day's oneTimeCodes.maxPerDay and no
 * more, and a browser the holder logged in with at a member site still gets its codes.
 */
describe('one-time codes: the share kept for known devices', () => {
  let ts: TestServer;
  let site: TestSite;

  before(async () => {
    ts = await startCardManager(APPLY_SERVER);
    site = await registerTestSite(ts);
  });
  after(() => ts?.stop());

  type Holder = Awaited<ReturnType<typeof issueByApplication>>;

  /** A browser the holder logged in with at a member site: a device known to the account. */
  async function knownBrowser(h: Holder): Promise<Browser> {
    const browser = new Browser(ts.url);
    const result = await runLogin(browser, (await authRequest(await siteClient(ts, site), site)).url, { number: h.cardNumber, password: h.password });
    expect(result.kind).to.equal('redirect');
    expect(browser.cookies.get(DEVICE)).to.match(/^[A-Za-z0-9_-]{32}$/);
    return browser;
  }

  /** Asks for a code through the JSON API, from `browser` (its cookies) or from a fresh address with none. */
  async function ask(cardNumber: string, browser?: Agent, path = '/api/cards/password/reset/code') {
    const init = { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ card_number: cardNumber }) };
    const res = browser
      ? await browser.request(path, init)
      : await fetch(`${ts.url}${path}`, { ...init, headers: { ...init.headers, 'x-forwarded-for': uniqueIp() } });
    return { status: res.status, retryAfter: res.headers.get('retry-after'), body: (await res.json()) as Record<string, unknown> };
  }

  /** Asks for a code on the hosted page, from `browser`. */
  async function askOnPage(browser: Agent, cardNumber: string, base = '/card/password/reset') {
    const form = await (await browser.get(base === '/card/password/reset' ? base : `${base}/code`)).text();
    const res = await browser.post(`${base}/code`, { csrf: csrfFrom(form), card_number: cardNumber });
    return { status: res.status, html: await res.text() };
  }

  const sent = async (cardId: string, purpose: CodePurpose) => Number((await ts.db('one_time_codes').where({ card_id: cardId, purpose }).count({ n: '*' }).first())!.n);

  /** Time passes for the card's codes (not for the day's counts): the hourly limit no longer counts them. */
  const anHourLater = (cardId: string) =>
    ts.db('one_time_codes').where({ card_id: cardId }).update({ created_at: ts.db.raw("created_at - interval '2 hours'") });

  /** Someone who knows only the number spends its day of codes for `purpose`, from many addresses and no device. */
  async function exhaust(h: { cardNumber: string; cardId?: string }, purpose: CodePurpose = 'password_reset', path?: string) {
    const { maxPerDay, maxPerHour } = ts.config.oneTimeCodes;
    for (let i = 0; i < maxPerDay; i++) {
      if (i > 0 && i % maxPerHour === 0 && h.cardId) await anHourLater(h.cardId);
      expect((await ask(h.cardNumber, undefined, path)).status).to.equal(202);
    }
    const refused = await ask(h.cardNumber, undefined, path);
    expect(refused.status).to.equal(429);
    expect(refused.body.error).to.equal('too_many_codes');
    if (h.cardId) await anHourLater(h.cardId);
    return refused;
  }

  it('defaults to 3 codes a day per purpose for known devices, beside 10 for anyone', () => {
    expect(ts.config.oneTimeCodes.maxPerDay).to.equal(10);
    expect(ts.config.oneTimeCodes.knownDeviceMaxPerDay).to.equal(3);
  });

  it('still sends a code to the holder who asks from a known device once someone spent the day, on the API and the page', async () => {
    const h = await issueByApplication(ts);
    const browser = await knownBrowser(h);
    await exhaust(h);
    expect(await sent(h.cardId, 'password_reset')).to.equal(10);

    expect((await ask(h.cardNumber, browser)).status).to.equal(202);
    expect(await sent(h.cardId, 'password_reset')).to.equal(11);
    const page = await askOnPage(browser, h.cardNumber);
    expect(page.status).to.equal(200);
    expect(page.html).to.include('name="code"');
    expect(await sent(h.cardId, 'password_reset')).to.equal(12);

    // The code works: the holder sets a new password with it.
    const code = await latestCode(ts, h.accountId, 'password_reset_code');
    const reset = await browser.request('/api/cards/password/reset', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ card_number: h.cardNumber, code, new_password: 'Quiet orchard morning' }),
    });
    expect(reset.status).to.equal(200);
  });

  it('keeps a share for each purpose: a spent day of lost-card codes leaves the known device its lost-card code', async () => {
    const h = await issueByApplication(ts);
    const browser = await knownBrowser(h);
    await exhaust(h, 'lost_card', '/api/cards/lost/code');
    const page = await askOnPage(browser, h.cardNumber, '/card/lost');
    expect(page.status).to.equal(200);
    expect(await sent(h.cardId, 'lost_card')).to.equal(11);
  });

  it('is not stopped by the hourly limit someone else filled', async () => {
    const h = await issueByApplication(ts);
    const browser = await knownBrowser(h);
    for (let i = 0; i < ts.config.oneTimeCodes.maxPerHour; i++) expect((await ask(h.cardNumber)).status).to.equal(202);
    expect((await ask(h.cardNumber)).status).to.equal(202); // the same answer, but no code: the hour's are spent
    expect(await sent(h.cardId, 'password_reset')).to.equal(5);
    expect((await ask(h.cardNumber, browser)).status).to.equal(202);
    expect(await sent(h.cardId, 'password_reset')).to.equal(6);
  });

  it("caps the known devices' share too: past it and the day's, 429", async () => {
    const h = await issueByApplication(ts);
    const browser = await knownBrowser(h);
    await exhaust(h);
    for (let i = 0; i < ts.config.oneTimeCodes.knownDeviceMaxPerDay; i++) expect((await ask(h.cardNumber, browser)).status).to.equal(202);
    const refused = await ask(h.cardNumber, browser);
    expect(refused.status).to.equal(429);
    expect(refused.body.error).to.equal('too_many_codes');
    const page = await askOnPage(browser, h.cardNumber);
    expect(page.status).to.equal(429);
    expect(alertText(page.html)).to.match(/too many times today/);
    expect(await sent(h.cardId, 'password_reset')).to.equal(13);
    // Counted in a row of its own, apart from the day's count anyone can spend.
    const key = cardThrottleKey(ts.config.secrets.cardHmacKey, h.cardNumber)!;
    const rows = await ts.db('throttles').where({ scope: 'code_request' }).andWhere('key', 'like', `%${key}%`);
    expect(rows.map((r: { count: number }) => Number(r.count)).sort((a, b) => a - b)).to.deep.equal([3, 10]);
  });

  it('falls back on the share anyone may spend once a known device has spent its own', async () => {
    const h = await issueByApplication(ts);
    const browser = await knownBrowser(h);
    for (let i = 0; i < 4; i++) expect((await ask(h.cardNumber, browser)).status).to.equal(202);
    await anHourLater(h.cardId);
    expect(await sent(h.cardId, 'password_reset')).to.equal(4);
    // Three came from the kept share, one from the day's: anyone may still have nine sent.
    for (let i = 0; i < 5; i++) expect((await ask(h.cardNumber)).status).to.equal(202);
    await anHourLater(h.cardId);
    for (let i = 0; i < 4; i++) expect((await ask(h.cardNumber)).status).to.equal(202);
    expect((await ask(h.cardNumber)).status).to.equal(429);
    expect(await sent(h.cardId, 'password_reset')).to.equal(13);
  });

  it('counts a tampered, unsigned, re-signed or made-up device cookie as unknown, and answers it as a number no card has', async () => {
    const h = await issueByApplication(ts);
    const browser = await knownBrowser(h);
    const nobody = { cardNumber: generateCardNumber(ts.config.cards.issuerPrefix) };
    await exhaust(h);
    const atNobody = await exhaust(nobody);
    const id = browser.cookies.get(DEVICE)!;
    const sig = browser.cookies.get(`${DEVICE}.sig`)!;
    const flip = (s: string) => (s[0] === 'A' ? 'B' : 'A') + s.slice(1);
    const forged: Array<Record<string, string>> = [
      { [DEVICE]: flip(id), [`${DEVICE}.sig`]: sig }, // another id under the known one's signature
      { [DEVICE]: id, [`${DEVICE}.sig`]: flip(sig) }, // the signature tampered with
      { [DEVICE]: id }, // the id copied without its signature
      { [DEVICE]: 'x'.repeat(32), [`${DEVICE}.sig`]: sig },
    ];
    for (const cookies of forged) {
      const other = new Browser(ts.url);
      for (const [k, v] of Object.entries(cookies)) other.cookies.set(k, v);
      const refused = await ask(h.cardNumber, other);
      expect(refused.status, JSON.stringify(Object.keys(cookies))).to.equal(429);
      expect(refused.body).to.deep.equal(atNobody.body);
    }
    expect(await sent(h.cardId, 'password_reset')).to.equal(10);
    // The real one still works.
    expect((await ask(h.cardNumber, browser)).status).to.equal(202);
  });

  it("counts a device known to another card's holder as unknown for this card", async () => {
    const victim = await issueByApplication(ts);
    const attacker = await issueByApplication(ts);
    const attackersBrowser = await knownBrowser(attacker);
    await exhaust(victim);
    const refused = await ask(victim.cardNumber, attackersBrowser);
    expect(refused.status).to.equal(429);
    expect((await askOnPage(attackersBrowser, victim.cardNumber)).status).to.equal(429);
    expect(await sent(victim.cardId, 'password_reset')).to.equal(10);
    // A device known to its own card still gets that card's codes: the rows keep the two apart.
    expect((await ask(attacker.cardNumber, attackersBrowser)).status).to.equal(202);
    expect(await ts.db('throttles').where(codeRequestKey('password_reset', cardThrottleKey(ts.config.secrets.cardHmacKey, victim.cardNumber)!))).to.have.length(1);
  });

  it('tells the holder whose codes were stopped where a code still comes from, on the page and in the message', async () => {
    const h = await issueByApplication(ts);
    await exhaust(h);
    const page = await askOnPage(new Browser(ts.url), h.cardNumber);
    expect(page.status).to.equal(429);
    expect(alertText(page.html)).to.match(
      /Ask from a browser you have logged in with at a member site or on your cybercard pages, or try again in \d+ hours\. If you did not ask for them, contact cybercard\./,
    );
    const told = await ts.db('notifications_outbox').where({ account_id: h.accountId, template: 'codes_stopped' }).first();
    const data = (typeof told.data === 'string' ? JSON.parse(told.data) : told.data) as Record<string, unknown>;
    const words = { en: /browser you (have )?logged in with/, ko: /로그인한 적이 있는 브라우저/ } as const;
    // The holder's own pages make a browser known as well as a member site's login page: the email says both.
    const both = { en: /at a member site or on your cybercard pages/, ko: /가맹 사이트나 사이버카드 페이지에 로그인한 적이 있는 브라우저/ } as const;
    for (const locale of ['en', 'ko'] as const) {
      for (const channel of ['email', 'sms'] as const) {
        const text = renderMessage('codes_stopped', data, ts.url, locale, channel).text;
        expect(text, `${locale} ${channel}`).to.match(words[locale]);
        if (channel === 'email') expect(text, locale).to.match(both[locale]);
      }
    }
  });

  /** Guesses a password-reset code through the JSON API from `browser`, or from a fresh address with no cookie at all. */
  async function guessApi(cardNumber: string, code: string, browser?: Agent) {
    const init = {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ card_number: cardNumber, code, new_password: 'Quiet orchard morning' }),
    };
    const res = browser
      ? await browser.request('/api/cards/password/reset', init)
      : await fetch(`${ts.url}/api/cards/password/reset`, { ...init, headers: { ...init.headers, 'x-forwarded-for': uniqueIp() } });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  }

  /**
   * Guesses a lost-card code on the hosted page from `browser`: its entry form (and CSRF token) got by asking a code for
   * `formFor`, a number no card has, as whoever has only the victim's number would.
   */
  async function guessOnPage(browser: Agent, cardNumber: string, code: string, formFor: string) {
    const enter = await askOnPage(browser, formFor, '/card/lost');
    const res = await browser.post('/card/lost/confirm', { csrf: csrfFrom(enter.html), card_number: cardNumber, code });
    const html = await res.text();
    return { status: res.status, alert: alertText(html), field: fieldError(html, 'code') };
  }

  const otherThan = (code: string) => (code === '123456' ? '654321' : '123456');
  const codeRow = async (cardId: string, purpose: CodePurpose) =>
    (await ts.db('one_time_codes').where({ card_id: cardId, purpose }).orderBy('created_at', 'desc').first()) as { attempts: number; consumed_at: unknown };

  it("keeps a code asked from a known device from every other browser's guesses on the API: they cost it nothing and answer as at no card", async () => {
    const h = await issueByApplication(ts);
    const browser = await knownBrowser(h);
    expect((await ask(h.cardNumber, browser)).status).to.equal(202);
    const code = await latestCode(ts, h.accountId, 'password_reset_code');
    const nobody = generateCardNumber(ts.config.cards.issuerPrefix);
    // More wrong guesses than a code survives, from no cookie and from browsers of their own; each reads as at a number no card has.
    for (let i = 0; i < ts.config.oneTimeCodes.maxAttempts + 1; i++) {
      const from = i % 2 === 0 ? undefined : new Browser(ts.url);
      const atCard = await guessApi(h.cardNumber, otherThan(code), from);
      const atNobody = await guessApi(nobody, otherThan(code), from);
      expect(atCard.status).to.equal(400);
      expect(atCard).to.deep.equal(atNobody);
    }
    // Not even the right code works from elsewhere: that browser cannot guess at it at all.
    const elsewhere = await guessApi(h.cardNumber, code, new Browser(ts.url));
    expect(elsewhere).to.deep.equal(await guessApi(nobody, code, new Browser(ts.url)));
    expect(await codeRow(h.cardId, 'password_reset')).to.include({ attempts: 0, consumed_at: null });
    expect(await ts.db('audit_log').where({ subject_id: h.cardId, action: 'card.code_failed' })).to.have.length(0);
    // The holder's browser still sets a new password with it.
    expect((await guessApi(h.cardNumber, code, browser)).status).to.equal(200);
  });

  it('keeps a code asked from a known device from guesses on the page, and from the codes others ask for after it', async () => {
    const h = await issueByApplication(ts);
    const browser = await knownBrowser(h);
    expect((await askOnPage(browser, h.cardNumber, '/card/lost')).status).to.equal(200);
    const code = await latestCode(ts, h.accountId, 'lost_card_code');
    const attacker = new Browser(ts.url);
    for (let i = 0; i < ts.config.oneTimeCodes.maxAttempts + 1; i++) {
      const atCard = await guessOnPage(attacker, h.cardNumber, otherThan(code), generateCardNumber(ts.config.cards.issuerPrefix));
      const atNobody = await guessOnPage(attacker, generateCardNumber(ts.config.cards.issuerPrefix), otherThan(code), generateCardNumber(ts.config.cards.issuerPrefix));
      expect(atCard.status).to.equal(400);
      expect(atCard).to.deep.equal(atNobody);
    }
    expect((await guessOnPage(attacker, h.cardNumber, code, generateCardNumber(ts.config.cards.issuerPrefix))).status).to.equal(400);
    // Someone asks for another code with the number: it goes to the holder too, but does not replace the holder's.
    expect((await ask(h.cardNumber, undefined, '/api/cards/lost/code')).status).to.equal(202);
    expect(await sent(h.cardId, 'lost_card')).to.equal(2);
    const enter = await askOnPage(browser, generateCardNumber(ts.config.cards.issuerPrefix), '/card/lost');
    const res = await browser.post('/card/lost/confirm', { csrf: csrfFrom(enter.html), card_number: h.cardNumber, code });
    expect(res.status, alertText(await res.clone().text())).to.equal(200);
    expect((await ts.db('cards').where({ id: h.cardId }).first()).status).to.equal('lost');
  });

  it('leaves a code asked from a browser no account knows as it was: anyone may guess at it, and 5 wrong guesses end it', async () => {
    const h = await issueByApplication(ts);
    const asking = new Browser(ts.url);
    expect((await ask(h.cardNumber, asking)).status).to.equal(202);
    const code = await latestCode(ts, h.accountId, 'password_reset_code');
    for (let i = 0; i < ts.config.oneTimeCodes.maxAttempts; i++) expect((await guessApi(h.cardNumber, otherThan(code))).status).to.equal(400);
    expect(await codeRow(h.cardId, 'password_reset')).to.include({ attempts: ts.config.oneTimeCodes.maxAttempts });
    expect((await guessApi(h.cardNumber, code, asking)).status).to.equal(400);
    // A new one, asked with no cookie at all, works from any browser, and one asked later replaces it.
    expect((await ask(h.cardNumber)).status).to.equal(202);
    const first = await latestCode(ts, h.accountId, 'password_reset_code');
    expect((await ask(h.cardNumber)).status).to.equal(202);
    expect((await guessApi(h.cardNumber, first, new Browser(ts.url))).status).to.equal(400);
    expect((await guessApi(h.cardNumber, await latestCode(ts, h.accountId, 'password_reset_code'), new Browser(ts.url))).status).to.equal(200);
  });

  /** Signs in on the holder's own pages (/card/signin) with the card's password, from `browser`. */
  async function signIn(browser: Agent, h: Holder, password = h.password) {
    const page = await (await browser.get('/card/signin')).text();
    return browser.post('/card/signin', { csrf: csrfFrom(page), card_number: h.cardNumber, password });
  }

  /** The new-device notices the account was sent (by email: each goes by SMS as well). */
  const newDeviceNotices = async (accountId: string) =>
    (await ts.db('notifications_outbox').where({ account_id: accountId, template: 'new_device_login', channel: 'email' }).orderBy('id')) as Array<{ data: unknown }>;
  const dataOf = (row: { data: unknown }) => (typeof row.data === 'string' ? JSON.parse(row.data) : row.data) as Record<string, unknown>;

  it("makes a browser known by a sign-in on the holder's own pages, with one new-device notice, and none again at a member-site login", async () => {
    const h = await issueByApplication(ts);
    const before = (await newDeviceNotices(h.accountId)).length;
    const browser = new Browser(ts.url);
    expect((await signIn(browser, h)).status).to.equal(303);
    const notices = await newDeviceNotices(h.accountId);
    expect(notices).to.have.length(before + 1);
    expect(dataOf(notices.at(-1)!).site).to.equal('cybercard');
    // Known: its code comes from the kept share once someone spent the day, and only it may use that code.
    await exhaust(h);
    expect((await ask(h.cardNumber, browser)).status).to.equal(202);
    expect(await sent(h.cardId, 'password_reset')).to.equal(11);
    // A member-site login from that browser is no new device: no second notice. Nor another sign-in.
    const login = await runLogin(browser, (await authRequest(await siteClient(ts, site), site)).url, { number: h.cardNumber, password: h.password });
    expect(login.kind).to.equal('redirect');
    expect((await signIn(browser, h)).status).to.equal(303);
    expect(await newDeviceNotices(h.accountId)).to.have.length(before + 1);
  });

  it('sends no second notice when a browser known from a member-site login signs in on the holder pages, and a wrong password makes none known', async () => {
    const h = await issueByApplication(ts);
    const browser = await knownBrowser(h);
    const before = (await newDeviceNotices(h.accountId)).length;
    expect((await signIn(browser, h)).status).to.equal(303);
    expect(await newDeviceNotices(h.accountId)).to.have.length(before);

    const stranger = new Browser(ts.url);
    expect((await signIn(stranger, h, 'Not the password at all')).status).to.equal(401);
    expect(await newDeviceNotices(h.accountId)).to.have.length(before);
    await exhaust(h);
    expect((await ask(h.cardNumber, stranger)).status).to.equal(429);
  });

  it('does not make a browser known by a failed login, nor by asking for codes', async () => {
    const h = await issueByApplication(ts);
    const browser = new Browser(ts.url);
    const failed = await runLogin(browser, (await authRequest(await siteClient(ts, site), site)).url, { number: h.cardNumber, password: 'Not the password at all' });
    expect(failed.kind).to.equal('page');
    await exhaust(h);
    expect((await ask(h.cardNumber, browser)).status).to.equal(429);
    expect((await ask(h.cardNumber, browser)).status).to.equal(429);
  });
});
