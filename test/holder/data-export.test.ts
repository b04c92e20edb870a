import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { Secret, TOTP } from 'otpauth';
import { openDispute } from '../../src/approvals/open-dispute.ts';
import { capture } from '../../src/approvals/capture.ts';
import { rememberDevice } from '../../src/db/known-devices.ts';
import { inTransaction } from '../../src/db/tx.ts';
import { billingRun } from '../../src/ledger/billing-run.ts';
import { payOut } from '../../src/ledger/pay-out.ts';
import { repay } from '../../src/ledger/repay.ts';
import { readFile } from 'node:fs/promises';
import { AxeBuilder } from '@axe-core/playwright';
import type { Page } from 'playwright-core';
import { csrfOf, type ForwardedAgent } from '../helpers/agent.ts';
import { downloadedDataFile } from '../helpers/data-file.ts';
import { renderMessage } from '../../src/notifications/templates.ts';
import { formatLocalTime } from '../../src/lib/local-time.ts';
import { screenshotOnFailure, scriptProblems, useBrowser } from '../helpers/browser.ts';
import { APPLY_SERVER, application, birthdateForAge, issueByApplication, postApplication, uniqueName } from '../helpers/applicant.ts';
import { issueTestCard, registerTestSite, type TestCard, type TestSite } from '../helpers/fixtures.ts';
import { alertText, unescapeHtml } from '../helpers/html.ts';
import { signedInHolder } from '../helpers/holder.ts';
import { startCardManager, type TestServer } from '../helpers/server.ts';
import { approveFor, ledgerOf, statementDayToday } from '../ledger/fixtures.ts';

// any: the downloaded file, read as it comes and checked part by part.
type Json = Record<string, any>;

const DOWNLOADED = 'holder_data_downloaded';

/** "Download my data": /card/data and POST /api/holder/data. */
describe('a holder downloads a copy of their data (/card/data, /api/holder/data)', () => {
  let ts: TestServer;
  let site: TestSite;

  before(async () => {
    ts = await startCardManager(APPLY_SERVER);
    site = await registerTestSite(ts, { name: 'Comics Daily' } as never);
  });
  after(() => ts?.stop());

  const exports = (c: TestCard) => ts.db('audit_log').where({ subject_id: c.cardId, action: 'holder.data_exported' });
  const failures = (c: TestCard) => ts.db('audit_log').where({ subject_id: c.cardId, action: 'card.password_failed' });

  async function page(agent: ForwardedAgent): Promise<{ html: string; csrf: string }> {
    const res = await agent.get('/card/data');
    expect(res.status).to.equal(200);
    const html = await res.text();
    return { html, csrf: csrfOf(html, '/card/data') };
  }

  /**
   * The form's way to the file: the password posted, answered by a redirect to the page saying the file is ready (the
   * typed password goes with the page it was typed on), whose button posts for the file.
   */
  async function downloadByForm(agent: ForwardedAgent, password: string): Promise<Response> {
    const asked = await agent.post('/card/data', { csrf: (await page(agent)).csrf, password });
    expect(asked.status, 'the password is answered by a redirect').to.equal(303);
    expect(asked.headers.get('location')).to.equal('/card/data/ready');
    expect(asked.headers.get('content-disposition')).to.equal(null);
    const ready = await agent.get('/card/data/ready');
    expect(ready.status).to.equal(200);
    const html = await ready.text();
    expect(html).not.to.match(/type="password"/);
    return agent.post('/card/data/file', { csrf: csrfOf(html, '/card/data/file') });
  }

  function postJson(agent: ForwardedAgent, body: unknown, contentType = 'application/json') {
    return agent.request('/api/holder/data', {
      method: 'POST',
      headers: { 'content-type': contentType, accept: 'application/json' },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
  }

  /** A holder applied for with email and mobile, with approvals (one charged, reported), a statement, a repayment, a payout and a second factor. */
  async function busyHolder(): Promise<{ card: TestCard; email: string; totpKey: string; device: Buffer; reportWords: string }> {
    const h = await issueByApplication(ts, { legal_name: 'Choi Export' });
    await ts.db('accounts').where({ id: h.accountId }).update({ credit_limit: 100_000, statement_day: statementDayToday(ts.config.billing.timeZone) });
    const card: TestCard = { accountId: h.accountId, cardId: h.cardId, number: h.cardNumber, password: h.password };
    await approveFor(ts, card, site, 7_000, 'Issue #1');
    const charged = await approveFor(ts, card, site, 3_000, 'Issue #2');
    await inTransaction(ts.db, (trx) => capture(trx, { approvalNo: charged.approvalNo, amount: 3_000, actor: 'test' }));
    const reportWords = 'I never read issue two';
    await openDispute(
      { db: ts.db, windowDays: ts.config.payments.disputeDays },
      { accountId: card.accountId, cardId: card.cardId, approvalNo: charged.approvalNo, reason: 'not_mine', details: reportWords, actor: `card:${card.cardId}` },
    );
    await repay(ledgerOf(ts), { accountId: card.accountId, amount: 5_000, currency: 'KRW', source: 'operator', actor: 'test' });
    // Paid 2,000 more than the charge: 1,500 of it sent back.
    await payOut(ledgerOf(ts), { accountId: card.accountId, amount: 1_500, currency: 'KRW', bankReference: 'OUT-EXPORT-1', reason: 'internal note: overpaid', actor: 'ops:kim' });
    await billingRun(ledgerOf(ts), { cutoff: new Date() });
    const device = randomBytes(32);
    await rememberDevice(ts.db, card.accountId, device);

    const agent = await signedInHolder(ts.url, card);
    const security = await (await agent.get('/card/security')).text();
    const started = await (await agent.post('/card/security/totp', { csrf: csrfOf(security, '/card/security/totp') })).text();
    const totpKey = /id="totp-secret"[^>]*>([^<]+)</.exec(started)![1]!;
    const token = /name="enrol_token" value="([^"]+)"/.exec(started)![1]!;
    const code = new TOTP({ secret: Secret.fromBase32(totpKey), digits: 6, period: 30, algorithm: 'SHA1' }).generate();
    const confirmed = await agent.post('/card/security/totp/confirm', { csrf: csrfOf(started, '/card/security/totp/confirm'), enrol_token: token, code });
    expect(confirmed.status).to.equal(200);
    return { card, email: h.email, totpKey, device, reportWords };
  }

  it('says what the file holds, and answers the password with a JSON file of every part and nothing secret', async () => {
    const { card, email, totpKey, device, reportWords } = await busyHolder();
    const agent = await signedInHolder(ts.url, card);
    const account = await (await agent.get('/card/account')).text();
    expect(account).to.include('href="/card/data"');

    const shown = await page(agent);
    const html = unescapeHtml(shown.html);
    expect(html).to.include('Download a copy of your data');
    expect(html).to.match(/never holds your card number/i);

    const res = await downloadByForm(agent, card.password);
    const raw = await downloadedDataFile(res);
    const file = JSON.parse(raw) as Json;

    expect(Date.parse(file.made_at)).to.be.closeTo(Date.now(), 60_000);
    expect(file.account).to.include({ legal_name: 'Choi Export', email, language: 'en', credit_limit: 100_000, currency: 'KRW', guardian: null });
    expect(file.account.birthdate).to.match(/^\d{4}-\d{2}-\d{2}$/);
    expect(file.account.wards).to.deep.equal([]);
    expect(file.account.created_at).to.be.a('string');
    expect(file.cards).to.deep.equal([
      { last4: card.number.slice(-4), status: 'active', created_at: file.cards[0].created_at, closed_at: null, lost_at: null },
    ]);
    expect(file.spending_controls).to.deep.equal({ max_per_approval: null, monthly_cap: null, adult_content_off: false, blocked_sites: [] });
    expect(file.second_factor.enrolled).to.equal(true);
    expect(file.second_factor.since).to.be.a('string');
    expect(file.approvals).to.have.length(2);
    const chargedOne = file.approvals.find((a: Json) => a.description === 'Issue #2');
    expect(chargedOne).to.include({ site: 'Comics Daily', amount: 3_000, currency: 'KRW', status: 'captured', captured: 3_000, refunded: 0, card_last4: card.number.slice(-4), content_rating: 0 });
    expect(chargedOne.approval_no).to.be.a('string');
    expect(file.payment_reports).to.have.length(1);
    expect(file.payment_reports[0]).to.include({ approval_no: chargedOne.approval_no, reason: 'not_mine', your_words: reportWords, status: 'open' });
    expect(file.statements).to.have.length.at.least(1);
    expect(file.statements[0].lines.map((l: Json) => l.kind)).to.include('charge');
    expect(file.repayments.map((r: Json) => r.amount)).to.deep.equal([5_000]);
    // A payout as the holder's bank shows it (amount and the transfer's reference), not the operator's note nor who sent it.
    expect(file.payouts).to.have.length(1);
    expect(file.payouts[0]).to.deep.equal({ amount: 1_500, currency: 'KRW', bank_reference: 'OUT-EXPORT-1', paid_at: file.payouts[0].paid_at });
    expect(Date.parse(file.payouts[0].paid_at)).to.be.closeTo(Date.now(), 120_000);
    expect(raw).not.to.include('internal note');
    expect(raw).not.to.include('ops:kim');
    expect(file.activity.map((e: Json) => e.kind)).to.include.members(['payment_approved', 'payment_reported', 'second_factor_set_up', 'signed_in_to_card_pages']);
    expect(file.activity[0].text).to.be.a('string');
    // The one remembered above, and the two browsers that signed in on the holder pages (each a known device now).
    expect(file.devices).to.have.length(3);
    expect(Object.keys(file.devices[0]).sort()).to.deep.equal(['first_seen_at', 'last_seen_at']);
    expect(file.messages.map((m: Json) => m.template)).to.include('card_issued');
    expect(file.messages.every((m: Json) => ['email', 'sms'].includes(m.channel) && typeof m.to === 'string')).to.equal(true);
    expect(file.capped).to.deep.equal([]);

    // Nothing secret, anywhere in the file.
    const cardRow = await ts.db('cards').where({ id: card.cardId }).first();
    const factor = await ts.db('totp_factors').where({ account_id: card.accountId }).first();
    for (const secret of [
      card.number,
      card.password,
      totpKey,
      cardRow.password_hash,
      Buffer.from(cardRow.number_hmac).toString('hex'),
      Buffer.from(cardRow.number_hmac).toString('base64'),
      Buffer.from(factor.secret_sealed).toString('hex'),
      Buffer.from(factor.secret_sealed).toString('base64'),
      device.toString('hex'),
      device.toString('base64'),
      card.cardId,
      card.accountId,
    ]) {
      expect(raw, 'a secret or an id in the file').not.to.include(secret);
    }
    // No one-time code either: the messages say which template, never their data.
    expect(raw).not.to.match(/"code"/);

    // Audited without contents, and shown in the activity.
    const [entry, ...more] = await exports(card);
    expect(more).to.have.length(0);
    expect(entry.actor).to.equal(`card:${card.cardId}`);
    expect(JSON.stringify(entry.details)).not.to.include(email);
    const activity = unescapeHtml(await (await agent.get('/card/activity')).text());
    expect(activity).to.include('You downloaded a copy of your data.');
  });

  it("tells the holder at their email and mobile, in their language, that a copy was downloaded, queued in the audit entry's transaction (form and API)", async () => {
    const h = await issueByApplication(ts, { legal_name: uniqueName('Told') });
    const card: TestCard = { accountId: h.accountId, cardId: h.cardId, number: h.cardNumber, password: h.password };
    const account = await ts.db('accounts').where({ id: card.accountId }).first('email', 'mobile');
    expect(account.mobile, 'the holder gave a mobile number').to.be.a('string');
    const told = () => ts.db('notifications_outbox').where({ account_id: card.accountId, template: DOWNLOADED }).orderBy('id');
    const agent = await signedInHolder(ts.url, card);

    // The password proven alone makes no file and tells nothing; the file taken does.
    expect((await agent.post('/card/data', { csrf: (await page(agent)).csrf, password: card.password })).status).to.equal(303);
    expect(await told()).to.have.length(0);
    const ready = await (await agent.get('/card/data/ready')).text();
    expect((await agent.post('/card/data/file', { csrf: csrfOf(ready, '/card/data/file') })).status).to.equal(200);
    const [entry] = await exports(card);
    const messages = await told();
    expect(messages.map((m) => [m.channel, m.recipient]).sort()).to.deep.equal([['email', account.email], ['sms', account.mobile]]);
    for (const m of messages) {
      const data = (typeof m.data === 'string' ? JSON.parse(m.data) : m.data) as Json;
      // The card by its last four digits, the time in the deployment's time zone: nothing of the file.
      expect(data).to.deep.equal({ last4: card.number.slice(-4), at: data.at });
      // The time as the instant and the deployment's time zone, written in the reader's language when sent.
      expect(data.at).to.deep.equal({ at: (data.at as { at: string }).at, timeZone: ts.config.billing.timeZone });
      expect(Date.now() - Date.parse((data.at as { at: string }).at)).to.be.within(0, 60_000);
      expect(m.locale).to.equal('en');
      // now() is the transaction's start: the same instant on both rows means one transaction wrote them.
      expect(new Date(m.created_at).getTime(), 'queued with the audit entry').to.equal(new Date(entry.at).getTime());
      const text = renderMessage(DOWNLOADED, data, ts.url, 'en', m.channel).text;
      expect(text).to.include(formatLocalTime(new Date((data.at as { at: string }).at), ts.config.billing.timeZone));
      expect(text).to.match(/If this was not you|Not you\?/);
      expect(text).to.include(`${ts.url}/card/lost`);
    }

    // The API's download tells too; a holder who reads Korean is told in Korean.
    await ts.db('accounts').where({ id: card.accountId }).update({ locale: 'ko' });
    expect((await postJson(agent, { password: card.password })).status).to.equal(200);
    const korean = (await told()).slice(2);
    expect(korean.map((m) => [m.channel, m.locale]).sort()).to.deep.equal([['email', 'ko'], ['sms', 'ko']]);
    const koData = korean.find((m) => m.channel === 'email').data;
    const email = renderMessage(DOWNLOADED, (typeof koData === 'string' ? JSON.parse(koData) : koData) as Json, ts.url, 'ko', 'email');
    expect(email.subject).to.equal('사이버 카드 개인정보 사본이 다운로드되었습니다');
    expect(email.text).to.include(`끝자리 ${card.number.slice(-4)}`).and.include('한국 시간에').and.not.include('Asia/Seoul');

    // A wrong password tells nothing more.
    expect((await postJson(agent, { password: 'not the password at all' })).status).to.equal(401);
    expect(await told()).to.have.length(4);
  });

  it('makes the file once per password typed: the ready page\'s button answers it once, in the session that typed it, for a few minutes', async () => {
    const card = await issueTestCard(ts);
    const agent = await signedInHolder(ts.url, card);
    const other = await signedInHolder(ts.url, card);
    // Nothing ready yet: the ready page and its post lead back to the form, without a file.
    const notYet = await agent.get('/card/data/ready');
    expect(notYet.status).to.equal(303);
    expect(notYet.headers.get('location')).to.equal('/card/data');

    const asked = await agent.post('/card/data', { csrf: (await page(agent)).csrf, password: card.password });
    expect(asked.status).to.equal(303);
    const ready = await (await agent.get('/card/data/ready')).text();
    expect(unescapeHtml(ready)).to.include('Your copy is ready');
    const csrf = csrfOf(ready, '/card/data/file');
    expect(await exports(card), 'nothing is made before the button asks for it').to.have.length(0);
    // A reload of the ready page shows it again; another session of the same holder has nothing ready.
    expect((await agent.get('/card/data/ready')).status).to.equal(200);
    expect((await other.get('/card/data/ready')).status).to.equal(303);
    expect((await other.post('/card/data/file', { csrf })).status, "another session's post, with this session's token").to.equal(403);

    // Bad posts take nothing: a forged token, another field.
    expect((await agent.post('/card/data/file', { csrf: 'forged' })).status).to.equal(403);
    const extra = await agent.post('/card/data/file', { csrf, password: card.password });
    expect(extra.status).to.equal(400);
    expect(extra.headers.get('content-disposition')).to.equal(null);

    const file = await agent.post('/card/data/file', { csrf });
    expect(file.status).to.equal(200);
    expect(file.headers.get('content-disposition')).to.match(/^attachment; filename="cybercard-data-/);
    expect(file.headers.get('cache-control')).to.equal('no-store');
    expect(((await file.json()) as Json).cards).to.have.length(1);
    expect(await exports(card)).to.have.length(1);

    // Once: the same button again answers the form's page with a message, and no file.
    const again = await agent.post('/card/data/file', { csrf });
    expect(again.status).to.equal(410);
    expect(again.headers.get('content-disposition')).to.equal(null);
    expect(alertText(await again.text())).to.match(/type your password again/i);
    expect(await exports(card)).to.have.length(1);
    // The ready page, reloaded or come back to, no longer offers the file: it says it was saved, and where to start again.
    const used = await agent.get('/card/data/ready');
    expect(used.status).to.equal(200);
    const usedHtml = await used.text();
    expect(unescapeHtml(usedHtml)).to.include('Your copy was saved');
    expect(usedHtml).not.to.include('action="/card/data/file"');
    expect(usedHtml).to.include('href="/card/data"');
    expect((await other.get('/card/data/ready')).status, "another session's page knows nothing of it").to.equal(303);

    // A few minutes only; the page of a copy not saved in time is no such page.
    await agent.post('/card/data', { csrf: (await page(agent)).csrf, password: card.password });
    const late = csrfOf(await (await agent.get('/card/data/ready')).text(), '/card/data/file');
    await ts.db('holder_sessions').where({ account_id: card.accountId }).whereNotNull('data_ready_until').update({ data_ready_until: ts.db.raw("now() - interval '1 second'") });
    expect((await agent.post('/card/data/file', { csrf: late })).status).to.equal(410);
    expect(await exports(card)).to.have.length(1);
    expect((await agent.get('/card/data/ready')).headers.get('location')).to.equal('/card/data');
  });

  it('answers the same file as JSON from POST /api/holder/data', async () => {
    const card = await issueTestCard(ts);
    const agent = await signedInHolder(ts.url, card);
    const res = await postJson(agent, { password: card.password });
    expect(res.status).to.equal(200);
    expect(res.headers.get('content-type')).to.equal('application/json; charset=utf-8');
    expect(res.headers.get('cache-control')).to.equal('no-store');
    expect(res.headers.get('content-disposition')).to.match(/^attachment; filename="cybercard-data-/);
    const file = (await res.json()) as Json;
    expect(file.cards.map((c: Json) => c.last4)).to.deep.equal([card.number.slice(-4)]);
    expect(file.second_factor).to.deep.equal({ enrolled: false, since: null });
    expect(await exports(card)).to.have.length(1);
  });

  it('refuses a wrong password (counted, audited), a forged or missing token and another form\'s, downloading nothing', async () => {
    const card = await issueTestCard(ts);
    const agent = await signedInHolder(ts.url, card);
    const { csrf } = await page(agent);

    const wrong = await agent.post('/card/data', { csrf, password: 'not the password at all' });
    expect(wrong.status).to.equal(401);
    expect(wrong.headers.get('content-disposition')).to.equal(null);
    expect(alertText(await wrong.text())).to.match(/password/i);
    expect((await failures(card)).map((f) => f.details.page)).to.deep.equal(['data_export']);
    const hmac = Buffer.from((await ts.db('cards').where({ id: card.cardId }).first()).number_hmac).toString('hex');
    const counted = await ts.db('throttles').where({ scope: 'card', key: hmac }).first();
    expect(counted?.count, 'the card lockout counts the guess').to.equal(1);

    expect((await agent.post('/card/data', { csrf: 'forged', password: card.password })).status).to.equal(403);
    expect((await agent.post('/card/data', { password: card.password })).status).to.equal(403);
    const other = await (await agent.get('/card/statement-day')).text();
    expect((await agent.post('/card/data', { csrf: csrfOf(other, '/card/statement-day'), password: card.password })).status).to.equal(403);
    const extra = await agent.post('/card/data', { csrf, password: card.password, account_id: 'someone-else' });
    expect(extra.status).to.equal(400);
    expect(extra.headers.get('content-disposition')).to.equal(null);

    expect(await exports(card)).to.have.length(0);
    const activity = unescapeHtml(await (await agent.get('/card/activity')).text());
    expect(activity).to.include('Wrong password when downloading a copy of your data.');
  });

  it('refuses bad JSON input with 400 and a wrong password with 401, downloading nothing', async () => {
    const card = await issueTestCard(ts);
    const agent = await signedInHolder(ts.url, card);
    for (const [body, status] of [
      [{}, 400],
      [{ password: 12345678 }, 400],
      [{ password: card.password, account_id: 'x' }, 400],
      [[], 400],
      ['{"password":', 400],
      [{ password: 'wrong password here' }, 401],
    ] as const) {
      const res = await postJson(agent, body);
      expect(res.status, JSON.stringify(body)).to.equal(status);
      expect(res.headers.get('content-disposition')).to.equal(null);
      expect((await res.json()).error).to.be.a('string');
    }
    expect((await postJson(agent, `password=${encodeURIComponent(card.password)}`, 'application/x-www-form-urlencoded')).status).to.be.within(400, 415);
    expect(await exports(card)).to.have.length(0);
  });

  it('sends a visitor without a session to sign in, and the API answers 401', async () => {
    const card = await issueTestCard(ts);
    const stranger = await signedInHolder(ts.url, card);
    await stranger.post('/card/signout', { csrf: csrfOf(await (await stranger.get('/card/account')).text(), '/card/signout') });
    const res = await stranger.get('/card/data');
    expect(res.status).to.equal(303);
    expect(res.headers.get('location')).to.equal('/card/signin?next=%2Fcard%2Fdata');
    expect((await stranger.post('/card/data', { csrf: 'x', password: card.password })).status).to.be.oneOf([303, 403]);
    expect((await postJson(stranger, { password: card.password })).status).to.equal(401);
    expect(await exports(card)).to.have.length(0);
  });

  it("gives a guardian only the children's names, and a child only the guardian's name: never each other's data", async () => {
    const guardian = await issueTestCard(ts, '1980-03-03', 'Park Guardian');
    const app = application({ legal_name: uniqueName('Park'), birthdate: birthdateForAge(15), guardian_card_number: guardian.number, guardian_password: guardian.password });
    const { status, body } = await postApplication(ts, app);
    expect(status, JSON.stringify(body)).to.equal(201);
    const ward: TestCard = { accountId: '', cardId: String(body.card_id), number: String(body.card_number), password: String(app.password) };
    ward.accountId = String((await ts.db('cards').where({ id: ward.cardId }).first()).account_id);
    await ts.db('accounts').where({ id: ward.accountId }).update({ credit_limit: 10_000 });
    const paid = await approveFor(ts, ward, site, 500, 'Junior comic');
    const guardianWords = 'I did not allow this one';
    await openDispute(
      { db: ts.db, windowDays: ts.config.payments.disputeDays },
      { accountId: guardian.accountId, cardId: guardian.cardId, approvalNo: paid.approvalNo, reason: 'other', details: guardianWords, actor: `card:${guardian.cardId}` },
    );

    const asGuardian = await signedInHolder(ts.url, guardian);
    // The ward's password in the guardian's session is a wrong password: the file is always the session's own.
    expect((await postJson(asGuardian, { password: ward.password })).status).to.equal(401);
    const guardianFile = (await (await postJson(asGuardian, { password: guardian.password })).json()) as Json;
    expect(guardianFile.account.wards).to.deep.equal([app.legal_name]);
    expect(JSON.stringify(guardianFile)).not.to.include('Junior comic');
    expect(JSON.stringify(guardianFile)).not.to.include(String(app.email));
    expect(guardianFile.cards.map((c: Json) => c.last4)).to.deep.equal([guardian.number.slice(-4)]);
    expect(guardianFile.approvals).to.deep.equal([]);
    // The guardian's own report of the child's payment is the guardian's: their words, which payment, not what it bought.
    expect(guardianFile.payment_reports).to.have.length(1);
    expect(guardianFile.payment_reports[0]).to.include({ approval_no: paid.approvalNo, reported_by: 'you', about: "your child's payment", your_words: guardianWords, description: null });

    const asWard = await signedInHolder(ts.url, ward);
    expect((await postJson(asWard, { password: guardian.password })).status).to.equal(401);
    const wardFile = (await (await postJson(asWard, { password: ward.password })).json()) as Json;
    expect(wardFile.account.guardian).to.equal('Park Guardian');
    expect(wardFile.approvals.map((a: Json) => a.description)).to.deep.equal(['Junior comic']);
    // The report of the child's payment is listed, without the guardian's words.
    expect(wardFile.payment_reports[0]).to.include({ approval_no: paid.approvalNo, reported_by: 'your guardian', about: 'your payment', your_words: null });
    expect(JSON.stringify(wardFile)).not.to.include(guardianWords);
    expect(wardFile.cards.map((c: Json) => c.last4)).to.deep.equal([ward.number.slice(-4)]);
    expect(wardFile.account.wards).to.deep.equal([]);
    expect(JSON.stringify(wardFile)).not.to.include(guardian.number);
    expect(await exports(ward)).to.have.length(1);
    expect(await exports(guardian)).to.have.length(1);
  });

  it('caps each list, and says which lists were cut short', async () => {
    const card = await issueTestCard(ts);
    // More devices than the cap: the newest are kept, and the file says the list is not whole.
    await ts.db('known_devices').insert(Array.from({ length: 1001 }, (_, i) => ({ account_id: card.accountId, device_hash: randomBytes(32), last_seen_at: new Date(Date.now() - i * 1000) })));
    const agent = await signedInHolder(ts.url, card);
    const file = (await (await postJson(agent, { password: card.password })).json()) as Json;
    expect(file.cap).to.equal(1000);
    expect(file.devices).to.have.length(1000);
    expect(file.capped).to.deep.equal(['devices']);
    expect(Date.parse(file.devices[0].last_seen_at)).to.be.greaterThan(Date.parse(file.devices[999].last_seen_at));
    expect((await exports(card))[0].details).to.deep.include({ capped: ['devices'] });
  });

  it('is in Korean for a Korean browser', async () => {
    const card = await issueTestCard(ts);
    const agent = await signedInHolder(ts.url, card);
    const res = await agent.request('/card/data', { headers: { 'accept-language': 'ko' } });
    const html = unescapeHtml(await res.text());
    expect(html).to.include('내 정보 사본 받기');
    expect(html).not.to.include('Download a copy of your data');
  });
});

describe('downloads of a copy of their data are limited per account and hour (config holderData.downloadsPerHour)', () => {
  // Two instances on one database: the limit is kept in PostgreSQL, so they agree.
  let one: TestServer;
  let two: TestServer;
  const LIMIT = { holderData: { downloadsPerHour: 2 } };

  before(async () => {
    one = await startCardManager(LIMIT);
    two = await startCardManager(LIMIT);
  });
  after(async () => {
    await one?.stop();
    await two?.stop();
  });

  const exports = (c: TestCard) => one.db('audit_log').where({ subject_id: c.cardId, action: 'holder.data_exported' });
  const refusals = (c: TestCard) => one.db('audit_log').where({ subject_id: c.cardId, action: 'holder.data_export_refused' });
  const postJson = (agent: ForwardedAgent, body: unknown) =>
    agent.request('/api/holder/data', { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json' }, body: JSON.stringify(body) });

  it('has a default of a few an hour', async () => {
    const ts = await startCardManager();
    try {
      expect(ts.config.holderData.downloadsPerHour).to.equal(3);
    } finally {
      await ts.stop();
    }
  });

  it('refuses the download past the limit with 429, the page and the JSON saying when to come back, exporting nothing (audited)', async () => {
    const card = await issueTestCard(one);
    const first = await signedInHolder(one.url, card);
    const second = await signedInHolder(two.url, card);
    // A wrong password takes no download: it is counted towards the lockout instead.
    expect((await postJson(first, { password: 'not the password at all' })).status).to.equal(401);
    expect((await postJson(first, { password: card.password })).status).to.equal(200);
    const html = await (await second.get('/card/data')).text();
    expect((await second.post('/card/data', { csrf: csrfOf(html, '/card/data'), password: card.password })).status).to.equal(303);
    const ready = await (await second.get('/card/data/ready')).text();
    const byForm = await second.post('/card/data/file', { csrf: csrfOf(ready, '/card/data/file') });
    expect(byForm.status).to.equal(200);
    expect(byForm.headers.get('content-disposition')).to.match(/^attachment;/);

    const refused = await first.post('/card/data', { csrf: csrfOf(await (await first.get('/card/data')).text(), '/card/data'), password: card.password });
    expect(refused.status).to.equal(429);
    expect(refused.headers.get('content-disposition')).to.equal(null);
    expect(refused.headers.get('content-type')).to.match(/^text\/html/);
    const wait = Number(refused.headers.get('retry-after'));
    expect(wait).to.be.within(3_500, 3_600);
    expect(alertText(await refused.text())).to.match(/^You have downloaded your data as often as an hour allows\. You can download it again from \d{4}-\d{2}-\d{2} \d{2}:\d{2} /);

    const api = await postJson(second, { password: card.password });
    expect(api.status).to.equal(429);
    expect(api.headers.get('content-disposition')).to.equal(null);
    expect(Number(api.headers.get('retry-after'))).to.be.within(3_500, 3_600);
    const body = (await api.json()) as Json;
    expect(body.error).to.equal('too_many_downloads');
    expect(body.error_description).to.match(/as often as an hour allows/);

    expect(await exports(card)).to.have.length(2);
    const audited = await refusals(card);
    expect(audited).to.have.length(2);
    expect(audited[0].details).to.deep.include({ accountId: card.accountId, limit: 2 });

    // A wrong password past the limit is refused the same: no password is checked, no guess counted.
    const failuresBefore = (await one.db('audit_log').where({ subject_id: card.cardId, action: 'card.password_failed' })).length;
    expect((await postJson(first, { password: 'still not the password' })).status).to.equal(429);
    expect(await one.db('audit_log').where({ subject_id: card.cardId, action: 'card.password_failed' })).to.have.length(failuresBefore);

    // Another account of the same network is not held back, and the hour passed frees the account again.
    const other = await issueTestCard(one);
    expect((await postJson(await signedInHolder(one.url, other), { password: other.password })).status).to.equal(200);
    await one.db('throttles').where({ scope: 'data_export', key: card.accountId }).update({ window_start: one.db.raw("now() - interval '61 minutes'") });
    expect((await postJson(first, { password: card.password })).status).to.equal(200);
  });

  it('lets no more downloads through than the limit when they come at once to both instances', async () => {
    const card = await issueTestCard(one);
    const agents = await Promise.all([one, two, one, two, one, two].map((ts) => signedInHolder(ts.url, card)));
    const statuses = await Promise.all(agents.map(async (a) => (await postJson(a, { password: card.password })).status));
    expect(statuses.filter((s) => s === 200)).to.have.length(2);
    expect(statuses.filter((s) => s === 429)).to.have.length(4);
    expect(await exports(card)).to.have.length(2);
  });
});

describe('a holder downloads a copy of their data in a real browser', () => {
  let ts: TestServer;
  const browser = useBrowser();
  let page: Page | undefined;

  before(async () => {
    ts = await startCardManager(APPLY_SERVER);
  });
  after(() => ts?.stop());
  screenshotOnFailure(() => page);

  it('finds the page from the account page, is told of a wrong password, and saves the file with the right one, which stays typed nowhere', async function () {
    this.timeout(60_000);
    // A context of its own that saves downloads, so the file can be read as the browser saved it.
    const p = await (await browser().newContext({ acceptDownloads: true })).newPage();
    page = p;
    const problems = scriptProblems(p);
    const holder = await issueByApplication(ts, { legal_name: 'Yoon Saver' });
    const field = (label: string) => p.getByLabel(label, { exact: true });
    await p.goto(`${ts.url}/card/signin`);
    await field('Card number').fill(holder.cardNumber);
    await field('Card password').fill(holder.password);
    await p.getByRole('button', { name: 'Sign in' }).click();
    await p.getByRole('heading', { name: 'Your account' }).waitFor();
    await p.getByRole('link', { name: 'Download a copy of your data' }).click();
    await p.getByRole('heading', { name: 'Download a copy of your data' }).waitFor();
    const { violations } = await new AxeBuilder({ page: p }).analyze();
    expect(violations.map((v) => v.id)).to.deep.equal([]);

    await field('Card password').fill('not the password');
    await p.getByRole('button', { name: 'Download my data' }).click();
    await p.getByRole('alert').waitFor();

    await field('Card password').fill(holder.password);
    await p.getByRole('button', { name: 'Download my data' }).click();
    // The page the password was typed on is gone (no script needed): the next one says the file is ready, and has no
    // password field to keep it in.
    await p.getByRole('heading', { name: 'Your copy is ready' }).waitFor();
    expect(new URL(p.url()).pathname).to.equal('/card/data/ready');
    expect(await p.locator('input[type=password]').count()).to.equal(0);
    expect((await new AxeBuilder({ page: p }).analyze()).violations.map((v) => v.id)).to.deep.equal([]);
    const [download] = await Promise.all([p.waitForEvent('download'), p.getByRole('button', { name: 'Save the file' }).click()]);
    expect(download.suggestedFilename()).to.match(/^cybercard-data-\d{4}-\d{2}-\d{2}\.json$/);
    const file = JSON.parse(await readFile((await download.path())!, 'utf8')) as Json;
    expect(file.account.legal_name).to.equal('Yoon Saver');
    expect(file.activity.map((e: Json) => e.kind)).to.include('wrong_password');
    // Saved, the page the browser shows still holds the password nowhere.
    expect(new URL(p.url()).pathname).to.equal('/card/data/ready');
    expect(await p.locator('input').evaluateAll((inputs) => inputs.map((i) => (i as HTMLInputElement).value))).not.to.include(holder.password);
    // Reloaded, or come back to with Back, it says the copy was saved and offers no button that gives nothing.
    await p.reload();
    await p.getByRole('heading', { name: 'Your copy was saved' }).waitFor();
    expect(await p.getByRole('button', { name: 'Save the file' }).count()).to.equal(0);
    await p.getByRole('link', { name: 'Back to your account' }).click();
    await p.getByRole('heading', { name: 'Your account' }).waitFor();
    await p.goBack();
    await p.getByRole('heading', { name: 'Your copy was saved' }).waitFor();
    expect(await p.getByRole('button', { name: 'Save the file' }).count()).to.equal(0);
    await p.getByRole('link', { name: 'Download a new copy' }).click();
    await p.getByRole('heading', { name: 'Download a copy of your data' }).waitFor();
    expect(problems).to.deep.equal([]);
  });
});
