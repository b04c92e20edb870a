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
