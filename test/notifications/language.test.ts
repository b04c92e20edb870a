import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { sendDueNotifications } from '../../src/notifications/sender.ts';
import { Agent, csrfFrom, csrfOf, startInteraction, type ForwardedAgent } from '../helpers/agent.ts';
import { APPLY_SERVER, application, birthdateForAge, issueByApplication, uniqueIp, uniqueName, type ApplicationBody } from '../helpers/applicant.ts';
import { authRequest, registerTestSite, siteClient, type TestCard } from '../helpers/fixtures.ts';
import { formatLocalTime } from '../../src/lib/local-time.ts';
import { testEnv } from '../helpers/global.ts';
import { signedInHolder } from '../helpers/holder.ts';
import { alertText, fieldError, unescapeHtml } from '../helpers/html.ts';
import { startCardManager, type TestServer } from '../helpers/server.ts';
import { approveFor } from '../ledger/fixtures.ts';

/** Every due message of the run's shared outbox, however many other files left: the default 1,000 may stop short of this file's. */
const ALL_DUE = Number.POSITIVE_INFINITY;

interface Delivered {
  template: string;
  channel: string;
  locale: string;
  subject?: string;
  text: string;
}

/** The language of the holder's notifications: set by the application's page language, chosen on /card/contacts. */
describe("notifications in the holder's language", () => {
  let ts: TestServer;
  before(async () => {
    ts = await startCardManager(APPLY_SERVER);
  });
  after(() => ts?.stop());

  /** POST /api/applications as a browser whose language is `acceptLanguage`. */
  async function applyIn(acceptLanguage: string | undefined, over: ApplicationBody = {}): Promise<TestCard> {
    const app = application(over);
    const res = await fetch(`${ts.url}/api/applications`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-forwarded-for': uniqueIp(), ...(acceptLanguage ? { 'accept-language': acceptLanguage } : {}) },
      body: JSON.stringify(app),
    });
    const body = (await res.json()) as Record<string, unknown>;
    expect(res.status, JSON.stringify(body)).to.equal(201);
    const card = await ts.db('cards').where({ id: body.card_id }).first();
    return { accountId: String(card.account_id), cardId: String(body.card_id), number: String(body.card_number), password: String(app.password) };
  }

  const localeOf = async (accountId: string) => (await ts.db('accounts').where({ id: accountId }).first('locale')).locale as string;
  const languageAudit = (accountId: string) => ts.db('audit_log').where({ subject_id: accountId, action: 'account.language_changed' });

  /** Sends what is due and reads back the account's messages of `template` as delivered (the files the test transports write). */
  async function delivered(accountId: string, template: string): Promise<Delivered[]> {
    await sendDueNotifications(ts.cm.notifications, ALL_DUE);
    const rows = (await ts.db('notifications_outbox').where({ account_id: accountId, template }).orderBy('id')) as Array<{ id: number; channel: string; locale: string; status: string }>;
    return rows.map((r) => {
      expect(r.status).to.equal('sent');
      const file = JSON.parse(readFileSync(path.join(testEnv.dataDir, 'outbox', `${r.id}-${r.channel}.json`), 'utf8')) as { subject?: string; text: string };
      return { template, channel: r.channel, locale: r.locale, subject: file.subject, text: file.text };
    });
  }

  it('writes to a holder who applied in Korean in Korean, by email and SMS, and to one who applied in English in English', async () => {
    const ko = await applyIn('ko-KR,ko;q=0.9,en;q=0.5');
    expect(await localeOf(ko.accountId)).to.equal('ko');
    const [email, sms] = await delivered(ko.accountId, 'card_issued');
    expect(email).to.deep.include({ channel: 'email', locale: 'ko', subject: '사이버 카드가 발급되었습니다' });
    expect(email!.text).to.equal(`끝자리 ${ko.number.slice(-4)} 사이버 카드가 발급되었습니다. 본인이 한 일이 아니라면 즉시 카드를 정지하세요: ${ts.url}/card/lost`);
    expect(sms).to.deep.include({ channel: 'sms', locale: 'ko', text: email!.text });

    const en = await applyIn('de-DE, en;q=0.8');
    expect(await localeOf(en.accountId)).to.equal('en');
    expect((await delivered(en.accountId, 'card_issued')).map((m) => m.text)).to.deep.equal([
      `Your cyber card ending in ${en.number.slice(-4)} has been issued. If this was not you, block your card at once: ${ts.url}/card/lost`,
      `Your cyber card ending in ${en.number.slice(-4)} has been issued. If this was not you, block your card at once: ${ts.url}/card/lost`,
    ]);
    // No language asked for, or none the pages speak: the deployment's default.
    expect(await localeOf((await applyIn(undefined)).accountId)).to.equal('en');
    expect(await localeOf((await applyIn('fr')).accountId)).to.equal('en');
  });

  it('takes the language the application form was shown and sent in', async () => {
    const ip = uniqueIp();
    const agent = new Agent(ts.url);
    const headers = { 'x-forwarded-for': ip, 'accept-language': 'ko' };
    const page = await agent.request('/apply', { headers });
    const html = await page.text();
    expect(html).to.include('<html lang="ko"');
    const app = application();
    const form = Object.fromEntries(Object.entries(app).map(([k, v]) => [k, k === 'accept_terms' ? 'yes' : String(v)]));
    const res = await agent.request('/apply', {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ csrf: csrfFrom(html), ...form }).toString(),
    });
    expect(res.status, (await res.clone().text()).slice(0, 500)).to.equal(201);
    const account = await ts.db('accounts').where({ email: app.email }).first('id', 'locale');
    expect(account.locale).to.equal('ko');
    expect((await ts.db('notifications_outbox').where({ account_id: account.id })).map((r: { locale: string }) => r.locale)).to.deep.equal(['ko', 'ko']);
  });

  it('lets the holder choose the language on the contacts page: the next message is in it, the ones before keep theirs', async () => {
    const h = await issueByApplication(ts);
    const agent = await signedInHolder(ts.url, h);
    const page = await (await agent.get('/card/contacts')).text();
    expect(page).to.include('<option value="en" lang="en" selected>English</option>');
    expect(page).to.include('<option value="ko" lang="ko">한국어</option>');
    const inKorean = await (await agent.request('/card/contacts', { headers: { 'accept-language': 'ko' } })).text();
    expect(inKorean).to.include('<h2 id="language-heading">알림 언어</h2>').and.include('언어 저장');

    const res = await agent.post('/card/contacts/language', { csrf: csrfOf(page, '/card/contacts/language'), language: 'ko' });
    expect(res.status).to.equal(200);
    const html = await res.text();
    expect(unescapeHtml(html)).to.include('id="notice">Your messages will be in 한국어 from the next one on.<');
    expect(html).to.include('<option value="ko" lang="ko" selected>한국어</option>');
    expect(await localeOf(h.accountId)).to.equal('ko');
    const [entry, ...more] = await languageAudit(h.accountId);
    expect(more).to.have.length(0);
    expect(entry).to.deep.include({ actor: `card:${h.cardId}` });
    expect(entry.details).to.deep.equal({ from: 'en', to: 'ko' });
    // The holder's activity says so, as a change of the whole account, on the page (in its language) and as JSON.
    expect(unescapeHtml(await (await agent.get('/card/activity')).text())).to.include('Messages are now written in 한국어.');
    const activity = (await (await agent.request('/api/holder/activity', { headers: { accept: 'application/json' } })).json()) as {
      entries: Array<Record<string, unknown>>;
    };
    expect(activity.entries.find((i) => i.kind === 'language_changed')).to.deep.include({ about: 'account', card_last4: null, language: 'ko', text: 'Messages are now written in 한국어.' });

    // The next message: a code to block the card, asked for on the English pages, comes in Korean.
    const asked = await fetch(`${ts.url}/api/cards/lost/code`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-forwarded-for': uniqueIp() },
      body: JSON.stringify({ card_number: h.cardNumber }),
    });
    expect(asked.status).to.equal(202);
    const codes = await delivered(h.accountId, 'lost_card_code');
    expect(codes.map((m) => [m.channel, m.locale])).to.deep.equal([['email', 'ko'], ['sms', 'ko']]);
    expect(codes[0]!.subject).to.equal('카드 정지 인증 코드');
    expect(codes[0]!.text).to.match(new RegExp(`^끝자리 ${h.cardNumber.slice(-4)} 사이버 카드의 분실 신고\\(카드 정지\\) 인증 코드: \\d{6}\\n`));
    // What was queued before the change stays in the language it was queued in.
    expect((await delivered(h.accountId, 'card_issued')).map((m) => m.locale)).to.deep.equal(['en', 'en']);

    // And back to English through the JSON API; its contacts answer says which.
    const put = await jsonPut(agent, { language: 'en' });
    expect(put.status).to.equal(200);
    expect(await put.json()).to.deep.equal({ language: 'en', changed: true });
    const contacts = (await (await agent.request('/api/holder/contacts', { headers: { accept: 'application/json' } })).json()) as Record<string, unknown>;
    expect(contacts.language).to.equal('en');
    // The same language again changes and records nothing.
    expect(await (await jsonPut(agent, { language: 'en' })).json()).to.deep.equal({ language: 'en', changed: false });
    expect(await languageAudit(h.accountId)).to.have.length(2);
    const asked2 = await fetch(`${ts.url}/api/cards/lost/code`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-forwarded-for': uniqueIp() },
      body: JSON.stringify({ card_number: h.cardNumber }),
    });
    expect(asked2.status).to.equal(202);
    expect((await delivered(h.accountId, 'lost_card_code')).map((m) => m.locale)).to.deep.equal(['ko', 'ko', 'en', 'en']);
  });

  function jsonPut(agent: ForwardedAgent, body: unknown, contentType = 'application/json') {
    return agent.request('/api/holder/contacts/language', {
      method: 'PUT',
      headers: { 'content-type': contentType, accept: 'application/json' },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
  }

  it('refuses bad language choices with a 4xx, on the page and the API, and changes nothing', async () => {
    const h = await issueByApplication(ts);
    const agent = await signedInHolder(ts.url, h);
    const page = await (await agent.get('/card/contacts')).text();
    const csrf = csrfOf(page, '/card/contacts/language');
    const unchanged = async () => ({ locale: await localeOf(h.accountId), audit: (await languageAudit(h.accountId)).length });
    const before = await unchanged();
    expect(before).to.deep.equal({ locale: 'en', audit: 0 });

    for (const bad of ['fr', 'KO', 'ko-KR', '', ' ko', '<script>alert(1)</script>']) {
      const res = await agent.post('/card/contacts/language', { csrf, language: bad });
      expect(res.status, bad).to.equal(400);
      const html = await res.text();
      expect(fieldError(html, 'language'), bad).to.equal('Choose a language from the list (en, ko).');
      expect(html).to.not.include('<script>alert(1)');
    }
    expect((await agent.post('/card/contacts/language', { csrf })).status, 'missing').to.equal(400);
    // No csrf, or another form's: refused before anything is read.
    expect((await agent.post('/card/contacts/language', { language: 'ko' })).status).to.equal(403);
    expect((await agent.post('/card/contacts/language', { csrf: csrfOf(page, '/card/contacts'), language: 'ko' })).status).to.equal(403);
    // The form names no account: a field naming one (or anything else) is refused.
    const other = await issueByApplication(ts);
    const extra = await agent.post('/card/contacts/language', { csrf, language: 'ko', account_id: other.accountId });
    expect(extra.status).to.equal(400);
    expect(alertText(await extra.text())).to.equal('This form takes only the language.');
    const repeated = await agent.request('/card/contacts/language', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `csrf=${encodeURIComponent(csrf)}&language=ko&language=en`,
    });
    expect(repeated.status).to.equal(400);

    for (const body of [{ language: 'fr' }, { language: 'ko', account_id: other.accountId }, { language: 1 }, {}, [], 'ko']) {
      const res = await jsonPut(agent, body);
      expect(res.status, JSON.stringify(body)).to.equal(400);
      expect(((await res.json()) as { error: string }).error, JSON.stringify(body)).to.be.a('string');
    }
    expect((await jsonPut(agent, 'language=ko', 'application/x-www-form-urlencoded')).status).to.be.within(400, 499);
    // Signed out: the page sends to the sign-in, the API refuses.
    const stranger = new Agent(ts.url);
    expect((await stranger.request('/api/holder/contacts/language', { method: 'PUT', headers: { 'content-type': 'application/json' }, body: '{"language":"ko"}' })).status).to.be.within(
      300,
      499,
    );

    expect(await unchanged()).to.deep.equal(before);
    expect(await localeOf(other.accountId)).to.equal('en');
  });

  it("writes a ward's news to the guardian in the guardian's language, and to the ward in the ward's", async () => {
    const guardian = await applyIn('ko', { legal_name: uniqueName('Han'), birthdate: '1980-03-03' });
    const childName = uniqueName('Han');
    const child = await applyIn('en', {
      legal_name: childName,
      birthdate: birthdateForAge(16),
      guardian_card_number: guardian.number,
      guardian_password: guardian.password,
    });
    const site = await registerTestSite(ts);
    await approveFor(ts, child, site, 1_000, 'Volume 1');
    const toGuardian = await delivered(guardian.accountId, 'child_payment_approved');
    expect(toGuardian.map((m) => m.locale)).to.deep.equal(['ko', 'ko']);
    expect(toGuardian[0]!.subject).to.equal('자녀의 사이버 카드로 결제했습니다');
    expect(toGuardian[0]!.text).to.include(`${childName} 님의 사이버 카드`).and.include('1,000원 결제');
    const toChild = await delivered(child.accountId, 'payment_approved');
    expect(toChild.map((m) => m.locale)).to.deep.equal(['en', 'en']);
    expect(toChild[0]!.text).to.match(/^Approval \S+: 1,000 KRW at /);
  });

  it('queues an amount and a time as data and writes them in the reader\'s language when sending: 4,000원 and 한국 시간 in Korean', async () => {
    const h = await applyIn('ko');
    const site = await registerTestSite(ts, { name: 'Zzz' } as never);
    await approveFor(ts, h, site, 4_000, 'Volume 1');
    const [row] = await ts.db('notifications_outbox').where({ account_id: h.accountId, template: 'payment_approved' });
    const data = (typeof row.data === 'string' ? JSON.parse(row.data) : row.data) as Record<string, unknown>;
    expect(data.amount, 'the amount is stored as minor units and currency, not as words').to.deep.equal({ amount: 4000, currency: 'KRW' });
    const [paid] = await delivered(h.accountId, 'payment_approved');
    expect(paid!.text).to.include('Zzz에서 4,000원 결제').and.not.include('KRW');

    // A lock's notice: the time queued as the instant and its zone, read in Korean by the zone's Korean name.
    const config = await siteClient(ts, site);
    for (let i = 0; i < ts.config.lockout.maxFailures; i++) {
      const agent = new Agent(ts.url);
      const { path, csrf } = await startInteraction(agent, (await authRequest(config, site)).url);
      await agent.post(`${path}/login`, { csrf, card_number: h.number, password: 'Not the password at all' });
    }
    const [lockRow] = await ts.db('notifications_outbox').where({ account_id: h.accountId, template: 'card_locked' });
    expect(lockRow, 'the card was locked').to.not.equal(undefined);
    const lockData = (typeof lockRow.data === 'string' ? JSON.parse(lockRow.data) : lockRow.data) as { until: { at: string; timeZone: string } };
    expect(lockData.until.timeZone).to.equal('Asia/Seoul');
    const [locked] = await delivered(h.accountId, 'card_locked');
    expect(locked!.text).to.include(`${formatLocalTime(new Date(lockData.until.at), 'Asia/Seoul').slice(0, 16)} 한국 시간까지`).and.not.include('Asia/Seoul');
  });

  it('still writes a message queued before amounts and times were data (English strings in its row) in Korean', async () => {
    const h = await applyIn('ko');
    const data = { approvalNo: '12345678', last4: h.number.slice(-4), site: 'Zzz', amount: '4,000 KRW' };
    await ts.db('notifications_outbox').insert([
      { account_id: h.accountId, channel: 'email', recipient: 'legacy@example.test', template: 'payment_approved', locale: 'ko', data: JSON.stringify(data) },
      { account_id: h.accountId, channel: 'email', recipient: 'legacy@example.test', template: 'new_device_login', locale: 'ko', data: JSON.stringify({ site: 'Zzz', at: '2026-12-06 10:17 Asia/Seoul' }) },
    ]);
    const [paid] = await delivered(h.accountId, 'payment_approved');
    expect(paid!.text).to.include('Zzz에서 4,000원 결제').and.not.include('KRW');
    const [login] = await delivered(h.accountId, 'new_device_login');
    expect(login!.text).to.include('(2026-12-06 10:17 한국 시간)').and.not.include('Asia/Seoul');
  });

  it("shows the operator the holder's language beside the contacts", async () => {
    const h = await applyIn('ko');
    const res = await fetch(`${ts.url}/admin/api/cards/search`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${ts.config.secrets.operatorToken}` },
      body: JSON.stringify({ number: h.number }),
    });
    expect(res.status).to.equal(200);
    const body = (await res.json()) as { holders: Array<{ account: Record<string, unknown> }> };
    expect(body.holders[0]!.account).to.deep.include({ id: h.accountId, language: 'ko' });
  });
});
