import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { sendDueNotifications } from '../../src/notifications/sender.ts';
import { Agent, csrfFrom } from '../helpers/agent.ts';
import { APPLY_SERVER, application, birthdateForAge, uniqueIp, type ApplicationBody } from '../helpers/applicant.ts';
import { registerTestSite, type TestCard } from '../helpers/fixtures.ts';
import { testEnv } from '../helpers/global.ts';
import { startCardManager, type TestServer } from '../helpers/server.ts';
import { approveFor } from '../ledger/fixtures.ts';

interface Delivered {
  template: string;
  channel: string;
  locale: string;
  subject?: string;
  text: string;
}

/** The language of the holder's notifications: set by the application's page language. */
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

  /** Sends what is due and reads back the account's messages of `template` as delivered (the files the test transports write). */
  async function delivered(accountId: string, template: string): Promise<Delivered[]> {
    await sendDueNotifications(ts.cm.notifications);
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

  it("writes a ward's news to the guardian in the guardian's language, and to the ward in the ward's", async () => {
    const guardian = await applyIn('ko', { legal_name: 'Han Guardian', birthdate: '1980-03-03' });
    const child = await applyIn('en', {
      legal_name: 'Han Child',
      birthdate: birthdateForAge(16),
      guardian_card_number: guardian.number,
      guardian_password: guardian.password,
    });
    const site = await registerTestSite(ts);
    await approveFor(ts, child, site, 1_000, 'Volume 1');
    const toGuardian = await delivered(guardian.accountId, 'child_payment_approved');
    expect(toGuardian.map((m) => m.locale)).to.deep.equal(['ko', 'ko']);
    expect(toGuardian[0]!.subject).to.equal('자녀의 사이버 카드로 결제했습니다');
    expect(toGuardian[0]!.text).to.include('Han Child 님의 사이버 카드').and.include('1,000 KRW 결제');
    const toChild = await delivered(child.accountId, 'payment_approved');
    expect(toChild.map((m) => m.locale)).to.deep.equal(['en', 'en']);
    expect(toChild[0]!.text).to.match(/^Approval \S+: 1,000 KRW at /);
  });
});
