import { expect } from 'chai';
import { decodeJwt } from 'jose';
import * as client from 'openid-client';
import { capture } from '../../src/approvals/capture.ts';
import { inTransaction } from '../../src/db/tx.ts';
import { sweepDelinquency } from '../../src/ledger/delinquency.ts';
import { renderMessage } from '../../src/notifications/templates.ts';
import { birthdateForAge } from '../helpers/applicant.ts';
import { Agent, csrfFrom, location, runLogin, startInteraction, type FlowResult } from '../helpers/agent.ts';
import { authRequest, payRequest, registerTestSite, siteClient, type TestCard, type TestSite } from '../helpers/fixtures.ts';
import { signedInHolder } from '../helpers/holder.ts';
import { signedInOperator } from '../helpers/operator.ts';
import { unescapeHtml } from '../helpers/html.ts';
import type { TestServer } from '../helpers/server.ts';
import { approveFor, cardWithLimit, CHILD, familyOf, familyWithOverdueChild, ledgerOf, makeGuardianOverdue, makeOverdue, operator, startLedgerServer } from './fixtures.ts';

/** A payment of `amount` at `site` through PAR and the hosted pages, as the member site (openid-client) asks it. */
async function pay(ts: TestServer, site: TestSite, card: TestCard, amount = 1_000): Promise<{ agent: Agent; result: FlowResult }> {
  const cfg = await siteClient(ts, site);
  const req = await payRequest(cfg, site, [{ type: 'payment', amount, currency: 'KRW', description: 'Film' }]);
  const agent = new Agent(ts.url);
  return { agent, result: await runLogin(agent, req.url, card) };
}

/** Where the refusal page's link back sends the browser: the member site's redirect URI with the error. */
async function backToSite(ts: TestServer, agent: Agent, html: string): Promise<URL> {
  const link = unescapeHtml(/href="([^"]+)" id="return"/.exec(html)![1]!);
  return location(await agent.get(new URL(link, ts.url)), ts.url);
}

/** The approval page a payment's login leads to (card number and password taken), before Approve is pressed. */
async function approvalPage(ts: TestServer, site: TestSite, card: TestCard, uiLocales?: string): Promise<{ agent: Agent; html: string; path: string }> {
  const cfg = await siteClient(ts, site);
  const req = await payRequest(cfg, site, [{ type: 'payment', amount: 1_000, currency: 'KRW', description: 'Film' }], uiLocales ? { ui_locales: uiLocales } : {});
  const agent = new Agent(ts.url);
  const login = await startInteraction(agent, req.url);
  const html = await (await agent.post(`${login.path}/login`, { csrf: login.csrf, card_number: card.number, password: card.password })).text();
  expect(html).to.include('/confirm');
  return { agent, html, path: login.path };
}

/** The warning of an overdue statement on the approval page, if any. */
const overdueWarning = (html: string) => unescapeHtml(/<p class="error" id="overdue"[^>]*>([\s\S]*?)<\/p>/.exec(html)?.[1] ?? '').trim();

/** The refusal page's message. */
const reasonOf = (html: string) => unescapeHtml(/id="reason"[^>]*>([\s\S]*?)<\/p>/.exec(html)?.[1] ?? '').trim();

const heading = (html: string) => unescapeHtml(/<h1[^>]*>([^<]*)<\/h1>/.exec(html)?.[1] ?? '').trim();

describe("a guardian's card answers for the linked minor's overdue statement (delinquency.guardianResponsible)", () => {
  let ts: TestServer;
  let site: TestSite;
  let guardian: TestCard;
  let minor: TestCard;
  const outbox = (accountId: string, template: string) => ts.db('notifications_outbox').where({ account_id: accountId, template });

  before(async () => {
    ts = await startLedgerServer();
    site = await registerTestSite(ts, { maxAmount: 50_000 });
    ({ guardian, minor } = await familyWithOverdueChild(ts, site));
  });
  after(() => ts.stop());

  it("refuses the guardian's payment with its own page and audit, and sends the site access_denied coded ward_delinquent", async () => {
    const { agent, result } = await pay(ts, site, guardian);
    expect(result.kind).to.equal('page');
    if (result.kind !== 'page') return;
    expect(result.status).to.equal(403);
    expect(heading(result.html)).to.equal("A child's card is overdue");
    const text = unescapeHtml(result.html);
    expect(text).to.include(`The statement of ${CHILD}'s card, which you answer for,`);
    expect(text).to.include('3,000 KRW');
    const toSite = await backToSite(ts, agent, result.html);
    expect(toSite.origin + toSite.pathname).to.equal(site.redirectUri);
    expect(toSite.searchParams.get('error')).to.equal('access_denied');
    expect(toSite.searchParams.get('error_description')).to.match(/^ward_delinquent: /);
    const audit = await ts.db('audit_log').where({ subject_id: guardian.accountId, action: 'access.refused' });
    expect(audit.map((a: { details: { refusal: string } }) => a.details.refusal)).to.deep.equal(['ward_delinquent']);
    expect(await ts.db('approvals').where({ account_id: guardian.accountId }).first()).to.equal(undefined);
    // In Korean too (ui_locales), the figures and the child's name filled in.
    const cfg = await siteClient(ts, site);
    const ko = await payRequest(cfg, site, [{ type: 'payment', amount: 1_000, currency: 'KRW', description: 'Film' }], { ui_locales: 'ko' });
    const koPage = await runLogin(new Agent(ts.url), ko.url, guardian);
    expect(koPage.kind).to.equal('page');
    if (koPage.kind === 'page') {
      expect(heading(koPage.html)).to.equal('자녀 카드의 명세서가 연체되었습니다');
      expect(unescapeHtml(koPage.html)).to.match(new RegExp(`보호자로서 책임지고 계신 ${CHILD} 님 카드의 \\d{4}-\\d{2}-\\d{2} 명세서의 납부 기한\\(\\d{4}-\\d{2}-\\d{2}\\)이 지났으며 미납액\\([0-9,]+원\\)이 아직 남아 있습니다`));
    }
    // The child's own refusal stays the child's own: delinquent, not ward_delinquent.
    const child = await pay(ts, site, minor);
    expect(child.result.kind).to.equal('page');
    if (child.result.kind === 'page') expect((await backToSite(ts, child.agent, child.result.html)).searchParams.get('error_description')).to.match(/^delinquent: /);
  });

  it("says on the approval page, before Approve, what stops the card, in the refusal page's words; Approve is refused all the same", async () => {
    const approvalsOfFamily = () => ts.db('approvals').whereIn('account_id', [guardian.accountId, minor.accountId]);
    const before = (await approvalsOfFamily()).length;
    for (const [card, words] of [
      [guardian, `The statement of ${CHILD}'s card, which you answer for,`],
      [minor, 'Payment overdue: Your statement of'],
    ] as const) {
      const { agent, html, path } = await approvalPage(ts, site, card);
      const warning = overdueWarning(html);
      expect(warning).to.include(words);
      // Read first, before the button that would be refused.
      expect(html).to.match(/id="overdue"[^>]*autofocus/);
      // A forged form is turned away before anything is looked at; the real one is then refused for the statement.
      const forged = await agent.post(`${path}/confirm`, { csrf: 'forged' });
      expect(forged.status).to.be.within(400, 499);
      expect(await forged.text()).not.to.include('Approve 1,000');
      const refused = await agent.post(`${path}/confirm`, { csrf: csrfFrom(html) });
      expect(refused.status).to.equal(403);
      expect(reasonOf(await refused.text())).to.equal(warning);
      const ko = overdueWarning((await approvalPage(ts, site, card, 'ko')).html);
      expect(ko).to.match(/[가-힣]/);
      expect(ko).not.to.include('Payment overdue');
    }
    expect(await approvalsOfFamily()).to.have.length(before);
  });

  it("lets the guardian log in to free content, with a token whose credit standing reads overdue", async () => {
    const cfg = await siteClient(ts, site);
    const req = await authRequest(cfg, site, { resource: site.resource });
    const result = await runLogin(new Agent(ts.url), req.url, guardian);
    expect(result.kind).to.equal('redirect');
    if (result.kind !== 'redirect') return;
    const tokens = await client.authorizationCodeGrant(cfg, result.url, { pkceCodeVerifier: req.verifier, expectedState: req.state, expectedNonce: req.nonce });
    expect(decodeJwt(tokens.access_token).credit).to.deep.include({ currency: 'KRW', standing: 'overdue' });
  });

  it("tells the guardian why on their account page and JSON, and on the child's card in their view of it", async () => {
    const agent = await signedInHolder(ts.url, guardian);
    const json = (await (await agent.get('/api/holder/account')).json()) as { standing: Record<string, unknown> };
    expect(json.standing).to.include({ status: 'overdue', reason: 'ward', account_id: minor.accountId, ward_name: CHILD, outstanding: 3_000 });
    const page = unescapeHtml(await (await agent.get('/card/account')).text());
    expect(page).to.match(new RegExp(`The statement of ${CHILD}'s card, which you answer for, of \\d{4}-\\d{2}-\\d{2} was due on \\d{4}-\\d{2}-\\d{2} and 3,000 KRW is still unpaid`));
    const wards = (await (await agent.get('/api/holder/wards')).json()) as Array<Record<string, unknown>>;
    expect(wards[0]!.standing).to.include({ status: 'overdue', outstanding: 3_000 });
    const wardsPage = unescapeHtml(await (await agent.get('/card/wards')).text());
    expect(wardsPage).to.match(/id="ward-overdue-[^"]+"[^>]*>[^<]*The statement of \d{4}-\d{2}-\d{2} was due on/);
    // The operator sees it too, on the API and the console's card page.
    const ops = await operator(ts, 'GET', `/admin/api/ledger/cards/${guardian.cardId}`);
    expect(ops.json.standing).to.include({ status: 'overdue', reason: 'ward', account_id: minor.accountId });
    const consolePage = unescapeHtml(await (await (await signedInOperator(ts.url, ts.config.secrets.operatorToken!)).get(`/admin/cards/${guardian.cardId}`)).text());
    expect(consolePage).to.include(`(the account of ${CHILD}, a minor this card answers for:`);
    // The child's own page says it is its own statement.
    const own = (await (await (await signedInHolder(ts.url, minor)).get('/api/holder/account')).json()) as { standing: Record<string, unknown> };
    expect(own.standing).to.include({ status: 'overdue', reason: 'own', account_id: minor.accountId });
  });

  it('notifies the guardian once that their own card is stopped too', async () => {
    expect(await sweepDelinquency(ledgerOf(ts))).to.equal(1);
    expect(await sweepDelinquency(ledgerOf(ts))).to.equal(0);
    const told = await outbox(guardian.accountId, 'payment_overdue');
    expect(told).to.have.length(1);
    const text = renderMessage('payment_overdue', told[0].data, ts.url, 'en', told[0].channel).text;
    expect(text).to.include(`The statement of ${CHILD}, whose card you are responsible for,`);
    expect(text).to.include('New charges on that card and on yours are refused until it is paid');
    const ko = renderMessage('payment_overdue', told[0].data, ts.url, 'ko', told[0].channel).text;
    expect(ko).to.include('보호자님의 카드');
  });

  it("approves the guardian's payment again once the child's statement is repaid, and says so", async () => {
    const repaid = await operator(ts, 'POST', '/admin/api/ledger/repayments', { card_id: minor.cardId, amount: 3_000, currency: 'KRW' });
    expect(repaid.status).to.equal(201);
    expect(repaid.json.restored).to.equal(true);
    const { result } = await pay(ts, site, guardian);
    expect(result.kind).to.equal('redirect');
    if (result.kind === 'redirect') expect(result.url.searchParams.get('code')).to.be.a('string');
    const restored = await outbox(guardian.accountId, 'payment_restored');
    expect(restored).to.have.length(1);
    expect(renderMessage('payment_restored', restored[0].data, ts.url, 'en', restored[0].channel).text).to.include('on it and on yours');
    const agent = await signedInHolder(ts.url, guardian);
    expect(((await (await agent.get('/api/holder/account')).json()) as { standing: unknown }).standing).to.deep.equal({ status: 'good' });
    expect((await pay(ts, site, minor)).result.kind).to.equal('redirect');
  });

  it("leaves a guardian whose child is not overdue alone", async () => {
    const other = await cardWithLimit(ts, 100_000);
    const child = await cardWithLimit(ts, 20_000, { guardian_account_id: other.accountId, birthdate: birthdateForAge(12) });
    await approveFor(ts, child, site, 2_000, 'Held, never billed');
    const { result } = await pay(ts, site, other);
    expect(result.kind).to.equal('redirect');
    if (result.kind === 'redirect') expect(result.url.searchParams.get('code')).to.be.a('string');
  });
});

describe('a repayment that leaves another statement a card answers for overdue', () => {
  let ts: TestServer;
  let site: TestSite;
  before(async () => {
    ts = await startLedgerServer();
    site = await registerTestSite(ts, { maxAmount: 50_000 });
  });
  after(() => ts.stop());
  const outbox = (accountId: string, template: string) => ts.db('notifications_outbox').where({ account_id: accountId, template });
  const told = async (accountId: string) =>
    (await ts.db('notifications_outbox').where({ account_id: accountId }).whereIn('template', ['payment_restored', 'statement_paid_still_paused']).orderBy('id')).map(
      (r: { template: string }) => r.template,
    );

  it("tells the guardian and the child the child's statement is paid, not that either card pays again, while the guardian's own is overdue", async () => {
    const family = await familyOf(ts);
    await ts.db('accounts').where({ id: family.minor.accountId }).update({ email: 'child@example.test' });
    // The guardian owes on the same statement day: both statements overdue.
    const film = await approveFor(ts, family.guardian, site, 2_000, 'Film');
    await inTransaction(ts.db, (trx) => capture(trx, { approvalNo: film.approvalNo, actor: 'test' }));
    await makeOverdue(ts, site, family);
    expect(await sweepDelinquency(ledgerOf(ts))).to.equal(2);

    const repaid = await operator(ts, 'POST', '/admin/api/ledger/repayments', { card_id: family.minor.cardId, amount: 3_000, currency: 'KRW' });
    expect(repaid.status).to.equal(201);
    expect(await told(family.guardian.accountId)).to.deep.equal(['statement_paid_still_paused']);
    expect(await told(family.minor.accountId)).to.deep.equal(['statement_paid_still_paused']);
    const [g] = await outbox(family.guardian.accountId, 'statement_paid_still_paused');
    for (const locale of ['en', 'ko'] as const) {
      const text = renderMessage('statement_paid_still_paused', g.data, ts.url, locale, g.channel).text;
      expect(text).to.include(CHILD);
    }
    expect(renderMessage('statement_paid_still_paused', g.data, ts.url, 'en', g.channel).text).to.include('stay refused');
    expect((await pay(ts, site, family.guardian)).result.kind).to.equal('page');

    // The guardian's own repayment: now both cards pay again, and the guardian is told so.
    const own = await operator(ts, 'POST', '/admin/api/ledger/repayments', { card_id: family.guardian.cardId, amount: 2_000, currency: 'KRW' });
    expect(own.status).to.equal(201);
    expect(own.json.restored).to.equal(true);
    expect(await told(family.guardian.accountId)).to.deep.equal(['statement_paid_still_paused', 'payment_restored']);
    expect((await pay(ts, site, family.guardian)).result.kind).to.equal('redirect');
    // The guardian's repayment frees the child's card too, and the child is told it was the guardian's statement.
    expect(await told(family.minor.accountId)).to.deep.equal(['statement_paid_still_paused', 'payment_restored']);
    const [m] = await outbox(family.minor.accountId, 'payment_restored');
    expect(m.data).to.deep.equal({ guardian: true });
  });

  it("tells a child overdue on their own statement, once, that the guardian's stops the card too and paying their own will not restore it", async () => {
    const family = await familyOf(ts);
    await ts.db('accounts').where({ id: family.minor.accountId }).update({ email: 'child@example.test' });
    // Both owe on the same statement day: both statements overdue.
    const film = await approveFor(ts, family.guardian, site, 2_000, 'Film');
    await inTransaction(ts.db, (trx) => capture(trx, { approvalNo: film.approvalNo, actor: 'test' }));
    await makeOverdue(ts, site, family);
    expect(await sweepDelinquency(ledgerOf(ts))).to.equal(2);
    expect(await sweepDelinquency(ledgerOf(ts))).to.equal(0);
    const text = (r: { template: Parameters<typeof renderMessage>[0]; data: Parameters<typeof renderMessage>[1]; channel: Parameters<typeof renderMessage>[4] }, locale: 'en' | 'ko') => renderMessage(r.template, r.data, ts.url, locale, r.channel).text;
    const child = await outbox(family.minor.accountId, 'payment_overdue');
    // One message per statement, per channel: their own (with its amount) and the guardian's (its dates only).
    const own = child.filter((r: { data: Record<string, unknown> }) => !r.data.guardian);
    const guardians = child.filter((r: { data: Record<string, unknown> }) => r.data.guardian);
    expect(own.map((r: { channel: string }) => r.channel)).to.have.members(guardians.map((r: { channel: string }) => r.channel));
    expect(new Set(own.map((r: { channel: string }) => r.channel)).size).to.equal(own.length);
    for (const r of guardians) {
      expect(r.data).not.to.have.property('amount');
      expect(r.data).to.include({ also: true });
    }
    const [g] = guardians.filter((r: { channel: string }) => r.channel === 'email');
    expect(text(g, 'en')).to.include("Your guardian's statement of");
    expect(text(g, 'en')).to.include('even once yours is paid');
    expect(text(g, 'en')).not.to.include('New charges on your card are refused until your guardian pays it;');
    expect(text(g, 'ko')).to.include('회원님의 명세서를 납부하더라도');
    // Their own says that another statement stops the card too, so paying it alone does not restore it.
    const [o] = own.filter((r: { channel: string }) => r.channel === 'email');
    expect(o.data).to.deep.include({ amount: { amount: 3000, currency: 'KRW' }, also: true });
    expect(text(o, 'en')).to.include('Another overdue statement your card answers for stops it too');
    expect(text(o, 'ko')).to.include('다른 미납 명세서');
    // The guardian: their own and the child's, each saying the other stops the card too.
    for (const r of await outbox(family.guardian.accountId, 'payment_overdue')) expect(r.data).to.include({ also: true });
  });

  it("tells the child, once, that the guardian's overdue statement stops their card, and when the guardian's repayment frees it", async () => {
    const family = await familyOf(ts);
    await ts.db('accounts').where({ id: family.minor.accountId }).update({ email: 'child@example.test' });
    await makeGuardianOverdue(ts, site, family);
    expect(await sweepDelinquency(ledgerOf(ts))).to.equal(1);
    expect(await sweepDelinquency(ledgerOf(ts))).to.equal(0);
    const stopped = await outbox(family.minor.accountId, 'payment_overdue');
    expect(stopped).to.have.length(1);
    expect(stopped[0].data).to.include({ guardian: true });
    // Nothing else stops the child's card: the plain words, not "too".
    expect(stopped[0].data).not.to.have.property('also');
    // The guardian's figures are the guardian's: the child is told whose statement, not how much is owed on it.
    expect(stopped[0].data).not.to.have.property('amount');
    const en = renderMessage('payment_overdue', stopped[0].data, ts.url, 'en', stopped[0].channel).text;
    expect(en).to.include("Your guardian's statement of");
    expect(en).to.include('New charges on your card are refused until your guardian pays it');
    expect(renderMessage('payment_overdue', stopped[0].data, ts.url, 'ko', stopped[0].channel).text).to.include('보호자님의');
    expect((await pay(ts, site, family.minor)).result.kind).to.equal('page');

    const repaid = await operator(ts, 'POST', '/admin/api/ledger/repayments', { card_id: family.guardian.cardId, amount: 2_000, currency: 'KRW' });
    expect(repaid.status).to.equal(201);
    expect(repaid.json.restored).to.equal(true);
    expect(await told(family.minor.accountId)).to.deep.equal(['payment_restored']);
    const [freed] = await outbox(family.minor.accountId, 'payment_restored');
    const freedText = renderMessage('payment_restored', freed.data, ts.url, 'en', freed.channel).text;
    expect(freedText).to.include("Your guardian's overdue statement is paid");
    expect(renderMessage('payment_restored', freed.data, ts.url, 'ko', freed.channel).text).to.include('보호자님의');
    expect((await pay(ts, site, family.minor)).result.kind).to.equal('redirect');
  });

  it("says plainly on the child's refusal page and account page that the guardian's statement stops the card and the guardian paying it restores it", async () => {
    const family = await familyOf(ts);
    await makeGuardianOverdue(ts, site, family);
    const plain = /Your guardian's statement of \d{4}-\d{2}-\d{2} was due on \d{4}-\d{2}-\d{2} and is still unpaid\. New charges on your card are refused until your guardian pays it; free content stays open\./;
    const { result } = await pay(ts, site, family.minor);
    expect(result.kind).to.equal('page');
    if (result.kind !== 'page') return;
    expect(heading(result.html)).to.equal("Your guardian's statement is overdue");
    expect(unescapeHtml(result.html)).to.match(plain);
    // The guardian's figures are the guardian's: not on the child's page.
    expect(unescapeHtml(result.html)).not.to.include('2,000 KRW');
    const cfg = await siteClient(ts, site);
    const ko = await payRequest(cfg, site, [{ type: 'payment', amount: 1_000, currency: 'KRW', description: 'Film' }], { ui_locales: 'ko' });
    const koPage = await runLogin(new Agent(ts.url), ko.url, family.minor);
    expect(koPage.kind).to.equal('page');
    if (koPage.kind === 'page') {
      expect(heading(koPage.html)).to.equal('보호자님의 명세서가 연체되었습니다');
      expect(unescapeHtml(koPage.html)).to.include('보호자님이 납부할 때까지 회원님 카드의 새 결제가 거절되며');
    }
    const agent = await signedInHolder(ts.url, family.minor);
    const page = unescapeHtml(await (await agent.get('/card/account')).text());
    expect(page).to.match(plain);
    const json = (await (await agent.get('/api/holder/account')).json()) as { standing: Record<string, unknown> };
    expect(json.standing).to.include({ status: 'overdue', reason: 'guardian' });
    expect(json.standing.message).to.equal("Payment overdue on your guardian's statement: new charges on your card are refused until your guardian pays it.");
  });
});

describe("a minor's own standing beside the guardian's overdue statement (the holder's JSON)", () => {
  let ts: TestServer;
  let site: TestSite;
  before(async () => {
    ts = await startLedgerServer();
    site = await registerTestSite(ts, { maxAmount: 50_000 });
  });
  after(() => ts.stop());
  const standingOf = async (card: TestCard) => {
    const agent = await signedInHolder(ts.url, card);
    return ((await (await agent.get('/api/holder/account')).json()) as { standing: Record<string, unknown> }).standing;
  };

  it("names the guardian's statement apart, with its dates only: not the guardian's amount nor account as the minor's own", async () => {
    const family = await familyOf(ts);
    await makeGuardianOverdue(ts, site, family);
    const standing = await standingOf(family.minor);
    expect(standing).to.include({ status: 'overdue', reason: 'guardian' });
    // The minor owes nothing overdue of their own; the guardian's 2,000 KRW and account are not theirs to see.
    expect(standing).not.to.have.any.keys('outstanding', 'account_id', 'statement_date', 'due_date');
    expect(JSON.stringify(standing)).not.to.include(family.guardian.accountId);
    expect(standing.guardian_statement).to.have.all.keys('statement_date', 'due_date');
    // The dates the account page shows the minor.
    const page = unescapeHtml(await (await (await signedInHolder(ts.url, family.minor)).get('/card/account')).text());
    const g = standing.guardian_statement as { statement_date: string; due_date: string };
    expect(page).to.include(`Your guardian's statement of ${g.statement_date} was due on ${g.due_date} and is still unpaid.`);
    // The approval page says it before Approve, in the words of the refusal page, and not the guardian's figures.
    const { html } = await approvalPage(ts, site, family.minor);
    expect(overdueWarning(html)).to.equal(`Your guardian's statement of ${g.statement_date} was due on ${g.due_date} and is still unpaid. New charges on your card are refused until your guardian pays it; free content stays open.`);
    expect(overdueWarning((await approvalPage(ts, site, family.minor, 'ko')).html)).to.include('보호자님이 납부할 때까지');
    // The operator sees whose account and how much.
    const seen = await operator(ts, 'GET', `/admin/api/ledger/cards/${family.minor.cardId}`);
    expect((seen.json.standing as { guardian_statement: object }).guardian_statement).to.include({ account_id: family.guardian.accountId, outstanding: 2_000, statement_date: g.statement_date });
  });

  it("gives a minor overdue on their own statement their own figures, and the guardian's overdue statement beside them", async () => {
    const family = await familyOf(ts);
    // Both owe on the same statement day: both statements overdue.
    const film = await approveFor(ts, family.guardian, site, 2_000, 'Film');
    await inTransaction(ts.db, (trx) => capture(trx, { approvalNo: film.approvalNo, actor: 'test' }));
    await makeOverdue(ts, site, family);
    const standing = await standingOf(family.minor);
    expect(standing).to.include({ status: 'overdue', reason: 'own', account_id: family.minor.accountId, outstanding: 3_000 });
    expect(standing.guardian_statement).to.have.all.keys('statement_date', 'due_date');
    // The account page says that paying their own does not restore the card while the guardian's is overdue.
    const page = unescapeHtml(await (await (await signedInHolder(ts.url, family.minor)).get('/card/account')).text());
    expect(page).to.include("Your guardian's statement of");
    // A minor without an overdue guardian has no such member.
    const alone = await familyOf(ts);
    await makeOverdue(ts, site, alone);
    expect(await standingOf(alone.minor)).not.to.have.property('guardian_statement');
  });

  it("keeps the child's overdue statement, its flag and both refusals where they were when the guardian changes the statement day", async () => {
    const family = await familyOf(ts);
    await makeOverdue(ts, site, family);
    // (Earlier tests' families on this server are flagged by the same sweep.)
    await sweepDelinquency(ledgerOf(ts));
    const flag = async () => (await ts.db('accounts').where({ id: family.minor.accountId }).first()).delinquent_since;
    const flagged = await flag();
    expect(flagged).not.to.equal(null);
    const before = { minor: await standingOf(family.minor), guardian: await standingOf(family.guardian) };
    expect(before.minor).to.include({ reason: 'own', outstanding: 3_000 });

    // The guardian's day moves (the ward's with it): the period running closes on the sooner of the two days.
    const current = (await ts.db('accounts').where({ id: family.guardian.accountId }).first()).statement_day as number;
    const changed = await operator(ts, 'PUT', `/admin/api/ledger/cards/${family.guardian.cardId}/statement-day`, { statement_day: (current % 28) + 1, reason: 'test' });
    expect(changed.status, changed.text).to.equal(200);
    const ward = (await (await (await signedInHolder(ts.url, family.minor)).get('/api/holder/account')).json()) as { statement_day: number };
    expect(ward.statement_day).to.equal((current % 28) + 1);

    // The overdue statement is a statement already closed, with its own dates: a new schedule bills later periods only.
    expect(await standingOf(family.minor)).to.deep.equal(before.minor);
    expect(await standingOf(family.guardian)).to.deep.equal(before.guardian);
    expect(await flag()).to.deep.equal(flagged);
    for (const [card, code] of [
      [family.minor, 'delinquent'],
      [family.guardian, 'ward_delinquent'],
    ] as const) {
      const { agent, result } = await pay(ts, site, card);
      expect(result.kind).to.equal('page');
      if (result.kind === 'page') expect((await backToSite(ts, agent, result.html)).searchParams.get('error_description')).to.match(new RegExp(`^${code}: `));
    }
  });
});

describe("a guardian's card with delinquency.guardianResponsible off", () => {
  let ts: TestServer;
  let site: TestSite;

  before(async () => {
    ts = await startLedgerServer({ delinquency: { graceDays: 5, guardianResponsible: false, blockLogins: true } });
    site = await registerTestSite(ts, { maxAmount: 50_000 });
  });
  after(() => ts.stop());

  it("approves the guardian's payment while the child is overdue, and the child's own payment stays refused", async () => {
    const { guardian, minor } = await familyWithOverdueChild(ts, site);
    const { result } = await pay(ts, site, guardian);
    expect(result.kind).to.equal('redirect');
    if (result.kind === 'redirect') expect(result.url.searchParams.get('code')).to.be.a('string');
    const child = await pay(ts, site, minor);
    expect(child.result.kind).to.equal('page');
  });

  it("tells the child nothing of the guardian's overdue statement, which does not stop the child's card", async () => {
    const family = await familyOf(ts);
    await ts.db('accounts').where({ id: family.minor.accountId }).update({ email: 'child@example.test' });
    await makeGuardianOverdue(ts, site, family);
    await sweepDelinquency(ledgerOf(ts));
    expect(await ts.db('notifications_outbox').where({ account_id: family.guardian.accountId, template: 'payment_overdue' })).to.have.length(1);
    expect(await ts.db('notifications_outbox').where({ account_id: family.minor.accountId, template: 'payment_overdue' })).to.have.length(0);
    await operator(ts, 'POST', '/admin/api/ledger/repayments', { card_id: family.guardian.cardId, amount: 2_000, currency: 'KRW' });
    expect(await ts.db('notifications_outbox').where({ account_id: family.minor.accountId }).whereIn('template', ['payment_restored', 'statement_paid_still_paused'])).to.have.length(0);
  });
});

describe("a guardian's plain logins while the child is overdue, with delinquency.blockLogins", () => {
  let ts: TestServer;
  let site: TestSite;
  let guardian: TestCard;

  before(async () => {
    ts = await startLedgerServer({ delinquency: { graceDays: 5, guardianResponsible: true, blockLogins: true } });
    site = await registerTestSite(ts);
    ({ guardian } = await familyWithOverdueChild(ts, site));
  });
  after(() => ts.stop());

  it("stops the guardian's plain login with its own page and audit, and sends the site access_denied coded ward_delinquent", async () => {
    const cfg = await siteClient(ts, site);
    const req = await authRequest(cfg, site);
    const agent = new Agent(ts.url);
    const result = await runLogin(agent, req.url, guardian);
    expect(result.kind).to.equal('page');
    if (result.kind !== 'page') return;
    expect(result.status).to.equal(403);
    expect(heading(result.html)).to.equal("A child's card is overdue");
    expect(unescapeHtml(result.html)).to.include(`A statement of ${CHILD}'s card, which you answer for, is overdue`);
    const audit = await ts.db('audit_log').where({ subject_id: guardian.accountId, action: 'access.refused_overdue' });
    expect(audit).to.have.length(1);
    expect(audit[0].details).to.include({ ward: true });
    const uid = /\/interaction\/([^/]+)\/abort/.exec(result.html)![1]!;
    const back = location(await agent.post(`/interaction/${uid}/abort`, { csrf: csrfFrom(result.html) }), ts.url);
    expect(back.searchParams.get('error')).to.equal('access_denied');
    expect(back.searchParams.get('error_description')).to.match(/^ward_delinquent: /);
  });

  it("refuses the guardian's refresh token, granted before the child fell overdue, coded ward_delinquent", async () => {
    const family = await familyOf(ts);
    const cfg = await siteClient(ts, site);
    const req = await authRequest(cfg, site);
    const result = await runLogin(new Agent(ts.url), req.url, family.guardian);
    if (result.kind !== 'redirect') throw new Error('expected the login to go through');
    const tokens = await client.authorizationCodeGrant(cfg, result.url, { pkceCodeVerifier: req.verifier, expectedState: req.state, expectedNonce: req.nonce });
    await makeOverdue(ts, site, family);
    const refused = await client.refreshTokenGrant(cfg, tokens.refresh_token!).then(
      () => undefined,
      (err: unknown) => err as { error?: string; error_description?: string },
    );
    expect(refused?.error).to.equal('invalid_grant');
    expect(refused?.error_description).to.match(/^ward_delinquent: /);
  });

  it("stops the child's plain login while the guardian's statement is overdue, saying it is the guardian's and that the guardian paying it restores the card", async () => {
    const family = await familyOf(ts);
    await makeGuardianOverdue(ts, site, family);
    const cfg = await siteClient(ts, site);
    const result = await runLogin(new Agent(ts.url), (await authRequest(cfg, site)).url, family.minor);
    expect(result.kind).to.equal('page');
    if (result.kind !== 'page') return;
    expect(heading(result.html)).to.equal("Your guardian's statement is overdue");
    expect(unescapeHtml(result.html)).to.match(
      /Your guardian's statement is overdue, so your card cannot be used at Site [^<]+ until your guardian pays it\. Your card page shows the dates\./,
    );
    const ko = await runLogin(new Agent(ts.url), (await authRequest(cfg, site, { ui_locales: 'ko' })).url, family.minor);
    if (ko.kind === 'page') expect(unescapeHtml(ko.html)).to.include('보호자님이 납부할 때까지');
    else expect.fail('expected the Korean refusal page');
  });

  it('answers prompt=none with access_denied coded ward_delinquent, no page', async () => {
    const cfg = await siteClient(ts, site);
    const agent = new Agent(ts.url);
    // Signed in first (the login step makes the session; the refusal comes after it).
    expect((await runLogin(agent, (await authRequest(cfg, site)).url, guardian)).kind).to.equal('page');
    const res = await agent.get((await authRequest(cfg, site, { prompt: 'none', scope: 'openid' })).url);
    expect(res.status).to.equal(303);
    const toSite = location(res, ts.url);
    expect(toSite.searchParams.get('error')).to.equal('access_denied');
    expect(toSite.searchParams.get('error_description')).to.match(/^ward_delinquent: /);
  });
});
