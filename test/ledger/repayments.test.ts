import { expect } from 'chai';
import { capture } from '../../src/approvals/capture.ts';
import { ledgerCommands } from '../../src/admin/ledger-cli.ts';
import { inTransaction } from '../../src/db/tx.ts';
import { formatPaymentReference } from '../../src/ledger/payment-reference.ts';
import { registerTestSite, type TestCard, type TestSite } from '../helpers/fixtures.ts';
import type { TestServer } from '../helpers/server.ts';
import { approveFor, cardWithLimit, operator, startLedgerServer, unbalancedEntries } from './fixtures.ts';

/** A well-formed reference (valid check digits) that no account has. */
const NOBODY = 'CC00000000000195';

describe('repayments', () => {
  let ts: TestServer;
  let site: TestSite;
  let card: TestCard;
  let reference: string;

  async function balance(c: TestCard) {
    const a = await ts.db('accounts').where({ id: c.accountId }).first();
    return { posted: Number(a.posted_balance), held: Number(a.held_amount), limit: Number(a.credit_limit), reference: a.payment_reference as string };
  }
  const count = async (table: string) => Number((await ts.db(table).count({ n: '*' }).first())!.n);

  before(async () => {
    ts = await startLedgerServer({ billing: { importMaxBytes: 2048 } });
    site = await registerTestSite(ts);
    card = await cardWithLimit(ts, 100_000);
    const a = await approveFor(ts, card, site, 30_000);
    await inTransaction(ts.db, (trx) => capture(trx, { approvalNo: a.approvalNo, actor: 'test' }));
    reference = (await balance(card)).reference;
  });
  after(() => ts.stop());

  it('records a partial repayment by card as a balanced entry, cash against the receivable, under the row lock', async () => {
    const res = await operator(ts, 'POST', '/admin/api/ledger/repayments', { card_id: card.cardId, amount: 10_000 });
    expect(res.status).to.equal(201);
    expect(res.json).to.include({ status: 'applied', balance: 20_000 });
    expect((await balance(card)).posted).to.equal(20_000);
    const entry = await ts.db('journal_entries').where({ kind: 'repayment' }).orderBy('id', 'desc').first();
    const legs = await ts.db('postings as p').join('ledger_accounts as a', 'a.id', 'p.ledger_account_id').where('p.entry_id', entry.id).select('a.kind', 'p.amount');
    expect(legs.map((l) => [l.kind, Number(l.amount)])).to.have.deep.members([
      ['cash', 10_000],
      ['receivable', -10_000],
    ]);
    expect(await unbalancedEntries(ts)).to.equal(0);
  });

  it('takes the payment reference as printed (spaces, lower case) and turns an overpayment into credit', async () => {
    const printed = formatPaymentReference(reference).toLowerCase();
    const res = await operator(ts, 'POST', '/admin/api/ledger/repayments', { payment_reference: printed, amount: '25000' });
    expect(res.status).to.equal(201);
    const b = await balance(card);
    expect(b.posted).to.equal(-5_000);
    const view = await operator(ts, 'GET', `/admin/api/ledger/cards/${card.cardId}`);
    expect(view.json).to.include({ balance: -5_000, available_credit: 105_000, credit_limit: 100_000 });
  });

  it('applies a transaction id once: the same again is a duplicate, with another amount a 409', async () => {
    const body = { card_id: card.cardId, amount: 1_000, transaction_id: 'OP-2026-0001' };
    const first = await operator(ts, 'POST', '/admin/api/ledger/repayments', body);
    let posted = (await balance(card)).posted;
    const again = await operator(ts, 'POST', '/admin/api/ledger/repayments', body);
    expect(first.status).to.equal(201);
    expect(again.status).to.equal(200);
    expect(again.json.status).to.equal('duplicate');
    expect((again.json.repayment as { id: number }).id).to.equal((first.json.repayment as { id: number }).id);
    const other = await operator(ts, 'POST', '/admin/api/ledger/repayments', { ...body, amount: 2_000 });
    expect(other.status).to.equal(409);
    expect(other.json.error).to.equal('transaction_id_conflict');
    expect(other.json.error_description).to.match(/^Transaction OP-2026-0001 was already applied \(repayment \d+\) with a different amount; nothing was changed\.$/);
    expect(other.json.fields).to.deep.equal({ transaction_id: other.json.error_description });
    // A date the first did not give is no difference; two different dates are.
    const dated = { ...body, transaction_id: 'OP-2026-0002', received_on: '2026-11-02' };
    expect((await operator(ts, 'POST', '/admin/api/ledger/repayments', dated)).status).to.equal(201);
    posted -= 1_000;
    expect((await operator(ts, 'POST', '/admin/api/ledger/repayments', { ...dated, received_on: undefined })).status).to.equal(200);
    const redated = await operator(ts, 'POST', '/admin/api/ledger/repayments', { ...dated, received_on: '2026-11-03' });
    expect(redated.status).to.equal(409);
    expect(redated.json.error_description).to.match(/with a different date;/);
    // The same amount in another currency is another transfer too, not a duplicate of this one.
    const otherCurrency = await operator(ts, 'POST', '/admin/api/ledger/repayments', { ...body, currency: 'USD' });
    expect(otherCurrency.status).to.equal(409);
    expect((await balance(card)).posted).to.equal(posted);
    // Concurrent duplicates apply once.
    const racing = await Promise.all(
      Array.from({ length: 6 }, () => operator(ts, 'POST', '/admin/api/ledger/repayments', { card_id: card.cardId, amount: 100, transaction_id: 'OP-RACE' })),
    );
    expect(racing.filter((r) => r.status === 201)).to.have.length(1);
    expect(racing.filter((r) => r.status === 200)).to.have.length(5);
    expect((await balance(card)).posted).to.equal(posted - 100);
  });

  it('refuses bad repayment requests with 4xx, naming the field, and changes nothing', async () => {
    const before = { posted: (await balance(card)).posted, rows: await count('repayments'), entries: await count('journal_entries') };
    const cases: Array<[unknown, number, string?]> = [
      [{ card_id: card.cardId, amount: 0 }, 400, 'amount'],
      [{ card_id: card.cardId, amount: -5 }, 400, 'amount'],
      [{ card_id: card.cardId, amount: 12.5 }, 400, 'amount'],
      [{ card_id: card.cardId, amount: '12.50' }, 400, 'amount'],
      [{ card_id: card.cardId, amount: '1e3' }, 400, 'amount'],
      [{ card_id: card.cardId, amount: 1e16 }, 400, 'amount'],
      [{ card_id: card.cardId }, 400, 'amount'],
      [{ amount: 100 }, 400, 'card_id'],
      [{ card_id: card.cardId, payment_reference: reference, amount: 100 }, 400, 'card_id'],
      [{ card_id: 'not-a-uuid', amount: 100 }, 400, 'card_id'],
      [{ payment_reference: 'CC00000000000196', amount: 100 }, 400, 'payment_reference'],
      [{ payment_reference: 12, amount: 100 }, 400, 'payment_reference'],
      [{ card_id: card.cardId, amount: 100, currency: 'USD' }, 422, 'currency'], // the line is in KRW
      [{ card_id: card.cardId, amount: 100, currency: 'won' }, 400, 'currency'],
      [{ card_id: card.cardId, amount: 100, received_on: '2026-13-01' }, 400, 'received_on'],
      [{ card_id: card.cardId, amount: 100, received_on: '1999-12-31' }, 400, 'received_on'],
      // Not received yet: tomorrow, wherever the operator is, is after today in the billing time zone.
      [{ card_id: card.cardId, amount: 100, received_on: new Date(Date.now() + 2 * 86_400_000).toISOString().slice(0, 10) }, 422, 'received_on'],
      [{ card_id: card.cardId, amount: 100, transaction_id: 'has space' }, 400, 'transaction_id'],
      [{ card_id: card.cardId, amount: 100, memo: 'line\nbreak' }, 400, 'memo'],
      [{ card_id: card.cardId, amount: 100, surprise: true }, 400],
      [{ card_id: '00000000-0000-4000-8000-000000000000', amount: 100 }, 404],
      [{ payment_reference: NOBODY, amount: 100 }, 404],
      [[1, 2], 400],
    ];
    for (const [body, status, field] of cases) {
      const res = await operator(ts, 'POST', '/admin/api/ledger/repayments', body);
      expect(res.status, JSON.stringify(body)).to.equal(status);
      if (field) expect(res.json.fields ?? {}, JSON.stringify(body)).to.have.property(field);
    }
    const plain = await operator(ts, 'POST', '/admin/api/ledger/repayments', 'amount=100', { 'content-type': 'application/x-www-form-urlencoded' });
    expect(plain.status).to.equal(415);
    const anonymous = await fetch(`${ts.url}/admin/api/ledger/repayments`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(anonymous.status).to.equal(401);
    expect((await balance(card)).posted).to.equal(before.posted);
    expect(await count('repayments')).to.equal(before.rows);
    expect(await count('journal_entries')).to.equal(before.entries);
  });

  it("refuses a repayment in the deployment's currency to a credit line kept in another, changing nothing, and takes one in the line's own", async () => {
    // As a change of config's currency would leave an account opened before it.
    const other = await cardWithLimit(ts, 50_000);
    await ts.db('accounts').where({ id: other.accountId }).update({ currency: 'USD' });
    const before = { entries: await count('journal_entries'), rows: await count('repayments'), ledgerAccounts: await count('ledger_accounts') };
    const res = await operator(ts, 'POST', '/admin/api/ledger/repayments', { card_id: other.cardId, amount: 1_000, currency: 'KRW' });
    expect(res.status).to.equal(422);
    expect(res.json.fields).to.have.property('currency').that.matches(/credit line is in USD/);
    expect((await balance(other)).posted).to.equal(0);
    expect({ entries: await count('journal_entries'), rows: await count('repayments'), ledgerAccounts: await count('ledger_accounts') }).to.deep.equal(before);
    // In the line's own currency it is accepted: the account can still be paid off.
    const own = await operator(ts, 'POST', '/admin/api/ledger/repayments', { card_id: other.cardId, amount: 1_000, currency: 'USD' });
    expect(own.status, JSON.stringify(own.json)).to.equal(201);
    expect((await balance(other)).posted).to.equal(-1_000);
    expect(await unbalancedEntries(ts)).to.equal(0);
  });

  describe('CSV import of bank transfers', () => {
    const csvPost = (body: string | Buffer, type = 'text/csv') =>
      fetch(`${ts.url}/admin/api/ledger/repayments/import`, {
        method: 'POST',
        headers: { authorization: `Bearer ${ts.config.secrets.operatorToken}`, 'content-type': type },
        body: typeof body === 'string' ? body : new Blob([new Uint8Array(body)]),
      });

    it('applies matched lines, reports unmatched and malformed ones by line, and never applies a transfer twice', async () => {
      const other = await cardWithLimit(ts, 50_000);
      const otherRef = (await balance(other)).reference;
      const start = (await balance(card)).posted;
      const csv = [
        'transaction_id,date,amount,currency,reference,payer',
        `BT-1,2026-11-20,3000,KRW,${formatPaymentReference(reference)},Kim`,
        `BT-2,2026-11-20,700,KRW,${otherRef.toLowerCase()},"Lee, J."`,
        `BT-3,2026-11-21,500,KRW,${NOBODY},Nobody`,
        'BT-4,2026-11-21,12.50,KRW,' + reference + ',Park',
        'BT-5,2026-11-21,-100,KRW,' + reference + ',Park',
        'BT-6,2026-11-31,100,KRW,' + reference + ',Park',
        'BT-7,2026-11-21,100,USD,' + reference + ',Park',
        'BT-8,2026-11-21,100,KRW,CC00000000000196,Park',
        'BT-9,2026-11-21,100,KRW',
        ',2026-11-21,100,KRW,' + reference + ',Park',
        'BT-10,2026-11-21,0,KRW,' + reference + ',Park',
        `BT-1,2026-11-20,3000,KRW,${reference},Kim`,
        `BT-2,2026-11-20,999,KRW,${otherRef},Lee`,
        `BT-11,${new Date(Date.now() + 2 * 86_400_000).toISOString().slice(0, 10)},100,KRW,${reference},Park`,
        '',
      ].join('\r\n');
      const res = await csvPost(csv);
      expect(res.status).to.equal(200);
      const report = (await res.json()) as { [k in 'applied' | 'duplicates' | 'unmatched' | 'wrong_currency' | 'conflicts' | 'malformed']: Array<Record<string, unknown>> } & {
        applied_amount: number;
        lines: number;
      };
      expect(report.lines).to.equal(14);
      expect(report.applied.map((a) => a.line)).to.deep.equal([2, 3]);
      expect(report.applied_amount).to.equal(3_700);
      expect(report.duplicates.map((a) => a.line)).to.deep.equal([13]);
      expect(report.unmatched.map((a) => a.line)).to.deep.equal([4]);
      expect(report.unmatched[0]!.reason).to.equal('no account has this payment reference');
      // Well-formed, but not in the currency of that account's credit line.
      expect(report.wrong_currency.map((a) => [a.line, a.account_id, a.currency])).to.deep.equal([[8, card.accountId, 'USD']]);
      expect(String(report.wrong_currency[0]!.reason)).to.equal("the account's credit line is in KRW, the transfer in USD");
      // The id of line 3 again, with another amount: another transfer under a used id, not a duplicate.
      const first = report.applied.find((a) => a.line === 3)!;
      expect(report.conflicts.map((a) => [a.line, a.repayment_id])).to.deep.equal([[14, first.repayment_id]]);
      expect(String(report.conflicts[0]!.reason)).to.match(/^transaction BT-2 was already applied as repayment \d+ \(700 KRW to account .+ received 2026-11-20\); this line has a different amount$/);
      expect(report.malformed.map((a) => a.line)).to.deep.equal([5, 6, 7, 9, 10, 11, 12, 15]);
      expect(String(report.malformed[0]!.reason)).to.match(/amount/);
      expect(String(report.malformed[2]!.reason)).to.match(/date/);
      expect(String(report.malformed[3]!.reason)).to.match(/reference/);
      expect(String(report.malformed[4]!.reason)).to.match(/fields/);
      expect(String(report.malformed[5]!.reason)).to.match(/transaction_id/);
      // Dated after today: money not received yet.
      expect(String(report.malformed[7]!.reason)).to.match(/is after today/);
      expect((await balance(card)).posted).to.equal(start - 3_000);
      expect((await balance(other)).posted).to.equal(-700);

      const rows = await count('repayments');
      const again = (await (await csvPost(csv)).json()) as Record<string, unknown[]>;
      expect(again.applied).to.have.length(0);
      expect(again.duplicates).to.have.length(3);
      expect([again.unmatched, again.wrong_currency, again.conflicts].map((l) => l!.length)).to.deep.equal([1, 1, 1]);
      expect(await count('repayments')).to.equal(rows);
      expect((await balance(card)).posted).to.equal(start - 3_000);
      expect(await unbalancedEntries(ts)).to.equal(0);
    });

    it('refuses files it cannot read as a whole with 4xx, applying nothing', async () => {
      const rows = await count('repayments');
      const cases: Array<[string | Buffer, number, string?]> = [
        ['', 400],
        ['transaction_id,date,amount\nBT,2026-11-01,5\n', 400],
        [`transaction_id,date,amount,currency,reference\n"BT-x,2026-11-01,5,KRW,${reference}\n`, 400],
        [`transaction_id,date,amount,currency,reference\n"BT"x,2026-11-01,5,KRW,${reference}\n`, 400],
        [Buffer.from([0x74, 0x78, 0xff, 0xfe, 0x0a]), 400],
        [`transaction_id,date,amount,currency,reference\n${'x'.repeat(3000)}\n`, 413],
        [`transaction_id,date,amount,currency,reference\nBT-J,2026-11-01,5,KRW,${reference}\n`, 415, 'application/json'],
      ];
      for (const [body, status, type] of cases) {
        const res = await csvPost(body, type);
        expect(res.status, String(body).slice(0, 40)).to.equal(status);
      }
      expect(await count('repayments')).to.equal(rows);
    });
  });

  describe('CLI', () => {
    const run = (args: string[]) => ledgerCommands[`${args[0]} ${args[1]}`]!({ config: ts.config, db: ts.db, args: args.slice(2) });

    it('refuses bad arguments with the reason and changes nothing', async () => {
      const rows = await count('repayments');
      const cases: Array<[string[], RegExp]> = [
        [['repayments', 'add', '--amount', '100'], /Give either the card or the payment reference/],
        [['repayments', 'add', '--card', card.cardId, '--reference', reference, '--amount', '1'], /Give either the card or the payment reference/],
        [['repayments', 'add', '--card', card.cardId, '--amount', '0'], /Some fields/],
        [['repayments', 'add', '--card', card.cardId, '--amount', '1.5'], /Some fields/],
        [['repayments', 'add', '--card', card.cardId], /Some fields/],
        [['repayments', 'add', '--reference', 'CC1', '--amount', '5'], /Some fields/],
        [['repayments', 'add', '--reference', NOBODY, '--amount', '5'], /No account has this payment reference/],
        [['repayments', 'add', '--card', '4000 0000 0000 0002', '--amount', '5'], /no such card/],
        [['repayments', 'add', '--card', card.cardId, '--amount', '5', '--date', '2026-02-30'], /Some fields/],
        [['repayments', 'add', '--card', card.cardId, '--amount', '5', '--wat'], /Unknown option/],
        [['repayments', 'import'], /"file":"Give the CSV of bank transfers\."/],
        [['repayments', 'import', '--file', '/nonexistent.csv'], /Cannot read/],
        [['billing', 'run', '--date', '2026-13-01'], /Some fields/],
        [['billing', 'run', '--batch', '0'], /"batch":"A whole number from 1 to 10000\."/],
        [['settlement', 'report'], /Some fields/],
        [['settlement', 'report', '--month', '2026-13'], /Some fields/],
        [['settlement', 'report', '--month', '2026-11', '--format', 'xml'], /"format":"One of json, csv\."/],
        [['settlement', 'close', '--month', 'November'], /Some fields/],
        [['ledger', 'show'], /"card_id":"Give a card id or number\."/],
      ];
      for (const [args, message] of cases) {
        let err: unknown;
        try {
          await run(args);
        } catch (e) {
          err = e;
        }
        const text = `${(err as Error | undefined)?.message ?? 'no error'} ${JSON.stringify((err as { fields?: unknown })?.fields ?? {})}`;
        expect(text, args.join(' ')).to.match(message);
      }
      expect(await count('repayments')).to.equal(rows);
    });

    it('records a repayment by card number or reference, and a duplicate transaction id only once', async () => {
      const start = (await balance(card)).posted;
      const log = console.log;
      const out: string[] = [];
      console.log = (...a: unknown[]) => void out.push(a.join(' '));
      try {
        await run(['repayments', 'add', '--card', card.number, '--amount', '250', '--transaction-id', 'CLI-1']);
        await run(['repayments', 'add', '--reference', formatPaymentReference(reference), '--amount', '250', '--transaction-id', 'CLI-1']);
      } finally {
        console.log = log;
      }
      expect(out[0]).to.match(/repayment \d+ of 250 KRW recorded/);
      expect(out[1]).to.match(/already applied/);
      expect((await balance(card)).posted).to.equal(start - 250);
    });
  });
});
