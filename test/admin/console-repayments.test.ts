import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { ForwardedAgent, csrfOf, location } from '../helpers/agent.ts';
import { unescapeHtml } from '../helpers/html.ts';
import { signedInOperator } from '../helpers/operator.ts';
import { startCardManager, type TestServer } from '../helpers/server.ts';
import { cardWithLimit } from '../ledger/fixtures.ts';
import type { TestCard } from '../helpers/fixtures.ts';

/** The text of an element with this id, or undefined. */
function textOf(html: string, id: string): string | undefined {
  const m = new RegExp(`id="${id}"[^>]*>([^<]*)<`).exec(html);
  return m ? unescapeHtml(m[1]!).trim() : undefined;
}

/** The one-time key of the form posting to `action`. */
function keyOf(html: string, action: string): string {
  const form = new RegExp(`action="${action}"[^>]*>([\\s\\S]*?)</form>`).exec(html);
  const m = form && /name="key" value="([^"]+)"/.exec(form[1]!);
  if (!m) throw new Error(`no key in the form for ${action}`);
  return m[1]!;
}

/** The value a form field was refilled with. */
function valueOf(html: string, id: string): string | undefined {
  const m = new RegExp(`id="${id}"[^>]*value="([^"]*)"`).exec(html);
  return m ? unescapeHtml(m[1]!) : undefined;
}

describe('operator console: a repayment and a payout on the card page', () => {
  const alice = randomBytes(32).toString('base64url');
  const vera = randomBytes(32).toString('base64url');
  let ts: TestServer;
  let agent: ForwardedAgent;

  before(async () => {
    ts = await startCardManager({ trustProxy: true }, { env: { OPERATOR_TOKENS: `alice:${alice}, vera:${vera}:viewer` } });
    agent = await signedInOperator(ts.url, alice);
  });
  after(() => ts?.stop());

  const cardPath = (c: TestCard) => `/admin/cards/${c.cardId}`;
  const page = async (c: TestCard) => (await agent.get(cardPath(c))).text();
  /** What a refusal must leave unchanged: the account's balance, its repayments and payouts, and the audit trail. */
  const books = async (c: TestCard) => ({
    balance: Number((await ts.db('accounts').where({ id: c.accountId }).first('posted_balance'))?.posted_balance),
    repayments: Number((await ts.db('repayments').where({ account_id: c.accountId }).count({ n: '*' }).first())?.n),
    payouts: Number((await ts.db('payouts').where({ account_id: c.accountId }).count({ n: '*' }).first())?.n),
    audit: Number((await ts.db('audit_log').count({ n: '*' }).first())?.n),
  });

  async function repayForm(c: TestCard, fields: Record<string, string>, html?: string): Promise<Response> {
    const shown = html ?? (await page(c));
    const action = `${cardPath(c)}/repayment`;
    return agent.post(action, { csrf: csrfOf(shown, action), key: keyOf(shown, action), ...fields });
  }

  it('records a repayment from the form, in the deployment currency by default, audited as the operator, once for a double submit', async () => {
    const card = await cardWithLimit(ts, 100_000);
    const html = await page(card);
    expect(html).to.include(`action="${cardPath(card)}/repayment"`);
    expect(valueOf(html, 'repayment-currency')).to.equal(ts.config.currency);
    // No credit balance yet: no payout form.
    expect(html).not.to.include(`action="${cardPath(card)}/payout"`);
    const fields = { amount: '25,000', currency: 'KRW', transaction_id: 'BANK-TX-1', received_on: '2026-01-05', memo: 'by phone' };
    const first = await repayForm(card, fields, html);
    expect(first.status).to.equal(303);
    const done = await (await agent.get(location(first, ts.url))).text();
    expect(textOf(done, 'notice')).to.match(/^Repayment recorded/);
    expect(textOf(done, 'balance')).to.equal('-25,000 KRW');
    // The same form again (a double click, back and resend): applied once, the same answer.
    const again = await repayForm(card, fields, html);
    expect(again.status).to.equal(303);
    expect(await books(card)).to.deep.include({ balance: -25_000, repayments: 1 });
    const entries = await ts.db('audit_log').where({ action: 'repayment.recorded', subject_id: card.accountId });
    expect(entries.map((e) => e.actor)).to.deep.equal(['operator:alice']);
    // Without a transaction id the key alone keeps the resend from counting twice.
    const html2 = await page(card);
    const noTx = { amount: '1,000', currency: 'KRW', transaction_id: '', received_on: '', memo: '' };
    expect((await repayForm(card, noTx, html2)).status).to.equal(303);
    expect((await repayForm(card, noTx, html2)).status).to.equal(303);
    expect(await books(card)).to.deep.include({ balance: -26_000, repayments: 2 });
  });

  it('refuses each bad repayment with a 4xx, the form refilled with the field’s message, and nothing changed', async () => {
    const card = await cardWithLimit(ts, 100_000);
    const before = await books(card);
    const good = { amount: '5,000', currency: 'KRW', transaction_id: 'BANK-BAD-1', received_on: '2026-01-05', memo: 'note <b>' };
    const cases: Array<[Record<string, string>, string, RegExp]> = [
      [{ amount: '' }, 'repayment-amount', /^Enter /],
      [{ amount: '12.5' }, 'repayment-amount', /^Enter /],
      [{ amount: '0' }, 'repayment-amount', /positive/],
      [{ amount: '-3' }, 'repayment-amount', /^Enter /],
      [{ currency: 'USD' }, 'repayment-currency', /credit line is in KRW/],
      [{ currency: 'krw!' }, 'repayment-currency', /ISO 4217/],
      [{ transaction_id: 'has space' }, 'repayment-transaction-id', /no spaces/],
      [{ received_on: '2026-02-30' }, 'repayment-received-on', /real date/],
      [{ received_on: '2999-01-01' }, 'repayment-received-on', /after today/],
    ];
    for (const [change, id, message] of cases) {
      const sent = { ...good, ...change };
      const res = await repayForm(card, sent);
      const label = JSON.stringify(change);
      expect(res.status, label).to.be.within(400, 499);
      const html = await res.text();
      expect(textOf(html, `${id}-error`), label).to.match(message);
      expect(valueOf(html, 'repayment-amount'), label).to.equal(sent.amount);
      expect(valueOf(html, 'repayment-memo'), label).to.equal('note <b>');
      expect(html, label).to.include('aria-invalid="true"');
    }
    const forged = await agent.post(`${cardPath(card)}/repayment`, { csrf: 'forged', key: 'k', ...good });
    expect(forged.status).to.equal(403);
    expect(await books(card)).to.deep.equal(before);
  });

  it('refuses a key already used with other values (back, changed, resent), with a fresh key to send again', async () => {
    const card = await cardWithLimit(ts, 100_000);
    const html = await page(card);
    expect((await repayForm(card, { amount: '3,000', currency: 'KRW' }, html)).status).to.equal(303);
    const before = await books(card);
    const changed = await repayForm(card, { amount: '4,000', currency: 'KRW' }, html);
    expect(changed.status).to.equal(409);
    const refused = await changed.text();
    expect(textOf(refused, 'form-error')).to.match(/already sent/);
    expect(keyOf(refused, `${cardPath(card)}/repayment`)).not.to.equal(keyOf(html, `${cardPath(card)}/repayment`));
    expect(await books(card)).to.deep.equal(before);
    expect((await repayForm(card, { amount: '4,000', currency: 'KRW' }, refused)).status).to.equal(303);
    expect(await books(card)).to.deep.include({ balance: -7_000, repayments: 2 });
  });

  it('pays out a credit balance from the form shown only then, once per bank reference, and refuses more than the credit', async () => {
    const card = await cardWithLimit(ts, 100_000);
    expect((await repayForm(card, { amount: '10,000', currency: 'KRW', transaction_id: 'BANK-OVER-1' })).status).to.equal(303);
    const html = await page(card);
    const action = `${cardPath(card)}/payout`;
    expect(html).to.include(`action="${action}"`);
    const send = (fields: Record<string, string>, shown = html) => agent.post(action, { csrf: csrfOf(shown, action), ...fields });

    const before = await books(card);
    const bad: Array<[Record<string, string>, string, RegExp]> = [
      [{ amount: '10,001' }, 'payout-amount', /credit balance is 10,000 KRW/],
      [{ amount: 'ten' }, 'payout-amount', /^Enter /],
      [{ amount: '0' }, 'payout-amount', /positive/],
      [{ bank_reference: '' }, 'payout-bank-reference', /visible characters/],
      [{ reason: ' ' }, 'payout-reason', /Say why/],
    ];
    for (const [change, id, message] of bad) {
      const sent = { amount: '4,000', bank_reference: 'OUT-1', reason: 'holder asked', ...change };
      const res = await send(sent);
      const label = JSON.stringify(change);
      expect(res.status, label).to.be.within(400, 499);
      const refused = await res.text();
      expect(textOf(refused, `${id}-error`), label).to.match(message);
      expect(valueOf(refused, 'payout-amount'), label).to.equal(sent.amount);
      expect(valueOf(refused, 'payout-bank-reference'), label).to.equal(sent.bank_reference);
    }
    expect(await books(card)).to.deep.equal(before);

    const fields = { amount: '4,000', bank_reference: 'OUT-1', reason: 'holder asked' };
    const paid = await send(fields);
    expect(paid.status).to.equal(303);
    expect(textOf(await (await agent.get(location(paid, ts.url))).text(), 'notice')).to.match(/^Paid out/);
    const again = await send(fields);
    expect(again.status).to.equal(303);
    expect(textOf(await (await agent.get(location(again, ts.url))).text(), 'notice')).to.match(/already/);
    expect(await books(card)).to.deep.include({ balance: -6_000, payouts: 1 });
    const entries = await ts.db('audit_log').where({ action: 'payout.sent', subject_id: card.accountId });
    expect(entries.map((e) => e.actor)).to.deep.equal(['operator:alice']);
  });

  it('refuses a bank reference already paid out otherwise (another amount, another card) with a 409, the form refilled with the message on the field, nothing changed', async () => {
    const card = await cardWithLimit(ts, 100_000);
    const other = await cardWithLimit(ts, 100_000);
    for (const c of [card, other]) expect((await repayForm(c, { amount: '10,000', currency: 'KRW' })).status).to.equal(303);
    const action = (c: TestCard) => `${cardPath(c)}/payout`;
    const send = async (c: TestCard, fields: Record<string, string>) => {
      const shown = await page(c);
      return agent.post(action(c), { csrf: csrfOf(shown, action(c)), ...fields });
    };
    expect((await send(card, { amount: '2,000', bank_reference: 'OUT-TAKEN-1', reason: 'holder asked' })).status).to.equal(303);
    const before = { card: await books(card), other: await books(other) };
    const cases: Array<[TestCard, Record<string, string>]> = [
      [card, { amount: '3,000', bank_reference: 'OUT-TAKEN-1', reason: 'a second <b>transfer</b>' }],
      [other, { amount: '2,000', bank_reference: 'OUT-TAKEN-1', reason: 'another holder <b>asked</b>' }],
    ];
    for (const [c, sent] of cases) {
      const label = `${c === card ? 'same card' : 'other card'} ${JSON.stringify(sent)}`;
      const res = await send(c, sent);
      expect(res.status, label).to.equal(409);
      const refused = await res.text();
      expect(textOf(refused, 'payout-bank-reference-error'), label).to.match(/Bank reference OUT-TAKEN-1 was already booked .* nothing was changed/);
      expect(refused, label).to.match(/id="payout-bank-reference"[^>]*aria-invalid="true"|aria-invalid="true"[^>]*id="payout-bank-reference"/);
      expect(valueOf(refused, 'payout-amount'), label).to.equal(sent.amount);
      expect(valueOf(refused, 'payout-bank-reference'), label).to.equal(sent.bank_reference);
      expect(refused, label).to.include(sent.reason!.replace(/</g, '&lt;').replace(/>/g, '&gt;'));
      expect(refused, label).not.to.include(sent.reason);
    }
    expect({ card: await books(card), other: await books(other) }).to.deep.equal(before);
    expect(await ts.db('payouts').where({ bank_reference: 'OUT-TAKEN-1' }).select('account_id', 'amount')).to.deep.equal([{ account_id: card.accountId, amount: 2_000 }]);
  });

  it('shows a viewer neither form and refuses one posted anyway (403), changing nothing', async () => {
    const card = await cardWithLimit(ts, 100_000);
    expect((await repayForm(card, { amount: '10,000', currency: 'KRW' })).status).to.equal(303);
    const viewer = await signedInOperator(ts.url, vera);
    const html = await (await viewer.get(cardPath(card))).text();
    expect(html).not.to.include(`action="${cardPath(card)}/repayment"`).and.not.include(`action="${cardPath(card)}/payout"`);
    const before = await books(card);
    const token = csrfOf(await (await viewer.get('/admin/cards')).text(), '/admin/cards/search');
    const repaid = await viewer.post(`${cardPath(card)}/repayment`, { csrf: token, key: 'viewer-key', amount: '1,000', currency: 'KRW' });
    expect(repaid.status).to.equal(403);
    const paid = await viewer.post(`${cardPath(card)}/payout`, { csrf: token, amount: '1,000', bank_reference: 'V-1', reason: 'viewer tries' });
    expect(paid.status).to.equal(403);
    expect(await books(card)).to.deep.equal(before);
  });
});
