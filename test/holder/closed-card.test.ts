import { expect } from 'chai';
import { capture } from '../../src/approvals/capture.ts';
import { closeCard } from '../../src/cards/close.ts';
import { reissue } from '../../src/cards/reissue.ts';
import { reportLost } from '../../src/cards/report-lost.ts';
import { inTransaction } from '../../src/db/tx.ts';
import { billingRun } from '../../src/ledger/billing-run.ts';
import { repay } from '../../src/ledger/repay.ts';
import { renderMessage } from '../../src/notifications/templates.ts';
import { Agent, csrfFrom, csrfOf, runLogin, type ForwardedAgent } from '../helpers/agent.ts';
import { e164, latestCode, uniqueMobile } from '../helpers/applicant.ts';
import { authRequest, payRequest, registerTestSite, siteClient, type TestCard, type TestSite } from '../helpers/fixtures.ts';
import { signedInHolder } from '../helpers/holder.ts';
import { alertText, fieldError, unescapeHtml } from '../helpers/html.ts';
import type { TestServer } from '../helpers/server.ts';
import { approveFor, cardWithLimit, ledgerOf, operator, startLedgerServer } from '../ledger/fixtures.ts';

/** A former holder (a closed card) signs in to see and settle what is owed, and to nothing else. */
describe('a closed card on the holder pages (limited sign-in)', () => {
  let ts: TestServer;
  let site: TestSite;

  before(async () => {
    ts = await startLedgerServer();
    site = await registerTestSite(ts, { name: 'Closed Comics' } as never);
  });
  after(() => ts?.stop());

  const json = { accept: 'application/json' };

  /** A card that owes 5,000 KRW on a statement, with 1,000 KRW paid since, closed by its holder on the close page. */
  async function closedOwing(): Promise<{ card: TestCard; statementId: number; reference: string }> {
    const card = await cardWithLimit(ts, 100_000, { email: `closed-${Math.random().toString(36).slice(2)}@example.test` });
    const charged = await approveFor(ts, card, site, 5_000, 'Issue #7');
    await inTransaction(ts.db, (trx) => capture(trx, { approvalNo: charged.approvalNo, amount: 5_000, actor: 'test' }));
    await billingRun(ledgerOf(ts), { cutoff: new Date() });
    const agent = await signedInHolder(ts.url, card);
    const close = await (await agent.get('/card/close')).text();
    const done = await agent.post('/card/close', { csrf: csrfOf(close, '/card/close'), password: card.password, confirm: 'yes' });
    expect(done.status).to.equal(200);
    expect(unescapeHtml(await done.text())).to.include('You can still sign in with this card number and password to see and pay what you owe.');
    await repay(ledgerOf(ts), { accountId: card.accountId, amount: 1_000, currency: 'KRW', source: 'operator', actor: 'test', receivedOn: '2026-12-01' });
    const statement = await ts.db('statements').where({ account_id: card.accountId }).first();
    const account = await (await (await signedInHolder(ts.url, card)).request('/api/holder/account', { headers: json })).json();
    return { card, statementId: Number(statement.id), reference: account.payment_reference };
  }

  /** What a refused request must leave as it was. */
  async function state(card: TestCard) {
    const count = async (table: string, where: Record<string, unknown>) => Number((await ts.db(table).where(where).count({ n: '*' }))[0]!.n);
    return {
      account: await ts.db('accounts').where({ id: card.accountId }).first(),
      card: await ts.db('cards').where({ id: card.cardId }).first(),
      audit: await count('audit_log', { subject_id: card.cardId }) + (await count('audit_log', { subject_id: card.accountId })),
      messages: await count('notifications_outbox', { account_id: card.accountId }),
      sessions: await count('holder_sessions', { account_id: card.accountId }),
      totp: await count('totp_factors', { account_id: card.accountId }),
    };
  }

  it('signs in to the account: what is owed, the statements, the payments received and how to pay; the navigation only what works', async () => {
    const { card, statementId, reference } = await closedOwing();
    const agent = new Agent(ts.url);
    const csrf = csrfFrom(await (await agent.get('/card/signin')).text());
    const signin = await agent.post('/card/signin', { csrf, card_number: card.number, password: card.password });
    expect(signin.status).to.equal(303);
    expect(signin.headers.get('location')).to.equal('/card/account');
    const signedIn = await ts.db('audit_log').where({ subject_id: card.cardId, action: 'holder.signed_in' }).orderBy('id', 'desc').first();
    expect(signedIn.details).to.deep.include({ cardClosed: true });
    expect(await ts.db('audit_log').where({ subject_id: card.cardId, action: 'card.login_refused' })).to.have.length(0);

    const res = await agent.get('/card/account');
    expect(res.status).to.equal(200);
    const html = unescapeHtml(await res.text());
    expect(html).to.include('This card is closed. You can still see here what you owe, your statements and the payments received, and pay by bank transfer with your payment reference.');
    expect(/id="balance">([^<]*)</.exec(html)?.[1]).to.equal('4,000 KRW');
    expect(html).to.include(reference);
    expect(html).to.include(`<a href="/card/account?statement=${statementId}">`);
    expect(html).to.include('<h2>Payments received</h2>').and.include('1,000 KRW');
    // Nothing the card can no longer do: no credit to spend, no day to change, nothing to close.
    expect(html).to.not.include('id="available"');
    expect(html).to.not.include('/card/statement-day');
    expect(html).to.not.include('/card/close');
    const nav = /<nav class="holder-nav"[\s\S]*?<\/nav>/.exec(html)![0];
    const links = [...nav.matchAll(/<a href="([^"]+)"/g)].map((m) => m[1]);
    expect(links).to.deep.equal(['/card/account', '/card/activity', '/card/contacts']);
    expect(html).to.include('/card/data').and.include('/card/disputes');
    expect(await (await agent.get('/card/disputes')).text()).to.not.include('/card/lost');
    // The activity's advice is what a closed card can still do: report a payment, not change a password it cannot.
    const activity = unescapeHtml(await (await agent.get('/card/activity')).text());
    expect(activity).to.not.include('change your password').and.not.include('report the card lost');
    expect(activity).to.include('If a payment here was not yours, <a href="/card/disputes">report it</a>.');

    const statement = unescapeHtml(await (await agent.get(`/card/account?statement=${statementId}`)).text());
    expect(statement).to.include('Statement of').and.include('Issue #7').and.include('pay by bank transfer with reference');
    const api = await agent.request('/api/holder/account', { headers: json });
    expect(api.status).to.equal(200);
    expect((await api.json()).balance).to.equal(4_000);
    expect((await agent.request(`/api/holder/statements/${statementId}`, { headers: json })).status).to.equal(200);
    for (const path of ['/card/activity', '/card/data', '/card/contacts', '/card/disputes']) {
      const page = await agent.get(path);
      expect(page.status, path).to.equal(200);
      const links = [.../<nav class="holder-nav"[\s\S]*?<\/nav>/.exec(await page.text())![0].matchAll(/<a href="([^"]+)"/g)].map((m) => m[1]);
      expect(links, path).to.deep.equal(['/card/account', '/card/activity', '/card/contacts']);
    }
    for (const path of ['/api/holder/activity', '/api/holder/contacts', '/api/holder/disputes']) {
      expect((await agent.request(path, { headers: json })).status, path).to.equal(200);
    }

    const ko = unescapeHtml(await (await agent.request('/card/account', { headers: { 'accept-language': 'ko' } })).text());
    expect(ko).to.include('해지된 카드입니다');
  });

  it('downloads the data, changes the language of the messages and reports a payment the rules allow', async () => {
    const { card } = await closedOwing();
    const agent = await signedInHolder(ts.url, card);
    const data = await agent.request('/api/holder/data', { method: 'POST', headers: { 'content-type': 'application/json', ...json }, body: JSON.stringify({ password: card.password }) });
    expect(data.status).to.equal(200);
    expect((await data.json()).cards[0].status).to.equal('closed');

    // A mobile number added, so notices reach them there too: the same codes as for an open card.
    const mobile = uniqueMobile();
    const asked = await agent.request('/api/holder/contacts', { method: 'POST', headers: { 'content-type': 'application/json', ...json }, body: JSON.stringify({ mobile, password: card.password }) });
    expect(asked.status, await asked.clone().text()).to.equal(202);
    const confirmed = await agent.request('/api/holder/contacts/confirm', {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...json },
      body: JSON.stringify({ mobile_code: await latestCode(ts, card.accountId, 'contacts_change_code', e164(mobile)), current_code: await latestCode(ts, card.accountId, 'contacts_change_proof') }),
    });
    expect(confirmed.status).to.equal(200);
    expect((await ts.db('accounts').where({ id: card.accountId }).first()).mobile).to.equal(e164(mobile));

    const language = await agent.request('/api/holder/contacts/language', { method: 'PUT', headers: { 'content-type': 'application/json', ...json }, body: JSON.stringify({ language: 'ko' }) });
    expect(language.status).to.equal(200);
    expect((await ts.db('accounts').where({ id: card.accountId }).first()).locale).to.equal('ko');

    const approvalNo = (await ts.db('approvals').where({ card_id: card.cardId }).first()).approval_no as string;
    const report = await agent.request('/api/holder/disputes', {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...json },
      body: JSON.stringify({ approval_no: approvalNo, reason: 'not_received' }),
    });
    expect(report.status).to.equal(201);
  });

  it('refuses every other holder page and API with a 403 that says the card is closed, changing nothing', async () => {
    const { card } = await closedOwing();
    const agent: ForwardedAgent = await signedInHolder(ts.url, card);
    const before = await state(card);
    const form = { 'content-type': 'application/x-www-form-urlencoded' };
    const body = { 'content-type': 'application/json', ...json };
    const pages = ['/card/controls', '/card/security', '/card/close', '/card/statement-day', '/card/wards'];
    for (const path of pages) {
      const res = await agent.get(path);
      expect(res.status, path).to.equal(403);
      const html = unescapeHtml(await res.text());
      expect(alertText(html), path).to.match(/^This card is closed: /);
      expect(html, path).to.include('<a href="/card/account"');
    }
    const posts: Array<[string, string, Record<string, string>, string]> = [
      ['POST', '/card/controls', form, 'csrf=x&max_per_approval=1000'],
      ['POST', '/card/security/totp', form, 'csrf=x'],
      ['POST', '/card/close', form, `csrf=x&password=${encodeURIComponent(card.password)}&confirm=yes`],
      ['POST', '/card/statement-day', form, 'csrf=x&statement_day=3'],
      ['POST', `/card/wards/${card.accountId}/limit`, form, 'csrf=x&credit_limit=1000'],
    ];
    for (const [method, path, headers, text] of posts) {
      const res = await agent.request(path, { method, headers, body: text });
      expect(res.status, path).to.equal(403);
      expect(alertText(unescapeHtml(await res.text())), path).to.match(/^This card is closed: /);
    }
    const apis: Array<[string, string, unknown?]> = [
      ['GET', '/api/holder/controls'],
      ['PUT', '/api/holder/controls', { max_per_approval: 1, monthly_cap: null, blocked_sites: [], adult_content_off: true }],
      ['GET', '/api/holder/totp'],
      ['POST', '/api/holder/totp', {}],
      ['POST', '/api/holder/close', { password: card.password, confirm: true }],
      ['GET', '/api/holder/statement-day'],
      ['PUT', '/api/holder/statement-day', { statement_day: 3 }],
      ['GET', '/api/holder/wards'],
      ['PUT', `/api/holder/wards/${card.accountId}/limit`, { credit_limit: 1_000, password: card.password }],
    ];
    for (const [method, path, payload] of apis) {
      const res = await agent.request(path, { method, headers: payload === undefined ? json : body, ...(payload === undefined ? {} : { body: JSON.stringify(payload) }) });
      expect(res.status, `${method} ${path}`).to.equal(403);
      const answer = await res.json();
      expect(answer.error, path).to.equal('card_closed');
      expect(answer.error_description, path).to.match(/^This card is closed: /);
    }
    expect(await state(card)).to.deep.equal(before);

    const ko = await agent.request('/card/controls', { headers: { 'accept-language': 'ko' } });
    expect(ko.status).to.equal(403);
    expect(unescapeHtml(await ko.text())).to.include('해지된 카드입니다');
  });

  it('refuses bad input on the pages it keeps with the form refilled, and a wrong password counted', async () => {
    const { card } = await closedOwing();
    const agent = await signedInHolder(ts.url, card);
    const before = await state(card);
    const contacts = await (await agent.get('/card/contacts')).text();
    const bad = await agent.post('/card/contacts', { csrf: csrfOf(contacts, '/card/contacts'), email: 'not an address', password: card.password });
    expect(bad.status).to.equal(400);
    expect(fieldError(await bad.text(), 'email')).to.be.a('string');
    const disputes = await (await agent.get('/card/disputes')).text();
    const unknown = await agent.post('/card/disputes', { csrf: csrfOf(disputes, '/card/disputes'), approval_no: 'nonsense', reason: 'not_mine' });
    expect(unknown.status).to.equal(400);
    expect(fieldError(await unknown.text(), 'approval_no')).to.be.a('string');
    const forged = await agent.post('/card/disputes', { csrf: 'forged', approval_no: 'nonsense', reason: 'not_mine' });
    expect(forged.status).to.equal(403);
    const statement = await agent.get('/card/account?statement=abc');
    expect(statement.status).to.equal(400);
    expect(await state(card)).to.deep.equal(before);

    const data = await (await agent.get('/card/data')).text();
    const wrong = await agent.post('/card/data', { csrf: csrfOf(data, '/card/data'), password: 'not the password' });
    expect(wrong.status).to.equal(401);
  });

  it('counts a wrong password on a closed card towards its lockout, like any card', async () => {
    const { card } = await closedOwing();
    const agent = new Agent(ts.url);
    const csrf = csrfFrom(await (await agent.get('/card/signin')).text());
    const sessions = async () => ts.db('holder_sessions').where({ card_id: card.cardId });
    const before = (await sessions()).length;
    for (let i = 0; i < 4; i++) {
      const wrong = await agent.post('/card/signin', { csrf, card_number: card.number, password: `wrong-${i}` });
      expect(wrong.status).to.equal(401);
      expect(alertText(await wrong.text())).to.equal('The card number or password is not correct. 5 wrong passwords lock the card for a while.');
    }
    expect((await agent.post('/card/signin', { csrf, card_number: card.number, password: 'fifth' })).status).to.equal(423);
    const locked = await agent.post('/card/signin', { csrf, card_number: card.number, password: card.password });
    expect(locked.status).to.equal(423);
    expect((await sessions()).length).to.equal(before);
    const failed = await ts.db('audit_log').where({ subject_id: card.cardId, action: 'card.password_failed' });
    expect(failed.map((f) => f.details.page)).to.deep.equal(Array(5).fill('holder_signin'));
  });

  it('ends a session open when the operator closes the card: no full access, and a new sign-in is the limited one', async () => {
    const card = await cardWithLimit(ts, 100_000, { email: `operator-closed-${Math.random().toString(36).slice(2)}@example.test` });
    const agent = await signedInHolder(ts.url, card);
    expect((await agent.get('/card/controls')).status).to.equal(200);
    expect((await operator(ts, 'POST', `/admin/api/cards/${card.cardId}/close`, { reason: 'holder asked by phone' })).status).to.equal(200);
    const after = await agent.get('/card/controls');
    expect(after.status).to.equal(303);
    expect(after.headers.get('location')).to.match(/^\/card\/signin/);
    const told = await ts.db('notifications_outbox').where({ account_id: card.accountId, template: 'card_closed' }).first();
    expect(renderMessage('card_closed', told.data, ts.url, 'en', 'email').text).to.include(`You can still sign in with its number and password at ${ts.url}/card/account to see and pay what you owe.`);
    expect(renderMessage('card_closed', told.data, ts.url, 'ko', 'email').text).to.include(`${ts.url}/card/account`);
    const again = await signedInHolder(ts.url, card);
    expect((await again.get('/card/account')).status).to.equal(200);
    expect((await again.get('/card/controls')).status).to.equal(403);
  });

  it('still never logs a closed card in to a member site, nor approves a payment with it', async () => {
    const { card } = await closedOwing();
    const config = await siteClient(ts, site);
    for (const url of [(await authRequest(config, site)).url, (await payRequest(config, site, [{ type: 'payment', amount: 100, currency: 'KRW', description: 'Item' }])).url]) {
      const result = await runLogin(new Agent(ts.url), url, card);
      expect(result.kind).to.equal('page');
      if (result.kind !== 'page') continue;
      expect(result.status).to.equal(403);
      expect(unescapeHtml(result.html)).to.include('cannot sign in or approve payments');
      // Not a dead end for a former holder: what is owed is seen and paid on the card pages, where the card still signs in.
      expect(unescapeHtml(result.html)).to.include('<a href="/card/signin" id="next-step">See and pay what you owe on your card pages</a>');
    }
    expect(await ts.db('approvals').where({ card_id: card.cardId })).to.have.length(1);
    expect(await ts.db('oidc_payloads').whereRaw("payload->>'accountId' = ?", [card.accountId]).whereIn('model', ['Session', 'Grant', 'AuthorizationCode'])).to.have.length(0);
  });

  describe('a forgotten password', () => {
    const post = async (path: string, body: Record<string, unknown>) => {
      const res = await fetch(`${ts.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...json }, body: JSON.stringify(body) });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };
    const askCode = (c: TestCard) => post('/api/cards/password/reset/code', { card_number: c.number });
    const reset = (c: TestCard, code: string, newPassword = 'A brand new phrase') => post('/api/cards/password/reset', { card_number: c.number, code, new_password: newPassword });
    const codesSent = async (c: TestCard) => (await ts.db('notifications_outbox').where({ account_id: c.accountId, template: 'password_reset_code' })).length;

    it('is reset with a code sent to the contacts, and the new password signs in to the limited session only', async () => {
      const { card } = await closedOwing();
      expect((await askCode(card)).status).to.equal(202);
      const code = await latestCode(ts, card.accountId, 'password_reset_code');
      const done = await reset(card, code);
      expect(done.status, JSON.stringify(done.body)).to.equal(200);
      const changed = await ts.db('audit_log').where({ subject_id: card.cardId, action: 'card.password_changed' }).first();
      expect(changed.details).to.deep.include({ method: 'reset' });
      expect((await ts.db('cards').where({ id: card.cardId }).first()).status).to.equal('closed');

      const old = new Agent(ts.url);
      const csrf = csrfFrom(await (await old.get('/card/signin')).text());
      expect((await old.post('/card/signin', { csrf, card_number: card.number, password: card.password })).status).to.equal(401);
      const agent = await signedInHolder(ts.url, { ...card, password: 'A brand new phrase' });
      expect((await agent.get('/card/account')).status).to.equal(200);
      expect((await agent.get('/card/controls')).status).to.equal(403);
      expect((await reset(card, code, 'Yet another phrase')).body.error).to.equal('invalid_code');
    });

    it('says on the page that the card stays closed and where to see what is owed, not that member sites were signed out', async () => {
      const { card } = await closedOwing();
      const agent = new Agent(ts.url);
      const page = await (await agent.get('/card/password/reset')).text();
      const enter = await (await agent.post('/card/password/reset/code', { csrf: csrfFrom(page), card_number: card.number })).text();
      const code = await latestCode(ts, card.accountId, 'password_reset_code');
      const res = await agent.post('/card/password/reset/confirm', {
        csrf: csrfFrom(enter),
        card_number: card.number,
        code,
        new_password: 'A brand new phrase',
        new_password_confirm: 'A brand new phrase',
      });
      const html = unescapeHtml(await res.text());
      expect(res.status).to.equal(200);
      expect(html).to.include('Your card password has been reset. The card stays closed: sign in with the new password to see and pay what you owe.');
      expect(html).to.not.include('member site');
      expect(html).to.include('href="/card/signin"');
    });

    it('is not reset for a card closed while lost or pending, a replaced card, nor a suspended or lost one', async () => {
      const withEmail = () => cardWithLimit(ts, 1_000, { email: `refused-${Math.random().toString(36).slice(2)}@example.test` });
      const lostClosed = await withEmail();
      // A code asked while the card was open is dead once it is closed from lost.
      expect((await askCode(lostClosed)).status).to.equal(202);
      const early = await latestCode(ts, lostClosed.accountId, 'password_reset_code');
      await reportLost(ts.db, { cardId: lostClosed.cardId, actor: 'test', reason: 'lost', proof: 'operator' });
      await closeCard(ts.db, { cardId: lostClosed.cardId, actor: 'test', reason: 'lost and closed' });
      const before = await state(lostClosed);
      const refused = await reset(lostClosed, early);
      expect(refused.status).to.equal(400);
      expect(refused.body.error).to.equal('invalid_code');
      expect(await askCode(lostClosed)).to.deep.equal(await askCode({ ...lostClosed, number: '4111111111111111' }));
      expect(await state(lostClosed)).to.deep.equal(before);

      const pending = await withEmail();
      await ts.db('cards').where({ id: pending.cardId }).update({ status: 'pending' });
      await closeCard(ts.db, { cardId: pending.cardId, actor: 'test', reason: 'application rejected' });
      const replaced = await withEmail();
      await reissue(ts.cm.cards, { cardId: replaced.cardId, actor: 'test', reason: 'new number' });
      const blocked = await withEmail();
      expect((await operator(ts, 'POST', `/admin/api/cards/${blocked.cardId}/block`, { reason: 'check' })).status).to.equal(200);
      const lost = await withEmail();
      await reportLost(ts.db, { cardId: lost.cardId, actor: 'test', reason: 'lost', proof: 'operator' });
      for (const c of [pending, replaced, blocked, lost]) {
        const sent = await codesSent(c);
        expect((await askCode(c)).status).to.equal(202);
        expect(await codesSent(c), c.cardId).to.equal(sent);
      }
    });
  });

  it('tells a former holder with the right password on the password and lost-card pages that the card is closed and where it still signs in, the form refilled', async () => {
    const { card } = await closedOwing();
    const before = await state(card);
    const agent = new Agent(ts.url);
    const page = await (await agent.get('/card/password')).text();
    const res = await agent.post('/card/password', {
      csrf: csrfOf(page, '/card/password'),
      card_number: card.number,
      password: card.password,
      new_password: 'Another-Lamp-58q',
      new_password_confirm: 'Another-Lamp-58q',
    });
    expect(res.status).to.equal(403);
    const html = await res.text();
    expect(alertText(html)).to.equal('This card is closed: change its password with a code sent to you instead. It still signs you in to your card pages, to see and pay what you owe.');
    expect(html).to.include(`value="${card.number}"`);
    const api = await new Agent(ts.url).request('/api/cards/password', {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ card_number: card.number, password: card.password, new_password: 'Another-Lamp-58q' }),
    });
    expect(api.status).to.equal(403);
    expect((await api.json()).error).to.equal('card_closed');
    expect(await state(card)).to.deep.equal(before);
    // A wrong password reads as ever: nothing said of the card.
    const wrong = await agent.post('/card/password', {
      csrf: csrfOf(page, '/card/password'),
      card_number: card.number,
      password: 'not the password',
      new_password: 'Another-Lamp-58q',
      new_password_confirm: 'Another-Lamp-58q',
    });
    expect(alertText(await wrong.text())).to.equal('The card number or password is not correct.');

    // The lost-card page: nothing to block, and said so.
    const lostPage = await (await agent.get('/card/lost')).text();
    const lost = await agent.post('/card/lost', { csrf: csrfOf(lostPage, '/card/lost'), card_number: card.number, password: card.password });
    expect(lost.status).to.equal(403);
    const lostHtml = await lost.text();
    expect(alertText(lostHtml)).to.equal('This card is closed: it works nowhere any more, so there is nothing to block. Its password still signs you in to your card pages, to see and pay what you owe.');
    expect(lostHtml).to.include(`value="${card.number}"`);
    expect(await state(card)).to.deep.equal(before);
  });

  it('keeps refusing lost, suspended and pending cards, a replaced card, and cards closed while lost or pending', async () => {
    const signIn = async (c: TestCard) => {
      const agent = new Agent(ts.url);
      const csrf = csrfFrom(await (await agent.get('/card/signin')).text());
      return agent.post('/card/signin', { csrf, card_number: c.number, password: c.password });
    };
    const lost = await cardWithLimit(ts, 1_000);
    await reportLost(ts.db, { cardId: lost.cardId, actor: 'test', reason: 'lost', proof: 'operator' });
    expect((await signIn(lost)).status).to.equal(403);
    await closeCard(ts.db, { cardId: lost.cardId, actor: 'test', reason: 'lost and closed' });
    expect((await signIn(lost)).status).to.equal(403);

    const blocked = await cardWithLimit(ts, 1_000);
    expect((await operator(ts, 'POST', `/admin/api/cards/${blocked.cardId}/block`, { reason: 'check' })).status).to.equal(200);
    expect((await signIn(blocked)).status).to.equal(403);

    const pending = await cardWithLimit(ts, 1_000);
    await ts.db('cards').where({ id: pending.cardId }).update({ status: 'pending' });
    expect((await signIn(pending)).status).to.equal(403);
    await closeCard(ts.db, { cardId: pending.cardId, actor: 'test', reason: 'application rejected' });
    expect((await signIn(pending)).status).to.equal(403);

    const replaced = await cardWithLimit(ts, 1_000);
    const session = await signedInHolder(ts.url, replaced);
    await reissue(ts.cm.cards, { cardId: replaced.cardId, actor: 'test', reason: 'new number' });
    const res = await signIn(replaced);
    expect(res.status).to.equal(403);
    expect(alertText(await res.text())).to.equal('This card is not active (closed or replaced), so it cannot sign in or approve payments.');
    // The old number's session, open at the reissue, opens nothing either.
    expect((await session.get('/card/account')).status).to.equal(303);
    expect(await ts.db('holder_sessions').where({ card_id: lost.cardId })).to.have.length(0);
  });

  it('refuses a card the operator blocked and then closed: its password may be in other hands, so no limited session, no reset code', async () => {
    const card = await cardWithLimit(ts, 1_000, { email: `blocked-closed-${Math.random().toString(36).slice(2)}@example.test` });
    expect((await operator(ts, 'POST', `/admin/api/cards/${card.cardId}/block`, { reason: 'fraud check' })).status).to.equal(200);
    expect((await operator(ts, 'POST', `/admin/api/cards/${card.cardId}/close`, { reason: 'fraud confirmed' })).status).to.equal(200);
    const agent = new Agent(ts.url);
    const res = await agent.post('/card/signin', { csrf: csrfFrom(await (await agent.get('/card/signin')).text()), card_number: card.number, password: card.password });
    expect(res.status).to.equal(403);
    expect(alertText(await res.text())).to.equal('This card is not active (closed or replaced), so it cannot sign in or approve payments.');
    expect(await ts.db('holder_sessions').where({ account_id: card.accountId })).to.have.length(0);
    // The close message does not offer a sign-in, and a forgotten password gets no code.
    const told = await ts.db('notifications_outbox').where({ account_id: card.accountId, template: 'card_closed' }).first();
    expect(renderMessage('card_closed', told.data, ts.url, 'en', 'email').text).not.to.include('You can still sign in');
    const sent = (await ts.db('notifications_outbox').where({ account_id: card.accountId, template: 'password_reset_code' })).length;
    const asked = await fetch(`${ts.url}/api/cards/password/reset/code`, { method: 'POST', headers: { 'content-type': 'application/json', ...json }, body: JSON.stringify({ card_number: card.number }) });
    expect(asked.status).to.equal(202);
    expect((await ts.db('notifications_outbox').where({ account_id: card.accountId, template: 'password_reset_code' })).length).to.equal(sent);
  });

  it('signs in a card whose block the operator lifted before closing it: the operator chooses the limited session so', async () => {
    const card = await cardWithLimit(ts, 1_000);
    expect((await operator(ts, 'POST', `/admin/api/cards/${card.cardId}/block`, { reason: 'check' })).status).to.equal(200);
    expect((await operator(ts, 'POST', `/admin/api/cards/${card.cardId}/unblock`, { reason: 'holder confirmed' })).status).to.equal(200);
    expect((await operator(ts, 'POST', `/admin/api/cards/${card.cardId}/close`, { reason: 'holder asked by phone' })).status).to.equal(200);
    const again = await signedInHolder(ts.url, card);
    expect((await again.get('/card/account')).status).to.equal(200);
    expect((await again.get('/card/controls')).status).to.equal(403);
  });
});
