import { expect } from 'chai';
import { generateCardNumber } from '../../src/cards/card-number.ts';
import type { CodePurpose } from '../../src/cards/one-time-code.ts';
import { codeRequestKey, deleteStaleThrottles } from '../../src/db/throttles.ts';
import { cardThrottleKey } from '../../src/throttles/check-card-password.ts';
import { Agent, csrfFrom } from '../helpers/agent.ts';
import { APPLY_SERVER, issueByApplication, latestCode, uniqueIp } from '../helpers/applicant.ts';
import { alertText, inputValue } from '../helpers/html.ts';
import { startCardManager, type TestServer } from '../helpers/server.ts';

const DAY = 24 * 3600;

/**
 * The daily cap on one-time codes (config oneTimeCodes.maxPerDay): with maxAttempts wrong guesses each, it bounds the
 * guesses at a card's 6-digit codes per purpose per day, where the hourly limit alone let ~25 an hour go on for ever.
 */
describe('one-time codes: the daily limit', () => {
  let ts: TestServer;

  before(async () => {
    ts = await startCardManager(APPLY_SERVER);
  });
  after(() => ts?.stop());

  /** A request for a code from an address of its own (as a distributed attacker's would be). */
  async function ask(cardNumber: string, path = '/api/cards/password/reset/code') {
    const res = await fetch(`${ts.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-forwarded-for': uniqueIp() },
      body: JSON.stringify({ card_number: cardNumber }),
    });
    return { status: res.status, retryAfter: res.headers.get('retry-after'), body: (await res.json()) as Record<string, unknown> };
  }

  /** The day's count of codes asked for the number, for this purpose. */
  const dayRow = (cardNumber: string, purpose: CodePurpose) =>
    ts.db('throttles').where(codeRequestKey(purpose, cardThrottleKey(ts.config.secrets.cardHmacKey, cardNumber)!));

  /** Time passes for the number's codes of this purpose: each was asked for (and sent) `seconds` earlier than it was. */
  async function age(h: { cardNumber: string; cardId?: string }, purpose: CodePurpose, seconds: number) {
    const earlier = (column: string) => ts.db.raw('?? - make_interval(secs => ?)', [column, seconds]);
    if (h.cardId) await ts.db('one_time_codes').where({ card_id: h.cardId, purpose }).update({ created_at: earlier('created_at'), expires_at: earlier('expires_at') });
    await dayRow(h.cardNumber, purpose).update({ window_start: earlier('window_start'), updated_at: earlier('updated_at') });
  }

  const sent = async (cardId: string, purpose: CodePurpose) => Number((await ts.db('one_time_codes').where({ card_id: cardId, purpose }).count({ n: '*' }).first())!.n);
  const warnings = async (accountId: string) => ts.db('notifications_outbox').where({ account_id: accountId, template: 'codes_stopped' });

  /** Asks for the day's codes over three hours within the hourly limit: five, five hours ago; five, two hours ago. */
  async function spendTheDay(h: { cardNumber: string; cardId?: string }, purpose: CodePurpose = 'password_reset', path?: string) {
    const perHour = ts.config.oneTimeCodes.maxPerHour;
    for (let i = 0; i < perHour; i++) expect((await ask(h.cardNumber, path)).status).to.equal(202);
    await age(h, purpose, 3 * 3600);
    for (let i = 0; i < perHour; i++) expect((await ask(h.cardNumber, path)).status).to.equal(202);
    await age(h, purpose, 2 * 3600);
    if (h.cardId) expect(await sent(h.cardId, purpose)).to.equal(ts.config.oneTimeCodes.maxPerDay);
  }

  it('refuses the 11th code in a day with 429 and Retry-After, even spread over hours, and sends nothing', async () => {
    expect(ts.config.oneTimeCodes.maxPerDay).to.equal(10);
    const h = await issueByApplication(ts);
    await spendTheDay(h);
    const refused = await ask(h.cardNumber);
    expect(refused.status).to.equal(429);
    expect(refused.body.error).to.equal('too_many_codes');
    expect(refused.body.error_description).to.match(/too many times today/);
    expect(refused.body.error_description).to.match(/contact cybercard/);
    // The oldest of the day's codes was sent five hours ago: it leaves the day's count in 19 hours.
    expect(Number(refused.retryAfter)).to.be.within(DAY - 5 * 3600 - 60, DAY - 5 * 3600);
    expect(await sent(h.cardId, 'password_reset')).to.equal(10);
  });

  it('sends codes again once the day is over', async () => {
    const h = await issueByApplication(ts);
    await spendTheDay(h);
    expect((await ask(h.cardNumber)).status).to.equal(429);
    await age(h, 'password_reset', DAY);
    expect((await ask(h.cardNumber)).status).to.equal(202);
    expect(await sent(h.cardId, 'password_reset')).to.equal(11);
  });

  it('answers a number no card has alike: the refusal tells no card from none', async () => {
    const h = await issueByApplication(ts);
    const nobody = { cardNumber: generateCardNumber(ts.config.cards.issuerPrefix) };
    await spendTheDay(h);
    await spendTheDay(nobody);
    // The two days began when each was first asked for, the second a moment later: as if at the same instant.
    const began = (await dayRow(h.cardNumber, 'password_reset').first()).window_start as Date;
    await dayRow(nobody.cardNumber, 'password_reset').update({ window_start: began });
    const atCard = await ask(h.cardNumber);
    const atNobody = await ask(nobody.cardNumber);
    expect([atCard.status, atNobody.status]).to.deep.equal([429, 429]);
    expect(atNobody.body).to.deep.equal(atCard.body);
    // Whole seconds until the same end, counted a moment apart: the same, or one less if a second turned between them.
    expect(Number(atCard.retryAfter) - Number(atNobody.retryAfter)).to.be.within(0, 1);
  });

  it('keeps counting the day when the cleanup runs: a quiet hour does not start a new day', async () => {
    const h = await issueByApplication(ts);
    await spendTheDay(h);
    await deleteStaleThrottles(ts.db, 3600, ts.config.lockout.strikeMemorySeconds);
    expect(await dayRow(h.cardNumber, 'password_reset')).to.have.length(1);
    expect((await ask(h.cardNumber)).status).to.equal(429);
    // Once the day is over, the row decides nothing and goes.
    await age(h, 'password_reset', DAY);
    await deleteStaleThrottles(ts.db, 3600, ts.config.lockout.strikeMemorySeconds);
    expect(await dayRow(h.cardNumber, 'password_reset')).to.have.length(0);
  });

  it('tells the holder once that codes they may not have asked for were stopped', async () => {
    const h = await issueByApplication(ts);
    await spendTheDay(h);
    expect(await warnings(h.accountId)).to.have.length(0);
    expect((await ask(h.cardNumber)).status).to.equal(429);
    expect((await ask(h.cardNumber)).status).to.equal(429);
    const told = await warnings(h.accountId);
    // Once (by email and by SMS), however many requests are refused that day.
    expect(told.map((r: { channel: string }) => r.channel).sort()).to.deep.equal(['email', 'sms']);
    const data = (typeof told[0].data === 'string' ? JSON.parse(told[0].data) : told[0].data) as Record<string, unknown>;
    expect(data).to.include({ purpose: 'password_reset', last4: h.cardNumber.slice(-4), count: 10 });
    const refusals = await ts.db('audit_log').where({ subject_id: h.cardId, action: 'card.code_refused' });
    expect(refusals.map((r: { details: { reason: string } }) => r.details.reason)).to.deep.equal(['daily limit', 'daily limit']);
  });

  it('counts each purpose on its own: a spent day of reset codes leaves the lost-card code', async () => {
    const h = await issueByApplication(ts);
    await spendTheDay(h);
    expect((await ask(h.cardNumber)).status).to.equal(429);
    expect((await ask(h.cardNumber, '/api/cards/lost/code')).status).to.equal(202);
    expect(await latestCode(ts, h.accountId, 'lost_card_code')).to.match(/^\d{6}$/);
  });

  it('says so on the hosted page, with Retry-After and the card number kept', async () => {
    const h = await issueByApplication(ts);
    await spendTheDay(h);
    const agent = new Agent(ts.url);
    const page = await (await agent.get('/card/password/reset')).text();
    const res = await agent.post('/card/password/reset/code', { csrf: csrfFrom(page), card_number: h.cardNumber });
    const html = await res.text();
    expect(res.status).to.equal(429);
    expect(Number(res.headers.get('retry-after'))).to.be.within(DAY - 5 * 3600 - 60, DAY - 5 * 3600);
    // It says where a holder still gets a code (a browser they logged in with: its share is kept), whatever the number.
    expect(alertText(html)).to.match(
      /^Codes for this card were asked for too many times today\. Ask from a browser you have logged in with at a member site or on your cybercard pages, or try again in 19 hours\. If you did not ask for them, contact cybercard\./,
    );
    expect(inputValue(html, 'card_number')?.replace(/\D/g, '')).to.equal(h.cardNumber);
    expect(await sent(h.cardId, 'password_reset')).to.equal(10);
  });

  it('says so in Korean on the hosted page', async () => {
    const h = await issueByApplication(ts);
    await spendTheDay(h);
    const agent = new Agent(ts.url);
    const ko = { 'accept-language': 'ko' };
    const page = await (await agent.request('/card/password/reset', { headers: ko })).text();
    const res = await agent.request('/card/password/reset/code', {
      method: 'POST',
      headers: { ...ko, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ csrf: csrfFrom(page), card_number: h.cardNumber }).toString(),
    });
    expect(res.status).to.equal(429);
    expect(alertText(await res.text())).to.match(/가맹 사이트나 사이버카드 페이지에 로그인한 적이 있는 브라우저에서 요청하시거나 19시간 후에/);
  });
});
