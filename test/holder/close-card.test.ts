import { expect } from 'chai';
import { renderMessage } from '../../src/notifications/templates.ts';
import { csrfOf, type ForwardedAgent } from '../helpers/agent.ts';
import { APPLY_SERVER, application, birthdateForAge, issueByApplication, postApplication } from '../helpers/applicant.ts';
import { issueTestCard, registerTestSite, type TestCard, type TestSite } from '../helpers/fixtures.ts';
import { alertText, fieldError, unescapeHtml } from '../helpers/html.ts';
import { signedInHolder } from '../helpers/holder.ts';
import { startCardManager, type TestServer } from '../helpers/server.ts';
import { approveFor } from '../ledger/fixtures.ts';

/** The holder closes their own card: /card/close and POST /api/holder/close. */
describe('a holder closes their card (/card/close, /api/holder/close)', () => {
  let ts: TestServer;
  let site: TestSite;

  before(async () => {
    ts = await startCardManager(APPLY_SERVER);
    site = await registerTestSite(ts, { name: 'Comics Daily' } as never);
  });
  after(() => ts?.stop());

  const cardStatus = async (c: TestCard) => (await ts.db('cards').where({ id: c.cardId }).first()).status as string;
  const sessions = async (c: TestCard) => Number((await ts.db('holder_sessions').where({ account_id: c.accountId }).count({ n: '*' }))[0]!.n);
  const closures = (c: TestCard) => ts.db('audit_log').where({ subject_id: c.cardId, action: 'card.status_changed' }).whereRaw(`details->>'to' = 'closed'`);

  /** A card applied for with email and mobile (so messages have somewhere to go), with this credit limit. */
  async function appliedWithLimit(limit: number): Promise<TestCard> {
    const h = await issueByApplication(ts);
    await ts.db('accounts').where({ id: h.accountId }).update({ credit_limit: limit });
    return { accountId: h.accountId, cardId: h.cardId, number: h.cardNumber, password: h.password };
  }

  /** What must not move when a close is refused. */
  async function state(c: TestCard) {
    return { status: await cardStatus(c), sessions: await sessions(c), closures: (await closures(c)).length };
  }

  async function page(agent: ForwardedAgent): Promise<{ html: string; csrf: string }> {
    const res = await agent.get('/card/close');
    expect(res.status).to.equal(200);
    const html = await res.text();
    return { html, csrf: csrfOf(html, '/card/close') };
  }

  function postJson(agent: ForwardedAgent, body: unknown, contentType = 'application/json') {
    return agent.request('/api/holder/close', {
      method: 'POST',
      headers: { 'content-type': contentType, accept: 'application/json' },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
  }

  it('says what closing means, then closes the card for good: signed out everywhere, audited, told, open payments kept', async () => {
    const card = await appliedWithLimit(100_000);
    const held = await approveFor(ts, card, site, 3_000, 'Issue 12');
    const agent = await signedInHolder(ts.url, card);
    const account = unescapeHtml(await (await agent.get('/card/account')).text());
    expect(account).to.include('<a href="/card/close">Close this card</a>');

    const shown = await page(agent);
    const html = unescapeHtml(shown.html);
    expect(html).to.include(`Close card •••• ${card.number.slice(-4)}`);
    expect(html).to.include('It cannot be opened again');
    expect(html).to.include('You can still sign in here with its number and password to see your statements and pay what you owe.');
    expect(html).to.include('1 payment you approved still holds 3,000 KRW');
    expect(html).to.include('/card/lost');

    const res = await agent.post('/card/close', { csrf: shown.csrf, password: card.password, confirm: 'yes' });
    expect(res.status).to.equal(200);
    const done = unescapeHtml(await res.text());
    expect(done).to.include(`Card •••• ${card.number.slice(-4)} is closed.`);
    expect(await cardStatus(card)).to.equal('closed');
    expect(await sessions(card)).to.equal(0);
    const [entry, ...more] = await closures(card);
    expect(more).to.have.length(0);
    expect(entry.actor).to.equal(`card:${card.cardId}`);
    expect(entry.details).to.deep.include({ from: 'active', to: 'closed', reason: 'closed by the holder' });

    // The approval the holder gave before stays theirs to be charged: the site may capture what it delivered.
    const approval = await ts.db('approvals').where({ id: held.id }).first();
    expect(approval.status).to.equal('approved');
    const told = await ts.db('notifications_outbox').where({ account_id: card.accountId, template: 'card_closed' });
    expect(told.map((m) => m.channel).sort()).to.deep.equal(['email', 'sms']);
    expect(renderMessage('card_closed', told[0].data, ts.url, 'en', 'email').text).to.include(card.number.slice(-4));

    expect(done).to.include('You can still sign in with this card number and password to see and pay what you owe.');
    expect(renderMessage('card_closed', told[0].data, ts.url, 'en', 'email').text).to.include(`${ts.url}/card/account`);

    // The old session opens nothing; signed in again, the card opens only the limited pages (closed-card.test.ts).
    const after = await agent.get('/card/account');
    expect(after.status).to.equal(303);
    const again = await agent.get('/card/signin');
    const signin = await agent.post('/card/signin', { csrf: csrfOf(await again.text(), '/card/signin'), card_number: card.number, password: card.password });
    expect(signin.status).to.equal(303);
    expect((await agent.get('/card/close')).status).to.equal(403);
    const activity = await ts.db('audit_log').where({ subject_id: card.cardId, action: 'holder.signed_in' }).orderBy('id');
    expect(activity.map((a) => a.details.cardClosed ?? false)).to.deep.equal([false, true]);
  });

  it('refuses a wrong password (counted like any), a missing confirmation and a forged form, closing nothing', async () => {
    const card = await issueTestCard(ts);
    const agent = await signedInHolder(ts.url, card);
    const before = await state(card);
    const { csrf } = await page(agent);

    const wrong = await agent.post('/card/close', { csrf, password: 'not the password', confirm: 'yes' });
    expect(wrong.status).to.equal(401);
    const wrongHtml = await wrong.text();
    expect(alertText(wrongHtml)).to.match(/password/i);
    expect(wrongHtml).to.match(/name="confirm"[^>]*checked/);
    const failures = await ts.db('audit_log').where({ subject_id: card.cardId, action: 'card.password_failed' });
    expect(failures.map((f) => f.details.page)).to.deep.equal(['close_card']);

    const unconfirmed = await agent.post('/card/close', { csrf, password: card.password });
    expect(unconfirmed.status).to.equal(400);
    expect(fieldError(await unconfirmed.text(), 'confirm')).to.equal('Tick the box to confirm you want this card closed for good.');

    const oddConfirm = await agent.post('/card/close', { csrf, password: card.password, confirm: 'maybe' });
    expect(oddConfirm.status).to.equal(400);

    const extra = await agent.post('/card/close', { csrf, password: card.password, confirm: 'yes', card_id: 'someone-else' });
    expect(extra.status).to.equal(400);
    expect(alertText(await extra.text())).to.equal('This form takes only your password and the confirmation.');

    const forged = await agent.post('/card/close', { csrf: 'forged', password: card.password, confirm: 'yes' });
    expect(forged.status).to.equal(403);
    const none = await agent.post('/card/close', { password: card.password, confirm: 'yes' });
    expect(none.status).to.equal(403);
    // Another form's token is not this one's.
    const account = await (await agent.get('/card/statement-day')).text();
    const otherForm = await agent.post('/card/close', { csrf: csrfOf(account, '/card/statement-day'), password: card.password, confirm: 'yes' });
    expect(otherForm.status).to.equal(403);

    expect(await state(card)).to.deep.equal(before);
  });

  it('answers JSON: refusals with fields, unknown keys refused, and a close that holds once', async () => {
    const card = await issueTestCard(ts);
    const agent = await signedInHolder(ts.url, card);
    const before = await state(card);

    for (const [body, status] of [
      [{ password: card.password }, 400],
      [{ password: card.password, confirm: 'true' }, 400],
      [{ password: card.password, confirm: true, extra: 1 }, 400],
      [{ confirm: true }, 400],
      [[], 400],
      ['{"password":', 400],
      [{ password: 'wrong password here', confirm: true }, 401],
    ] as const) {
      const res = await postJson(agent, body);
      expect(res.status, JSON.stringify(body)).to.equal(status);
      expect((await res.json()).error).to.be.a('string');
    }
    expect((await postJson(agent, `password=${encodeURIComponent(card.password)}&confirm=true`, 'text/plain')).status).to.be.within(400, 415);
    expect(await state(card)).to.deep.equal(before);

    const res = await postJson(agent, { password: card.password, confirm: true });
    expect(res.status).to.equal(200);
    expect(await res.json()).to.deep.equal({ status: 'closed', last4: card.number.slice(-4) });
    expect(await cardStatus(card)).to.equal('closed');
    // The session ended with the card: a second close finds nobody signed in.
    expect((await postJson(agent, { password: card.password, confirm: true })).status).to.equal(401);
    expect(await closures(card)).to.have.length(1);
  });

  it("refuses another session's token, another holder's, and a form another site's page posted, closing nothing", async () => {
    const card = await issueTestCard(ts);
    const other = await issueTestCard(ts);
    const agent = await signedInHolder(ts.url, card);
    const sameCardElsewhere = await signedInHolder(ts.url, card);
    const otherHolder = await signedInHolder(ts.url, other);
    const before = { card: await state(card), other: await state(other) };
    const { csrf } = await page(agent);

    // This session's token, posted by the same card's other session, and by another holder's (their own card is theirs).
    expect((await sameCardElsewhere.post('/card/close', { csrf, password: card.password, confirm: 'yes' })).status).to.equal(403);
    expect((await otherHolder.post('/card/close', { csrf, password: other.password, confirm: 'yes' })).status).to.equal(403);
    // The right token and password, but the browser says another site (or a sibling of ours) sent the form.
    for (const headers of [{ 'sec-fetch-site': 'cross-site' }, { 'sec-fetch-site': 'same-site' }, { origin: 'https://evil.example' }] as Array<Record<string, string>>) {
      const res = await agent.request('/card/close', {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
        body: new URLSearchParams({ csrf, password: card.password, confirm: 'yes' }).toString(),
      });
      expect(res.status, JSON.stringify(headers)).to.equal(403);
    }
    // The JSON API takes no form: a cross-site form cannot send application/json.
    for (const type of ['application/x-www-form-urlencoded', 'text/plain', 'multipart/form-data; boundary=x']) {
      const res = await agent.request('/api/holder/close', { method: 'POST', headers: { 'content-type': type }, body: 'password=x&confirm=true' });
      expect(res.status, type).to.be.within(400, 415);
    }
    expect({ card: await state(card), other: await state(other) }).to.deep.equal(before);
  });

  it("tells a guardian that their children's cards stop paying once no card of theirs is open", async () => {
    const guardian = await issueTestCard(ts, '1980-03-03', 'Park Guardian');
    const app = application({ legal_name: 'Park Junior', birthdate: birthdateForAge(15), guardian_card_number: guardian.number, guardian_password: guardian.password });
    const { status, body } = await postApplication(ts, app);
    expect(status, JSON.stringify(body)).to.equal(201);
    const agent = await signedInHolder(ts.url, guardian);
    const html = unescapeHtml((await page(agent)).html);
    expect(html).to.include("Park Junior's card will approve no more payments");
  });

  it('is in Korean for a Korean browser', async () => {
    const card = await issueTestCard(ts);
    const agent = await signedInHolder(ts.url, card);
    const res = await agent.request('/card/close', { headers: { 'accept-language': 'ko' } });
    const html = unescapeHtml(await res.text());
    expect(html).to.include('카드 해지');
    expect(html).not.to.include('It cannot be opened again');
  });
});
