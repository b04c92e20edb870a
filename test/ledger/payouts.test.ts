import { expect } from 'chai';
import { capture } from '../../src/approvals/capture.ts';
import { holderActivity } from '../../src/cards/holder-activity.ts';
import { inTransaction } from '../../src/db/tx.ts';
import { billingRun } from '../../src/ledger/billing-run.ts';
import { Agent, csrfFrom } from '../helpers/agent.ts';
import { signedInHolder } from '../helpers/holder.ts';
import { registerTestSite, type TestCard, type TestSite } from '../helpers/fixtures.ts';
import type { TestServer } from '../helpers/server.ts';
import { runCli } from './cli.ts';
import { approveFor, cardWithLimit, ledgerOf, operator, startLedgerServer, unbalancedEntries } from './fixtures.ts';

const PAYOUTS = '/admin/api/ledger/payouts';

/** Paying a holder's credit balance back (POST /admin/api/ledger/payouts, `payouts add`): cash out against the receivable. */
describe('payouts of a credit balance', function () {
  this.timeout(120_000);
  let ts: TestServer;
  let site: TestSite;

  before(async () => {
    ts = await startLedgerServer();
    site = await registerTestSite(ts);
  });
  after(() => ts?.stop());

  const posted = async (c: TestCard) => Number((await ts.db('accounts').where({ id: c.accountId }).first()).posted_balance);
  const count = async (table: string) => Number((await ts.db(table).count({ n: '*' }).first())!.n);

  async function booksAddUp() {
    const res = await operator(ts, 'GET', '/admin/api/ledger/check');
    expect(res.status).to.equal(200);
    expect(res.json.findings).to.deep.equal([]);
    expect(res.json.ok).to.equal(true);
  }

  /** A card whose holder paid `paid` against a captured charge of `charged`: a credit of paid − charged. */
  async function cardInCredit(charged: number, paid: number, extra: Record<string, unknown> = {}): Promise<TestCard> {
    const card = await cardWithLimit(ts, 100_000, extra);
    const a = await approveFor(ts, card, site, charged);
    await inTransaction(ts.db, (trx) => capture(trx, { approvalNo: a.approvalNo, actor: 'test' }));
    const r = await operator(ts, 'POST', '/admin/api/ledger/repayments', { card_id: card.cardId, amount: paid });
    expect(r.status).to.equal(201);
    return card;
  }

  it('pays out part of a credit balance as a balanced entry (receivable against cash), audited, the holder told', async () => {
    const card = await cardInCredit(10_000, 25_000, { email: 'holder@example.test', mobile: '+821012345678', locale: 'ko' });
    expect(await posted(card)).to.equal(-15_000);
    const res = await operator(ts, 'POST', PAYOUTS, { card_id: card.cardId, amount: 6_000, currency: 'KRW', bank_reference: 'OUT-0001', reason: 'overpaid the November statement' });
    expect(res.status, res.text).to.equal(201);
    expect(res.json).to.deep.include({ status: 'paid', credit_balance: 9_000 });
    expect(res.json.payout).to.include({ account_id: card.accountId, amount: 6_000, currency: 'KRW', bank_reference: 'OUT-0001' });
    expect(await posted(card)).to.equal(-9_000);
    const entry = await ts.db('journal_entries').where({ kind: 'payout' }).orderBy('id', 'desc').first();
    const legs = await ts.db('postings as p').join('ledger_accounts as a', 'a.id', 'p.ledger_account_id').where('p.entry_id', entry.id).select('a.kind', 'p.amount');
    expect(legs.map((l) => [l.kind, Number(l.amount)])).to.have.deep.members([
      ['receivable', 6_000],
      ['cash', -6_000],
    ]);
    const audit = await ts.db('audit_log').where({ action: 'payout.sent', subject_id: card.accountId });
    expect(audit).to.have.length(1);
    expect(audit[0].details).to.include({ amount: 6_000, currency: 'KRW', bankReference: 'OUT-0001', reason: 'overpaid the November statement' });
    const sent = await ts.db('notifications_outbox').where({ account_id: card.accountId, template: 'payout_sent' });
    expect(sent.map((m) => m.channel)).to.have.members(['email', 'sms']);
    expect(sent[0].data).to.deep.equal({ amount: { amount: 6000, currency: 'KRW' } });
    const activity = await holderActivity(ts.db, card.accountId);
    expect(activity.items.map((i) => i.kind)).to.include('payout_sent');
    expect(await unbalancedEntries(ts)).to.equal(0);
    await booksAddUp();
  });

  it('answers the same bank reference again as a duplicate, and another payout under it as a 409', async () => {
    const card = await cardInCredit(1_000, 11_000);
    const body = { card_id: card.cardId, amount: 4_000, currency: 'KRW', bank_reference: 'OUT-0002', reason: 'refund after paying' };
    expect((await operator(ts, 'POST', PAYOUTS, body)).status).to.equal(201);
    const again = await operator(ts, 'POST', PAYOUTS, body);
    expect(again.status).to.equal(200);
    expect(again.json.status).to.equal('duplicate');
    const other = await operator(ts, 'POST', PAYOUTS, { ...body, amount: 5_000 });
    expect(other.status).to.equal(409);
    expect(other.json.fields).to.have.property('bank_reference');
    expect(await posted(card)).to.equal(-6_000);
    await booksAddUp();
  });

  it('never pays out more than the credit, even asked many times at once', async () => {
    const card = await cardInCredit(1_000, 11_000);
    const racing = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        operator(ts, 'POST', PAYOUTS, { card_id: card.cardId, amount: 3_000, currency: 'KRW', bank_reference: `OUT-RACE-${i}`, reason: 'race' }),
      ),
    );
    expect(racing.filter((r) => r.status === 201)).to.have.length(3);
    expect(racing.filter((r) => r.status === 422)).to.have.length(3);
    for (const r of racing.filter((x) => x.status === 422)) expect(r.json.fields).to.have.property('amount');
    expect(await posted(card)).to.equal(-1_000);
    await booksAddUp();
  });

  it('pays out the credit of a closed card', async () => {
    const card = await cardInCredit(2_000, 5_000);
    const closed = await operator(ts, 'POST', `/admin/api/cards/${card.cardId}/close`, { reason: 'holder asked' });
    expect(closed.status, closed.text).to.equal(200);
    const res = await operator(ts, 'POST', PAYOUTS, { card_id: card.cardId, amount: 3_000, currency: 'KRW', bank_reference: 'OUT-CLOSED', reason: 'account closed' });
    expect(res.status, res.text).to.equal(201);
    expect(await posted(card)).to.equal(0);
    await booksAddUp();
  });

  it('refuses bad payouts with 4xx, naming the field, and changes nothing', async () => {
    const card = await cardInCredit(1_000, 3_000); // credit 2,000
    const owing = await cardWithLimit(ts, 100_000); // no credit at all
    const ok = { card_id: card.cardId, amount: 1_000, currency: 'KRW', bank_reference: 'OUT-BAD', reason: 'test' };
    const before = { posted: await posted(card), entries: await count('journal_entries'), payouts: await count('payouts'), audit: await count('audit_log') };
    const cases: Array<[unknown, number, string?]> = [
      [{ ...ok, amount: 2_001 }, 422, 'amount'],
      [{ ...ok, card_id: owing.cardId }, 422, 'amount'],
      [{ ...ok, amount: 0 }, 400, 'amount'],
      [{ ...ok, amount: -5 }, 400, 'amount'],
      [{ ...ok, amount: 12.5 }, 400, 'amount'],
      [{ ...ok, amount: '12.50' }, 400, 'amount'],
      [{ ...ok, currency: 'USD' }, 422, 'currency'],
      [{ ...ok, currency: 'won' }, 400, 'currency'],
      [{ ...ok, currency: undefined }, 400, 'currency'],
      [{ ...ok, bank_reference: undefined }, 400, 'bank_reference'],
      [{ ...ok, bank_reference: 'has space' }, 400, 'bank_reference'],
      [{ ...ok, reason: undefined }, 400, 'reason'],
      [{ ...ok, reason: '' }, 400, 'reason'],
      [{ ...ok, card_id: 'not-a-uuid' }, 400, 'card_id'],
      [{ ...ok, card_id: '00000000-0000-4000-8000-000000000000' }, 404],
      [{ ...ok, surprise: 1 }, 400],
      [[1], 400],
    ];
    for (const [body, status, field] of cases) {
      const res = await operator(ts, 'POST', PAYOUTS, body);
      expect(res.status, `${JSON.stringify(body)} ${res.text}`).to.equal(status);
      if (field) expect(res.json.fields ?? {}, JSON.stringify(body)).to.have.property(field);
    }
    const anonymous = await fetch(`${ts.url}${PAYOUTS}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(ok) });
    expect(anonymous.status).to.equal(401);
    expect(await posted(card)).to.equal(before.posted);
    expect(await count('journal_entries')).to.equal(before.entries);
    expect(await count('payouts')).to.equal(before.payouts);
    expect(await count('audit_log')).to.equal(before.audit);
    await booksAddUp();
  });

  it("lists the payout on the next statement as a line, and the statement's arithmetic and the check still hold", async () => {
    const card = await cardInCredit(4_000, 9_000);
    expect((await operator(ts, 'POST', PAYOUTS, { card_id: card.cardId, amount: 5_000, currency: 'KRW', bank_reference: 'OUT-STMT', reason: 'overpaid' })).status).to.equal(201);
    await billingRun(ledgerOf(ts), { cutoff: new Date() });
    const statement = await ts.db('statements').where({ account_id: card.accountId }).first();
    expect(Number(statement.payouts)).to.equal(5_000);
    expect(Number(statement.closing_balance)).to.equal(0);
    const view = await operator(ts, 'GET', `/admin/api/ledger/statements/${statement.id}`);
    expect(view.status, view.text).to.equal(200);
    const lines = (view.json.lines as Array<{ kind: string; amount: number }>).map((l) => [l.kind, l.amount]);
    expect(lines).to.deep.include(['payout', 5_000]);
    await booksAddUp();
    // The holder's statement says the money went back to them, as an amount added (not one more payment taken off).
    const holder = new Agent(ts.url);
    const form = await holder.get('/card/signin?next=/card/account');
    const signedIn = await holder.post('/card/signin', { csrf: csrfFrom(await form.text()), card_number: card.number, password: card.password, next: '/card/account' });
    expect(signedIn.status).to.equal(303);
    const html = await (await holder.get(`/card/account?statement=${statement.id}`)).text();
    expect(html).to.match(/<tr class="payout">.*Credit balance sent back to you.*>5,000 KRW<\/td><\/tr>/);
    expect(html).to.include('Credit balance sent back to you: 5,000 KRW.');
    // The check knows payout lines: one booked as a repayment no longer adds to the statement's totals.
    await ts.db.raw('ALTER TABLE statement_lines DISABLE TRIGGER statement_lines_append_only');
    try {
      await ts.db('statement_lines').where({ statement_id: statement.id, kind: 'payout' }).update({ kind: 'repayment' });
      const c = await operator(ts, 'GET', '/admin/api/ledger/check');
      expect(c.json.ok).to.equal(false);
      expect(c.json.findings).to.deep.include({
        check: 'statement_lines',
        subject: String(statement.id),
        figures: { charges: 4_000, line_charges: 4_000, refunds: 0, line_refunds: 0, repayments: 9_000, line_repayments: 14_000, payouts: 5_000, line_payouts: 0 },
      });
      await ts.db('statement_lines').where({ statement_id: statement.id, kind: 'repayment', description: 'payout OUT-STMT' }).update({ kind: 'payout' });
    } finally {
      await ts.db.raw('ALTER TABLE statement_lines ENABLE TRIGGER statement_lines_append_only');
    }
    await booksAddUp();
  });

  it("lists a card's payouts, newest first, in `ledger show --card` and GET /admin/api/ledger/cards/:cardId, as it lists repayments", async () => {
    const card = await cardInCredit(1_000, 9_000); // credit 8,000
    for (const [amount, ref] of [[2_000, 'OUT-SHOW-1'], [3_000, 'OUT-SHOW-2']] as const) {
      const res = await operator(ts, 'POST', PAYOUTS, { card_id: card.cardId, amount, currency: 'KRW', bank_reference: ref, reason: 'overpaid' });
      expect(res.status, res.text).to.equal(201);
    }
    const shown = (list: Array<Record<string, unknown>>) => list.map((p) => [p.amount, p.currency, p.bank_reference]);
    const api = await operator(ts, 'GET', `/admin/api/ledger/cards/${card.cardId}`);
    expect(api.status).to.equal(200);
    expect(api.json.balance).to.equal(-3_000);
    const payouts = api.json.recent_payouts as Array<Record<string, unknown>>;
    expect(shown(payouts)).to.deep.equal([
      [3_000, 'KRW', 'OUT-SHOW-2'],
      [2_000, 'KRW', 'OUT-SHOW-1'],
    ]);
    const first = payouts[0]!;
    expect(first.id).to.be.a('number');
    expect(Date.parse(first.paid_at as string)).to.be.closeTo(Date.now(), 120_000);
    const cli = await runCli(ts.config.databaseUrl!, ['ledger', 'show', '--card', card.cardId]);
    expect(cli.code, cli.stderr).to.equal(0);
    expect(JSON.parse(cli.stdout).recent_payouts).to.deep.equal(payouts);
    // A card without payouts says so with an empty list.
    const none = await operator(ts, 'GET', `/admin/api/ledger/cards/${(await cardWithLimit(ts, 1_000)).cardId}`);
    expect(none.json.recent_payouts).to.deep.equal([]);
  });

  it("shows the holder's payouts on their account page, newest first, beside the payments received", async () => {
    const card = await cardInCredit(1_000, 9_000); // credit 8,000
    const agent = await signedInHolder(ts.url, card);
    const before = await (await agent.get('/card/account')).text();
    expect(before).to.not.include('id="payouts"');
    for (const [amount, ref] of [[2_000, 'OUT-PAGE-1'], [3_500, 'OUT-PAGE-2']] as const) {
      const res = await operator(ts, 'POST', PAYOUTS, { card_id: card.cardId, amount, currency: 'KRW', bank_reference: ref, reason: 'an internal note' });
      expect(res.status, res.text).to.equal(201);
    }
    const page = await (await agent.get('/card/account')).text();
    expect(page).to.include('<h2>Credit sent back to you</h2>');
    const table = /<table id="payouts">([\s\S]*?)<\/table>/.exec(page)?.[1] ?? '';
    const amounts = [...table.matchAll(/data-label="Amount">([^<]*)</g)].map((m) => m[1]);
    expect(amounts).to.deep.equal(['3,500 KRW', '2,000 KRW']);
    expect(table).to.include('OUT-PAGE-2');
    // The operator's reason is an internal note: never on the holder's page.
    expect(page).to.not.include('an internal note');
  });

  it('pays out from the CLI (payouts add), the check green after', async () => {
    const card = await cardInCredit(1_000, 4_000);
    const run = await runCli(ts.config.databaseUrl!, [
      'payouts', 'add', '--card', card.cardId, '--amount', '2500', '--currency', 'KRW', '--bank-reference', 'OUT-CLI-1', '--reason', 'overpaid',
    ]);
    expect(run.code, run.stderr).to.equal(0);
    expect(run.stdout).to.match(/^payout \d+ of .* paid to account .*; credit balance now /);
    expect(await posted(card)).to.equal(-500);
    const over = await runCli(ts.config.databaseUrl!, [
      'payouts', 'add', '--card', card.cardId, '--amount', '501', '--currency', 'KRW', '--bank-reference', 'OUT-CLI-2', '--reason', 'overpaid',
    ]);
    expect(over.code).to.not.equal(0);
    expect(await posted(card)).to.equal(-500);
    const check = await runCli(ts.config.databaseUrl!, ['ledger', 'check']);
    expect(check.code, check.stdout + check.stderr).to.equal(0);
  });
});
