import type { Knex } from 'knex';

/**
 * Billing beyond holds: statements (closed, immutable: one per account and statement date), the
 * payment reference each account's statements carry, repayments (cash in against the receivable),
 * member-site settlements, and the delinquency flag the sweep sets and a repayment clears.
 *
 * Statements and their lines are append-only like the ledger, and a line can only be added in the
 * transaction that created its statement (`created_txid`): a closed statement can never grow. A
 * journal entry appears on at most one statement (unique entry_id), so nothing is billed twice.
 */
export async function up(knex: Knex): Promise<void> {
  // A payment reference: 'CC', 12 random digits and two ISO 7064 MOD 97-10 check digits (as in an IBAN),
  // so a mistyped reference on a bank transfer is recognised as malformed instead of matching someone else.
  await knex.raw(`
    CREATE FUNCTION new_payment_reference() RETURNS text LANGUAGE plpgsql VOLATILE AS $$
    DECLARE body text; ref text;
    BEGIN
      LOOP
        body := lpad((floor(random() * 1e12))::bigint::text, 12, '0');
        ref := 'CC' || body || lpad((98 - ((body::numeric * 100) % 97))::int::text, 2, '0');
        EXIT WHEN NOT EXISTS (SELECT 1 FROM accounts WHERE payment_reference = ref);
      END LOOP;
      RETURN ref;
    END $$;
  `);
  await knex.schema.alterTable('accounts', (t) => {
    t.text('payment_reference').unique();
    // Set by the delinquency sweep (which notifies the holder once), cleared by the repayment that
    // settles the overdue statement. Approvals do not read it: they derive the standing from the ledger.
    t.timestamp('delinquent_since', { useTz: true });
  });
  await knex.raw('UPDATE accounts SET payment_reference = new_payment_reference() WHERE payment_reference IS NULL');
  await knex.raw(`
    CREATE FUNCTION accounts_payment_reference() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF NEW.payment_reference IS NULL THEN NEW.payment_reference := new_payment_reference(); END IF;
      RETURN NEW;
    END $$;
  `);
  await knex.raw(`CREATE TRIGGER accounts_payment_reference BEFORE INSERT ON accounts
    FOR EACH ROW EXECUTE FUNCTION accounts_payment_reference()`);
  await knex.raw('ALTER TABLE accounts ALTER COLUMN payment_reference SET NOT NULL');

  // Settlement and statements read entries by time.
  await knex.raw('CREATE INDEX journal_entries_created_at ON journal_entries (created_at)');

  await knex.schema.createTable('statements', (t) => {
    t.bigIncrements('id').primary();
    t.uuid('account_id').notNullable().references('id').inTable('accounts');
    t.date('statement_date').notNullable();
    // Entries with period_start <= created_at < period_end are on this statement; the next one starts here.
    t.timestamp('period_start', { useTz: true }).notNullable();
    t.timestamp('period_end', { useTz: true }).notNullable();
    t.string('currency', 3).notNullable();
    t.bigInteger('opening_balance').notNullable();
    t.bigInteger('charges').notNullable();
    t.bigInteger('refunds').notNullable();
    t.bigInteger('repayments').notNullable();
    t.bigInteger('closing_balance').notNullable();
    t.date('due_date').notNullable();
    t.text('payment_reference').notNullable();
    t.bigInteger('created_txid').notNullable().defaultTo(knex.raw('txid_current()'));
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.unique(['account_id', 'statement_date']);
  });
  await knex.raw(`ALTER TABLE statements ADD CONSTRAINT statements_totals_check CHECK (
    charges >= 0 AND refunds >= 0 AND repayments >= 0
    AND closing_balance = opening_balance + charges - refunds - repayments
    AND period_end > period_start AND due_date >= statement_date)`);

  await knex.schema.createTable('statement_lines', (t) => {
    t.bigIncrements('id').primary();
    t.bigInteger('statement_id').notNullable().references('id').inTable('statements');
    t.bigInteger('entry_id').notNullable().references('id').inTable('journal_entries').unique();
    t.text('kind').notNullable();
    t.timestamp('booked_at', { useTz: true }).notNullable();
    t.bigInteger('amount').notNullable();
    t.text('approval_no');
    t.text('client_id');
    t.text('site_name');
    t.text('description').notNullable();
    t.index(['statement_id']);
  });
  await knex.raw(
    "ALTER TABLE statement_lines ADD CONSTRAINT statement_lines_check CHECK (kind IN ('charge','refund','repayment') AND amount > 0)",
  );
  await knex.raw(`
    CREATE FUNCTION statement_lines_only_while_open() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF EXISTS (SELECT 1 FROM new_lines l JOIN statements s ON s.id = l.statement_id
                  WHERE s.created_txid <> txid_current()) THEN
        RAISE EXCEPTION 'statement is closed: lines can only be added in the transaction that creates it';
      END IF;
      RETURN NULL;
    END $$;
  `);
  await knex.raw(`CREATE TRIGGER statement_lines_only_while_open AFTER INSERT ON statement_lines
    REFERENCING NEW TABLE AS new_lines FOR EACH STATEMENT EXECUTE FUNCTION statement_lines_only_while_open()`);

  await knex.schema.createTable('repayments', (t) => {
    t.bigIncrements('id').primary();
    t.uuid('account_id').notNullable().references('id').inTable('accounts');
    t.bigInteger('amount').notNullable();
    t.string('currency', 3).notNullable();
    t.text('source').notNullable();
    // The bank's (or operator's) transaction id: the same transfer is never applied twice.
    t.text('transaction_id').unique();
    t.text('payment_reference');
    t.date('received_on');
    t.text('memo').notNullable().defaultTo('');
    t.bigInteger('entry_id').notNullable().references('id').inTable('journal_entries');
    t.text('actor').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.index(['account_id', 'created_at']);
  });
  await knex.raw(
    "ALTER TABLE repayments ADD CONSTRAINT repayments_check CHECK (amount > 0 AND source IN ('operator','bank_import'))",
  );

  await knex.schema.createTable('settlements', (t) => {
    t.bigIncrements('id').primary();
    t.text('client_id').notNullable().references('client_id').inTable('member_sites');
    // The calendar month settled: period_start <= entry time < period_end (billing time zone).
    t.date('period_start').notNullable();
    t.date('period_end').notNullable();
    t.string('currency', 3).notNullable();
    t.bigInteger('captured').notNullable();
    t.bigInteger('refunds').notNullable();
    t.integer('fee_basis_points').notNullable();
    t.bigInteger('fee').notNullable();
    t.bigInteger('payout').notNullable();
    t.bigInteger('entry_id').references('id').inTable('journal_entries');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.unique(['client_id', 'period_start', 'currency']);
  });
  await knex.raw(`ALTER TABLE settlements ADD CONSTRAINT settlements_check CHECK (
    captured >= 0 AND refunds >= 0 AND fee >= 0 AND payout = captured - refunds - fee AND period_end > period_start)`);

  for (const table of ['statements', 'statement_lines', 'repayments', 'settlements']) {
    await knex.raw(`CREATE TRIGGER ${table}_append_only BEFORE UPDATE OR DELETE ON ${table}
      FOR EACH ROW EXECUTE FUNCTION ledger_append_only()`);
  }
}

export async function down(knex: Knex): Promise<void> {
  for (const table of ['settlements', 'repayments', 'statement_lines', 'statements']) await knex.schema.dropTable(table);
  await knex.raw('DROP FUNCTION IF EXISTS statement_lines_only_while_open()');
  await knex.raw('DROP INDEX IF EXISTS journal_entries_created_at');
  await knex.raw('DROP TRIGGER IF EXISTS accounts_payment_reference ON accounts');
  await knex.raw('DROP FUNCTION IF EXISTS accounts_payment_reference()');
  await knex.schema.alterTable('accounts', (t) => {
    t.dropColumn('payment_reference');
    t.dropColumn('delinquent_since');
  });
  await knex.raw('DROP FUNCTION IF EXISTS new_payment_reference()');
}
