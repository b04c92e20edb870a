import type { Knex } from 'knex';

/**
 * Double-entry ledger. Every journal entry's postings sum to zero per currency, enforced by a
 * deferred constraint trigger at commit; postings and entries are append-only (corrections are new entries).
 * Sign convention: debit positive, credit negative.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('ledger_accounts', (t) => {
    t.bigIncrements('id').primary();
    t.text('kind').notNullable();
    t.text('owner_id').notNullable().defaultTo('');
    t.string('currency', 3).notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.unique(['kind', 'owner_id', 'currency']);
  });
  await knex.raw(
    "ALTER TABLE ledger_accounts ADD CONSTRAINT ledger_accounts_kind_check CHECK (kind IN ('receivable','holds','holds_control','payable','fee_income','cash'))",
  );
  await knex.schema.createTable('journal_entries', (t) => {
    t.bigIncrements('id').primary();
    t.text('kind').notNullable();
    t.uuid('approval_id');
    t.text('memo').notNullable().defaultTo('');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.index(['approval_id']);
  });
  await knex.schema.createTable('postings', (t) => {
    t.bigIncrements('id').primary();
    t.bigInteger('entry_id').notNullable().references('id').inTable('journal_entries');
    t.bigInteger('ledger_account_id').notNullable().references('id').inTable('ledger_accounts');
    t.bigInteger('amount').notNullable();
    t.string('currency', 3).notNullable();
    t.index(['entry_id']);
    t.index(['ledger_account_id']);
  });
  await knex.raw('ALTER TABLE postings ADD CONSTRAINT postings_amount_nonzero CHECK (amount <> 0)');
  await knex.raw(`
    CREATE FUNCTION ledger_entry_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE unbalanced record;
    BEGIN
      SELECT currency, sum(amount) AS total INTO unbalanced
        FROM postings WHERE entry_id = NEW.entry_id
        GROUP BY currency HAVING sum(amount) <> 0 LIMIT 1;
      IF FOUND THEN
        RAISE EXCEPTION 'journal entry % does not balance in %: %', NEW.entry_id, unbalanced.currency, unbalanced.total;
      END IF;
      IF NOT EXISTS (SELECT 1 FROM postings p JOIN ledger_accounts a ON a.id = p.ledger_account_id
                      WHERE p.id = NEW.id AND a.currency = p.currency) THEN
        RAISE EXCEPTION 'posting % currency differs from its account', NEW.id;
      END IF;
      RETURN NULL;
    END $$;
  `);
  await knex.raw(`
    CREATE CONSTRAINT TRIGGER postings_balanced AFTER INSERT ON postings
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ledger_entry_balanced();
  `);
  await knex.raw(`
    CREATE FUNCTION ledger_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN RAISE EXCEPTION '% is append-only', TG_TABLE_NAME; END $$;
  `);
  for (const table of ['postings', 'journal_entries']) {
    await knex.raw(`CREATE TRIGGER ${table}_append_only BEFORE UPDATE OR DELETE ON ${table}
      FOR EACH ROW EXECUTE FUNCTION ledger_append_only()`);
  }
  // Denormalised balances on the account row, changed only together with postings in one
  // transaction under the row lock; the ledger stays the source of truth (tests reconcile them).
  await knex.schema.alterTable('accounts', (t) => {
    t.bigInteger('posted_balance').notNullable().defaultTo(0);
    t.bigInteger('held_amount').notNullable().defaultTo(0);
  });
  await knex.raw('ALTER TABLE accounts ADD CONSTRAINT accounts_held_nonnegative CHECK (held_amount >= 0)');
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('accounts', (t) => {
    t.dropColumn('posted_balance');
    t.dropColumn('held_amount');
  });
  await knex.raw('DROP TABLE postings');
  await knex.raw('DROP TABLE journal_entries');
  await knex.raw('DROP TABLE ledger_accounts');
  await knex.raw('DROP FUNCTION IF EXISTS ledger_entry_balanced()');
  await knex.raw('DROP FUNCTION IF EXISTS ledger_append_only()');
}
