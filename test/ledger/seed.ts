import { randomUUID } from 'node:crypto';
import type { Db } from '../../src/db/knex.ts';

export interface SeedOptions {
  count: number;
  /** Member site the seeded approvals belong to. */
  clientId: string;
  statementDay: number;
  /** When the accounts were opened and when their charges were captured (both before the period end). */
  openedAt: Date;
  chargedAt: Date;
  /** Charges per account; account i is charged 1,000 + (i mod 997) for each. */
  chargesPerAccount?: number;
}

/**
 * Seeds `count` billable accounts in set-based SQL (a few statements, whatever the count): each with an
 * active card, captured approvals at `chargedAt` and their balanced ledger entries (receivable +X,
 * the site's payable −X), posted_balance matching. For benchmarks and crash tests, where going through
 * the domain one approval at a time would take longer than what is measured.
 */
export async function seedBillableAccounts(db: Db, o: SeedOptions): Promise<{ accountIds: string[]; expected: Map<string, number> }> {
  const per = o.chargesPerAccount ?? 1;
  await db.transaction(async (trx) => {
    await trx.raw(
      `CREATE TEMP TABLE seed_accounts ON COMMIT DROP AS
       SELECT gen_random_uuid() AS id, gen_random_uuid() AS card_id, g AS n FROM generate_series(1, ?::int) g`,
      [o.count],
    );
    await trx.raw(
      `INSERT INTO accounts (id, legal_name, birthdate, credit_limit, currency, statement_day, created_at, posted_balance)
       SELECT id, 'Seeded holder ' || n, '1990-01-01', 10000000, 'KRW', ?::int, ?::timestamptz, ?::int * (1000 + n % 997)
       FROM seed_accounts`,
      [o.statementDay, o.openedAt, per],
    );
    await trx.raw(
      `INSERT INTO cards (id, account_id, number_hmac, last4, password_hash, status, created_at)
       SELECT card_id, id, decode(md5(card_id::text), 'hex'), lpad((n % 10000)::text, 4, '0'), 'seeded', 'active', ?::timestamptz
       FROM seed_accounts`,
      [o.openedAt],
    );
    await trx.raw(
      `INSERT INTO ledger_accounts (kind, owner_id, currency) SELECT 'receivable', id::text, 'KRW' FROM seed_accounts
       ON CONFLICT DO NOTHING`,
    );
    await trx.raw(`INSERT INTO ledger_accounts (kind, owner_id, currency) VALUES ('payable', ?, 'KRW') ON CONFLICT DO NOTHING`, [o.clientId]);
    await trx.raw(
      `CREATE TEMP TABLE seed_approvals ON COMMIT DROP AS
       SELECT gen_random_uuid() AS id, s.id AS account_id, s.card_id, 1000 + s.n % 997 AS amount,
         nextval('journal_entries_id_seq') AS entry_id, k
       FROM seed_accounts s CROSS JOIN generate_series(1, ?::int) k`,
      [per],
    );
    await trx.raw(
      `INSERT INTO approvals (id, approval_no, account_id, card_id, client_id, status, amount, currency, captured_amount,
         description, hold_expires_at, created_at, updated_at)
       SELECT id, 'S' || lpad(entry_id::text, 12, '0'), account_id, card_id, ?, 'captured', amount, 'KRW', amount,
         'Seeded item ' || k, ?::timestamptz, ?::timestamptz, ?::timestamptz
       FROM seed_approvals`,
      [o.clientId, o.chargedAt, o.chargedAt, o.chargedAt],
    );
    await trx.raw(
      `INSERT INTO journal_entries (id, kind, approval_id, memo, created_at)
       SELECT entry_id, 'capture', id, 'seeded capture', ?::timestamptz FROM seed_approvals`,
      [o.chargedAt],
    );
    await trx.raw(
      `INSERT INTO postings (entry_id, ledger_account_id, amount, currency)
       SELECT a.entry_id, la.id, a.amount, 'KRW' FROM seed_approvals a
         JOIN ledger_accounts la ON la.kind = 'receivable' AND la.owner_id = a.account_id::text AND la.currency = 'KRW'
       UNION ALL
       SELECT a.entry_id, (SELECT id FROM ledger_accounts WHERE kind = 'payable' AND owner_id = ? AND currency = 'KRW'), -a.amount, 'KRW'
       FROM seed_approvals a`,
      [o.clientId],
    );
  });
  const rows = (await db.raw('SELECT id, posted_balance FROM accounts WHERE legal_name LIKE ? ORDER BY id', ['Seeded holder %'])) as {
    rows: Array<{ id: string; posted_balance: number }>;
  };
  const expected = new Map(rows.rows.map((r) => [r.id, Number(r.posted_balance)]));
  return { accountIds: [...expected.keys()], expected };
}

/**
 * Seeds a refund of `amount` of a seeded approval at `at`, as a member site's refund or, with `dispute`, as the refund of
 * the holder's report the operator upheld then: the balanced entry (receivable −X, the site's payable +X), the
 * approval's refunded_amount and the account's balance, and for a report the decided disputes row naming its entry, as
 * decide-dispute.ts writes them. For a month already over, which the domain (posting at now()) cannot reach.
 */
export async function seedRefund(db: Db, o: { approvalId: string; amount: number; at: Date; dispute?: boolean }): Promise<number> {
  return db.transaction(async (trx) => {
    const a = (await trx('approvals').where({ id: o.approvalId }).first()) as { account_id: string; card_id: string; client_id: string; currency: string };
    const [entry] = (await trx('journal_entries').insert({ kind: 'refund', approval_id: o.approvalId, memo: 'seeded refund', created_at: o.at }).returning('id')) as Array<{ id: number }>;
    const account = (kind: string, owner: string) => trx('ledger_accounts').where({ kind, owner_id: owner, currency: a.currency }).select('id').first();
    const receivable = (await account('receivable', a.account_id)) as { id: number };
    const payable = (await account('payable', a.client_id)) as { id: number };
    await trx('postings').insert([
      { entry_id: entry!.id, ledger_account_id: receivable.id, amount: -o.amount, currency: a.currency },
      { entry_id: entry!.id, ledger_account_id: payable.id, amount: o.amount, currency: a.currency },
    ]);
    await trx('approvals').where({ id: o.approvalId }).increment('refunded_amount', o.amount);
    await trx('accounts').where({ id: a.account_id }).decrement('posted_balance', o.amount);
    if (o.dispute) {
      await trx('disputes').insert({
        id: randomUUID(),
        approval_id: o.approvalId,
        account_id: a.account_id,
        card_id: a.card_id,
        reason: 'not_received',
        status: 'refunded',
        opened_at: new Date(o.at.getTime() - 86_400_000),
        decided_at: o.at,
        decided_by: 'operator',
        refunded_amount: o.amount,
        refund_entry_id: entry!.id,
      });
    }
    return entry!.id;
  });
}
