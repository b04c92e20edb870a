import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { luhnCheckDigit } from '../../src/lib/luhn.ts';
import { capture } from '../../src/approvals/capture.ts';
import { openDispute } from '../../src/approvals/open-dispute.ts';
import { blockCard } from '../../src/cards/block.ts';
import { unblockCard } from '../../src/cards/unblock.ts';
import { inTransaction } from '../../src/db/tx.ts';
import { ForwardedAgent, csrfOf, location } from '../helpers/agent.ts';
import { uniqueIp } from '../helpers/applicant.ts';
import { issueTestCard, registerTestSite, type TestCard } from '../helpers/fixtures.ts';
import { alertText, unescapeHtml } from '../helpers/html.ts';
import { postConsoleForm, signedInOperator } from '../helpers/operator.ts';
import { startCardManager, type TestServer } from '../helpers/server.ts';
import { approveFor, cardWithLimit } from '../ledger/fixtures.ts';

/** The text of an element with this id, or undefined. */
function textOf(html: string, id: string): string | undefined {
  const m = new RegExp(`id="${id}"[^>]*>([^<]*)<`).exec(html);
  return m ? unescapeHtml(m[1]!).trim() : undefined;
}

describe('operator console: cards /admin/cards', () => {
  const alice = randomBytes(32).toString('base64url');
  const lines: string[] = [];
  let ts: TestServer;
  let agent: ForwardedAgent;

  before(async () => {
    ts = await startCardManager({ trustProxy: true, logLevel: 'info' }, { env: { OPERATOR_TOKENS: `alice:${alice}` }, logStream: { write: (l: string) => void lines.push(l) } });
    agent = await signedInOperator(ts.url, alice);
  });
  after(() => ts?.stop());

  async function csrf(): Promise<string> {
    return csrfOf(await (await agent.get('/admin/cards')).text(), '/admin/cards/search');
  }
  const cardRow = (id: string) => ts.db('cards').where({ id }).first('status', 'updated_at');

  it('finds a card by its number, posted in the form (never in a URL or a log line), and goes to its page by id', async () => {
    const card = await issueTestCard(ts, '1985-03-03', 'Park Cardholder');
    const spaced = card.number.replace(/(\d{4})(?=\d)/g, '$1 ');
    const res = await agent.post('/admin/cards/search', { csrf: await csrf(), number: spaced });
    expect(res.status).to.equal(303);
    expect(res.headers.get('cache-control')).to.equal('no-store');
    const to = location(res, ts.url);
    expect(to.pathname).to.equal(`/admin/cards/${card.cardId}`);
    expect(to.search).to.equal('');
    const page = await agent.get(to);
    expect(page.headers.get('cache-control')).to.equal('no-store');
    const html = await page.text();
    expect(textOf(html, 'holder-name')).to.equal('Park Cardholder');
    expect(textOf(html, 'card-status')).to.equal('active');
    expect(html).to.include(`action="/admin/cards/${card.cardId}/block"`);
    expect(html).not.to.include(card.number);
    expect(lines.join('\n')).not.to.include(card.number).and.not.include(spaced);
  });

  it("refuses a search without this console's CSRF token (403), sending the browser to no card", async () => {
    const card = await issueTestCard(ts);
    const page = await (await agent.get('/admin/cards')).text();
    for (const csrf of [undefined, 'forged', csrfOf(page, '/admin/signout')]) {
      const res = await agent.post('/admin/cards/search', { ...(csrf !== undefined ? { csrf } : {}), number: card.number });
      expect(res.status, String(csrf)).to.equal(403);
      expect(res.headers.get('location'), String(csrf)).to.equal(null);
      expect(alertText(await res.text())).to.match(/^This form has expired or was not sent from this site/);
    }
  });

  it('blocks and unblocks a card with a reason, audited as the operator signed in', async () => {
    const card = await issueTestCard(ts);
    let page = await (await agent.get(`/admin/cards/${card.cardId}`)).text();
    const block = await agent.post(`/admin/cards/${card.cardId}/block`, { csrf: csrfOf(page, `/admin/cards/${card.cardId}/block`), reason: 'holder called: phone stolen' });
    expect(block.status).to.equal(303);
    page = await (await agent.get(location(block, ts.url))).text();
    expect(textOf(page, 'notice')).to.match(/^Blocked: /);
    expect(textOf(page, 'card-status')).to.equal('blocked');
    expect((await cardRow(card.cardId)).status).to.equal('suspended');
    const unblock = await agent.post(`/admin/cards/${card.cardId}/unblock`, { csrf: csrfOf(page, `/admin/cards/${card.cardId}/unblock`), reason: 'holder found it' });
    expect(unblock.status).to.equal(303);
    expect((await cardRow(card.cardId)).status).to.equal('active');
    const trail = await ts.db('audit_log').where({ subject_type: 'card', subject_id: card.cardId, action: 'card.status_changed' }).andWhere('actor', 'like', 'operator%').orderBy('id');
    expect(trail.map((e) => `${e.actor}: ${e.details.reason}`)).to.deep.equal(['operator:alice: holder called: phone stolen', 'operator:alice: holder found it']);
  });

  it('shows no notice for a `done` the console did not send, a name every object has included', async () => {
    const card = await issueTestCard(ts);
    for (const path of [`/admin/cards/${card.cardId}`, '/admin/applications', '/admin/disputes']) {
      for (const done of ['constructor', 'toString', '__proto__', 'hasOwnProperty', 'blocked!']) {
        const res = await agent.get(`${path}?done=${done}`);
        expect(res.status, `${path}?done=${done}`).to.equal(200);
        const html = await res.text();
        expect(html, `${path}?done=${done}`).not.to.include('id="notice"');
        expect(html).not.to.include('[native code]');
      }
    }
  });

  it('refuses bad input on every form with a 4xx, the form refilled, and the database unchanged', async () => {
    const card = await issueTestCard(ts);
    const token = await csrf();
    const audit = async () => (await ts.db('audit_log').count({ n: '*' }).first())?.n;
    const before = { card: await cardRow(card.cardId), audit: await audit() };

    const short = await agent.post('/admin/cards/search', { csrf: token, number: '1234' });
    expect(short.status).to.equal(400);
    const shortPage = await short.text();
    expect(textOf(shortPage, 'number-error')).to.equal('This is not a valid card number (16 digits).');
    expect(shortPage).to.include('name="number" inputmode="numeric" autocomplete="off" value="1234"');
    const empty = await agent.post('/admin/cards/search', { csrf: token, number: '' });
    expect(empty.status).to.equal(400);
    expect(textOf(await empty.text(), 'number-error')).to.equal('Enter the 16-digit card number.');
    // A well-formed number no card has.
    const body = card.number.slice(0, 14) + String((Number(card.number[14]) + 1) % 10);
    const other = body + String(luhnCheckDigit(body));
    const unknown = await agent.post('/admin/cards/search', { csrf: token, number: other });
    expect(unknown.status).to.equal(404);
    expect(textOf(await unknown.text(), 'number-error')).to.equal('No card has this number.');

    const noReason = await agent.post(`/admin/cards/${card.cardId}/block`, { csrf: token, reason: ' ' });
    expect(noReason.status).to.equal(400);
    expect(textOf(await noReason.text(), 'reason-block-error')).to.equal('Say why (it goes into the audit trail).');
    const long = 'z'.repeat(501);
    const tooLong = await agent.post(`/admin/cards/${card.cardId}/block`, { csrf: token, reason: long });
    expect(tooLong.status).to.equal(400);
    expect(await tooLong.text()).to.include(`id="reason-block" name="reason" value="${long}"`);
    // Unblocking lifts only a block: an active card is so already; a closed one cannot come back.
    const already = await agent.post(`/admin/cards/${card.cardId}/unblock`, { csrf: token, reason: 'nothing to lift' });
    expect(already.status).to.equal(303);
    expect(textOf(await (await agent.get(location(already, ts.url))).text(), 'notice')).to.equal('The card was active already: nothing changed.');
    expect((await agent.post('/admin/cards/not-a-card/block', { csrf: token, reason: 'x' })).status).to.equal(404);
    expect((await agent.post(`/admin/cards/${crypto.randomUUID()}/block`, { csrf: token, reason: 'x' })).status).to.equal(404);
    const forged = await agent.post(`/admin/cards/${card.cardId}/block`, { csrf: 'forged', reason: 'no token' });
    expect(forged.status).to.equal(403);

    expect({ card: await cardRow(card.cardId), audit: await audit() }).to.deep.equal(before);
  });

  it('refuses to block a closed card (409), saying why', async () => {
    const card = await issueTestCard(ts);
    await ts.db('cards').where({ id: card.cardId }).update({ status: 'closed' });
    const page = await (await agent.get(`/admin/cards/${card.cardId}`)).text();
    expect(page).not.to.include(`action="/admin/cards/${card.cardId}/block"`);
    const res = await agent.post(`/admin/cards/${card.cardId}/block`, { csrf: await csrf(), reason: 'try anyway' });
    expect(res.status).to.equal(409);
    expect(alertText(await res.text())).to.be.a('string').and.not.equal('');
    expect((await cardRow(card.cardId)).status).to.equal('closed');
  });

  /** The rows of the audit trail's table, as `action actor`, in the page's order. */
  const auditRows = (html: string) => [...html.matchAll(/<tr class="audit-entry"[^>]*>\s*<td[^>]*>([^<]*)<\/td>\s*<td[^>]*><code>([^<]*)<\/code><\/td>\s*<td[^>]*>([^<]*)<\/td>/g)].map((m) => ({ when: m[1]!.trim(), action: m[2]!, actor: unescapeHtml(m[3]!.trim()) }));
  const cardPath = (c: TestCard) => `/admin/cards/${c.cardId}`;
  const post = (c: TestCard, action: string, fields: Record<string, string>) => postConsoleForm(agent, cardPath(c), `${cardPath(c)}/${action}`, fields);
  const auditCount = async () => Number((await ts.db('audit_log').count({ n: '*' }).first())?.n);
  const operatorEntries = (subjectId: string, action: string) => ts.db('audit_log').where({ subject_id: subjectId, action, actor: 'operator:alice' }).orderBy('id');

  it("shows the card's account as `ledger show` has it, its approvals with their reports, and its audit trail, newest first", async () => {
    const site = await registerTestSite(ts, { name: 'Comics <Daily>' });
    const card = await cardWithLimit(ts, 100_000);
    const held = await approveFor(ts, card, site, 7_000, 'Issue #1');
    const charged = await approveFor(ts, card, site, 3_000, 'Issue #2');
    await inTransaction(ts.db, (trx) => capture(trx, { approvalNo: charged.approvalNo, amount: 3_000, actor: 'test' }));
    const report = await openDispute(
      { db: ts.db, windowDays: ts.config.payments.disputeDays },
      { accountId: card.accountId, cardId: card.cardId, approvalNo: charged.approvalNo, reason: 'not_mine', details: 'Never read it', actor: `card:${card.cardId}` },
    );
    await blockCard(ts.db, { cardId: card.cardId, reason: '<script>alert(1)</script> called', actor: 'operator:bob' });

    const html = await (await agent.get(cardPath(card))).text();
    expect(textOf(html, 'limit')).to.equal('100,000 KRW');
    expect(textOf(html, 'held')).to.equal('7,000 KRW');
    expect(textOf(html, 'balance')).to.equal('3,000 KRW');
    expect(textOf(html, 'available')).to.equal('90,000 KRW');
    expect(textOf(html, 'standing')).to.equal('good');
    expect(textOf(html, 'statement-day')).to.match(/^\d{1,2}$/);
    expect(html).to.include(`id="hold-${held.approvalNo}"`);
    expect(html).not.to.include(`id="hold-${charged.approvalNo}"`);
    expect(html).to.include(`id="approval-${held.approvalNo}"`).and.include(`id="approval-${charged.approvalNo}"`);
    expect(html).to.include(`href="/admin/disputes#dispute-${report.id}"`);
    expect(html).to.include('Comics &lt;Daily&gt;');
    expect(html).to.include('id="statements"');

    const rows = auditRows(html);
    // The block (its status change, then the sessions it ended) is the newest; the card's issue far older.
    expect(rows[0]).to.deep.include({ actor: 'operator:bob' });
    const blocked = rows.findIndex((r) => r.action === 'card.status_changed' && r.actor === 'operator:bob');
    expect(blocked).to.be.within(0, 1);
    expect(rows.findIndex((r) => r.action === 'card.issued')).to.be.greaterThan(blocked);
    expect(rows[0]!.when).to.match(new RegExp(`^\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d ${ts.config.billing.timeZone}$`));
    // The reason is the operator's text: shown, escaped.
    expect(html).to.include('&lt;script&gt;alert(1)&lt;/script&gt; called').and.not.include('<script>alert(1)');
  });

  it('pages the audit trail 50 entries at a time, newest first, and refuses a page there is not', async () => {
    const card = await issueTestCard(ts);
    for (let i = 0; i < 30; i++) {
      await blockCard(ts.db, { cardId: card.cardId, reason: `block ${i}`, actor: 'operator:bob' });
      await unblockCard(ts.db, { cardId: card.cardId, reason: `unblock ${i}`, actor: 'operator:bob' });
    }
    const total = (await ts.db('audit_log').whereIn('subject_id', [card.cardId, card.accountId]).count({ n: '*' }).first())!.n;
    const first = await (await agent.get(cardPath(card))).text();
    expect(auditRows(first)).to.have.length(50);
    expect(first).to.include('unblock 29');
    expect(first).to.include(`href="${cardPath(card)}?page=2"`);
    const second = await (await agent.get(`${cardPath(card)}?page=2`)).text();
    expect(auditRows(second)).to.have.length(Number(total) - 50);
    expect(second).to.include('block 0').and.not.include('unblock 29');
    expect(second).to.include(`href="${cardPath(card)}?page=1"`);
    for (const bad of ['0', '3', 'x', '1.5', '-1']) {
      const res = await agent.get(`${cardPath(card)}?page=${bad}`);
      expect(res.status, bad).to.equal(400);
      expect(alertText(await res.text())).to.equal('There is no such page of the audit trail.');
    }
  });

  it('reports a card lost, audited as the operator, and says so once when it is lost already', async () => {
    const card = await issueTestCard(ts);
    const res = await post(card, 'lost', { reason: 'holder lost it on the bus' });
    expect(res.status).to.equal(303);
    expect(textOf(await (await agent.get(location(res, ts.url))).text(), 'notice')).to.match(/^Reported lost: /);
    expect((await cardRow(card.cardId)).status).to.equal('lost');
    expect((await operatorEntries(card.cardId, 'card.status_changed')).map((e) => e.details.reason)).to.deep.equal(['holder lost it on the bus']);
    const again = await agent.post(`${cardPath(card)}/lost`, { csrf: await csrf(), reason: 'again' });
    expect(textOf(await (await agent.get(location(again, ts.url))).text(), 'notice')).to.equal('The card was reported lost already: nothing changed.');
    expect(await operatorEntries(card.cardId, 'card.status_changed')).to.have.length(1);
  });

  it('closes a card only with the tick, audited, and says so once when it is closed already', async () => {
    const card = await issueTestCard(ts);
    const unticked = await post(card, 'close', { reason: 'holder asked' });
    expect(unticked.status).to.equal(400);
    const refused = await unticked.text();
    expect(textOf(refused, 'confirm-close-error')).to.equal('Tick this to close the card for good.');
    expect(refused).to.include('id="reason-close" name="reason" value="holder asked"');
    expect((await cardRow(card.cardId)).status).to.equal('active');
    const res = await post(card, 'close', { reason: 'holder asked', confirm: 'on' });
    expect(res.status).to.equal(303);
    const page = await (await agent.get(location(res, ts.url))).text();
    expect(textOf(page, 'notice')).to.match(/^Closed for good: /);
    expect(textOf(page, 'card-status')).to.equal('closed');
    expect((await cardRow(card.cardId)).status).to.equal('closed');
    expect(await operatorEntries(card.cardId, 'card.status_changed')).to.have.length(1);
    const again = await agent.post(`${cardPath(card)}/close`, { csrf: await csrf(), reason: 'again', confirm: 'on' });
    expect(textOf(await (await agent.get(location(again, ts.url))).text(), 'notice')).to.equal('The card was closed already: nothing changed.');
    expect(await operatorEntries(card.cardId, 'card.status_changed')).to.have.length(1);
  });

  it('changes the credit limit typed in the currency, audited, and says so, writing nothing, when it was that already', async () => {
    const card = await cardWithLimit(ts, 100_000);
    // Answered with the page itself, not a redirect: the notice says what it was, and whose limits came down with it.
    const res = await post(card, 'limit', { credit_limit: '250,000', reason: 'holder asked for more' });
    expect(res.status).to.equal(200);
    const page = await res.text();
    expect(textOf(page, 'notice')).to.equal('Credit limit changed from 100,000 KRW to 250,000 KRW.');
    expect(textOf(page, 'limit')).to.equal('250,000 KRW');
    expect(Number((await ts.db('accounts').where({ id: card.accountId }).first()).credit_limit)).to.equal(250_000);
    expect((await operatorEntries(card.accountId, 'account.credit_limit_changed')).map((e) => e.details.to)).to.deep.equal([250_000]);
    const same = await post(card, 'limit', { credit_limit: '250000', reason: 'again' });
    expect(textOf(await same.text(), 'notice')).to.equal('The credit limit was 250,000 KRW already: it stays so.');
    // As the API's: a change that did not happen is not recorded as one.
    expect((await operatorEntries(card.accountId, 'account.credit_limit_changed')).map((e) => [e.details.from, e.details.to])).to.deep.equal([[100_000, 250_000]]);
    for (const typed of ['', 'lots', '-5', '1.5', '99999999999999']) {
      const bad = await post(card, 'limit', { credit_limit: typed, reason: 'try' });
      expect(bad.status, typed).to.equal(400);
      const html = await bad.text();
      expect(textOf(html, 'credit-limit-error'), typed).to.be.a('string').and.not.equal('');
      expect(html).to.include(`name="credit_limit" inputmode="decimal" value="${typed}"`);
    }
    expect(Number((await ts.db('accounts').where({ id: card.accountId }).first()).credit_limit)).to.equal(250_000);
  });

  it("names the children whose limits came down with a guardian's, and refuses a child's above the guardian's in money", async () => {
    const guardian = await issueTestCard(ts, '1975-05-05', 'Han Guardian');
    const child = await issueTestCard(ts, '2010-01-01', 'Han Older');
    await ts.db('accounts').where({ id: guardian.accountId }).update({ credit_limit: 100_000 });
    await ts.db('accounts').where({ id: child.accountId }).update({ guardian_account_id: guardian.accountId, credit_limit: 80_000 });
    const lowered = await post(guardian, 'limit', { credit_limit: '30,000', reason: 'missed payments' });
    expect(lowered.status).to.equal(200);
    expect(textOf(await lowered.text(), 'notice')).to.equal('Credit limit changed from 100,000 KRW to 30,000 KRW. Lowered with it: Han Older’s from 80,000 KRW to 30,000 KRW.');
    const above = await post(child, 'limit', { credit_limit: '50,000', reason: 'asked for more' });
    expect(above.status).to.equal(400);
    const html = await above.text();
    expect(textOf(html, 'credit-limit-error')).to.equal('At most 30,000 KRW, the guardian’s limit.');
    expect(html).to.include('name="credit_limit" inputmode="decimal" value="50,000"');
    expect(Number((await ts.db('accounts').where({ id: child.accountId }).first()).credit_limit)).to.equal(30_000);
  });

  it("removes the holder's second factor, audited, and says so when there is none", async () => {
    const card = await issueTestCard(ts);
    await ts.db('totp_factors').insert({ account_id: card.accountId, secret_sealed: Buffer.from('sealed'), confirmed_at: new Date() });
    const res = await post(card, 'second-factor', { reason: 'holder lost the phone' });
    expect(res.status).to.equal(303);
    expect(textOf(await (await agent.get(location(res, ts.url))).text(), 'notice')).to.match(/^Second factor removed: /);
    expect(await ts.db('totp_factors').where({ account_id: card.accountId })).to.have.length(0);
    expect(await operatorEntries(card.accountId, 'totp.removed')).to.have.length(1);
    const again = await post(card, 'second-factor', { reason: 'again' });
    expect(textOf(await (await agent.get(location(again, ts.url))).text(), 'notice')).to.equal('The holder had no second factor already: nothing changed.');
    expect(await operatorEntries(card.accountId, 'totp.removed')).to.have.length(1);
  });

  it('reissues a card: the new number and password on the answer page only, never again, never stored or logged', async () => {
    const card = await issueTestCard(ts);
    const res = await post(card, 'reissue', { reason: 'card worn out' });
    expect(res.status).to.equal(201);
    expect(res.headers.get('cache-control')).to.equal('no-store');
    const html = await res.text();
    const number = textOf(html, 'new-number')!.replace(/\s/g, '');
    const password = textOf(html, 'new-password')!;
    expect(number).to.match(/^\d{16}$/);
    expect(password.length).to.be.greaterThan(5);
    const fresh = await ts.db('cards').where({ account_id: card.accountId }).whereNot({ id: card.cardId }).first('id', 'status', 'last4');
    expect(fresh).to.deep.include({ status: 'active', last4: number.slice(-4) });
    expect(html).to.include(`href="/admin/cards/${fresh.id}"`);
    expect((await cardRow(card.cardId)).status).to.equal('closed');
    expect((await operatorEntries(card.cardId, 'card.reissued')).map((e) => e.details.reason)).to.deep.equal(['card worn out']);

    for (const path of [`/admin/cards/${fresh.id}`, cardPath(card), `/admin/cards/${fresh.id}?done=reissued`]) {
      const again = await (await agent.get(path)).text();
      expect(again, path).not.to.include(number).and.not.include(password);
    }
    const stored = JSON.stringify([await ts.db('audit_log').where('subject_id', 'in', [card.cardId, fresh.id, card.accountId]), await ts.db('notifications_outbox').select('*')]);
    expect(stored).not.to.include(number).and.not.include(password);
    expect(lines.join('\n')).not.to.include(number).and.not.include(password);
    // The old card was replaced: a second reissue from its page is refused, and nothing is issued.
    const twice = await agent.post(`${cardPath(card)}/reissue`, { csrf: await csrf(), reason: 'again' });
    expect(twice.status).to.equal(409);
    expect(alertText(await twice.text())).to.be.a('string').and.not.equal('');
    expect(await ts.db('cards').where({ account_id: card.accountId })).to.have.length(2);
  });

  it('refuses a card id that is not one, a missing reason, and a forged, missing or other form’s token on every action: nothing changed', async () => {
    const card = await issueTestCard(ts);
    await ts.db('totp_factors').insert({ account_id: card.accountId, secret_sealed: Buffer.from('sealed'), confirmed_at: new Date() });
    const page = await (await agent.get(cardPath(card))).text();
    const another = await signedInOperator(ts.url, alice);
    const before = { card: await cardRow(card.cardId), audit: await auditCount(), cards: (await ts.db('cards').where({ account_id: card.accountId })).length };
    for (const id of ['not-a-card', crypto.randomUUID(), card.number]) {
      const res = await agent.get(`/admin/cards/${id}`);
      expect(res.status, id).to.equal(404);
      expect(alertText(await res.text())).to.equal('There is no such card.');
    }
    const extra: Record<string, Record<string, string>> = { close: { confirm: 'on' }, limit: { credit_limit: '5000' } };
    for (const action of ['block', 'lost', 'close', 'reissue', 'limit', 'second-factor']) {
      const form = `${cardPath(card)}/${action}`;
      const token = csrfOf(page, form);
      const noReason = await agent.post(form, { csrf: token, reason: '', ...extra[action] });
      expect(noReason.status, action).to.equal(400);
      expect(textOf(await noReason.text(), `reason-${action}-error`), action).to.equal('Say why (it goes into the audit trail).');
      for (const csrf of [undefined, 'forged', csrfOf(page, '/admin/signout')]) {
        const res = await agent.post(form, { ...(csrf !== undefined ? { csrf } : {}), reason: 'x', ...extra[action] });
        expect(res.status, `${action} ${String(csrf)}`).to.equal(403);
        expect(res.headers.get('cache-control')).to.equal('no-store');
      }
      expect((await agent.post(`/admin/cards/${crypto.randomUUID()}/${action}`, { csrf: token, reason: 'x', ...extra[action] })).status).to.equal(404);
    }
    // This page's token in another session of the same operator.
    expect((await another.post(`${cardPath(card)}/close`, { csrf: csrfOf(page, `${cardPath(card)}/close`), reason: 'x', confirm: 'on' })).status).to.equal(403);
    const nowhere = await agent.post(`${cardPath(card)}/destroy`, { csrf: await csrf(), reason: 'x' });
    expect(nowhere.status).to.equal(404);
    expect({ card: await cardRow(card.cardId), audit: await auditCount(), cards: (await ts.db('cards').where({ account_id: card.accountId })).length }).to.deep.equal(before);
    expect(await ts.db('totp_factors').where({ account_id: card.accountId })).to.have.length(1);
  });

  it('sends a browser without a session to the sign-in page, and changes nothing', async () => {
    const card = await issueTestCard(ts);
    const stranger = new ForwardedAgent(ts.url, uniqueIp());
    for (const res of [await stranger.get(cardPath(card)), await stranger.post(`${cardPath(card)}/close`, { csrf: 'x', reason: 'x', confirm: 'on' }), await stranger.post('/admin/cards/search', { csrf: 'x', number: card.number })]) {
      expect(res.status).to.equal(303);
      expect(location(res, ts.url).pathname).to.equal('/admin/signin');
    }
    expect((await cardRow(card.cardId)).status).to.equal('active');
  });
});
