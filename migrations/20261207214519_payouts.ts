import type { Knex } from 'knex';

/**
 * Payouts: a holder's credit balance (overpaid, or refunded after paying) sent back by bank transfer. The mirror of a
 * repayment: cash out, the holder's receivable up. Append-only like the ledger; the bank's transaction reference is
 * unique, so one transfer is never booked twice. Statements list them (a `payout` line and a `payouts` total, which
 * raise the closing balance: closing = opening + charges − refunds − repayments + payouts).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('payouts', (t) => {
    t.bigIncrements('id').primary();
    t.uuid('account_id').notNullable().references('id').inTable('accounts');
    t.bigInteger('amount').notNullable();
    t.string('currency', 3).notNullable();
    t.text('bank_reference').notNullable().unique();
    t.text('reason').notNullable();
    t.bigInteger('entry_id').notNullable().references('id').inTable('journal_entries');
    t.text('actor').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.index(['account_id', 'created_at']);
  });
  await knex.raw('ALTER TABLE payouts ADD CONSTRAINT payouts_check CHECK (amount > 0)');
  await knex.raw(`CREATE TRIGGER payouts_append_only BEFORE UPDATE OR DELETE ON payouts
    FOR EACH ROW EXECUTE FUNCTION ledger_append_only()`);

  // Existing statements had no payouts: 0 keeps their arithmetic as it was. The append-only trigger refuses UPDATE, not
  // a new column with a default (no row is rewritten through it).
  await knex.raw('ALTER TABLE statements ADD COLUMN payouts bigint NOT NULL DEFAULT 0');
  await knex.raw('ALTER TABLE statements DROP CONSTRAINT statements_totals_check');
  await knex.raw(`ALTER TABLE statements ADD CONSTRAINT statements_totals_check CHECK (
    charges >= 0 AND refunds >= 0 AND repayments >= 0 AND payouts >= 0
    AND closing_balance = opening_balance + charges - refunds - repayments + payouts
    AND period_end > period_start AND due_date >= statement_date)`);
  await knex.raw('ALTER TABLE statement_lines DROP CONSTRAINT statement_lines_check');
  await knex.raw(
    "ALTER TABLE statement_lines ADD CONSTRAINT statement_lines_check CHECK (kind IN ('charge','refund','repayment','payout') AND amount > 0)",
  );
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('ALTER TABLE statement_lines DROP CONSTRAINT statement_lines_check');
  await knex.raw(
    "ALTER TABLE statement_lines ADD CONSTRAINT statement_lines_check CHECK (kind IN ('charge','refund','repayment') AND amount > 0)",
  );
  await knex.raw('ALTER TABLE statements DROP CONSTRAINT statements_totals_check');
  await knex.raw(`ALTER TABLE statements ADD CONSTRAINT statements_totals_check CHECK (
    charges >= 0 AND refunds >= 0 AND repayments >= 0
    AND closing_balance = opening_balance + charges - refunds - repayments
    AND period_end > period_start AND due_date >= statement_date)`);
  await knex.raw('ALTER TABLE statements DROP COLUMN payouts');
  await knex.schema.dropTable('payouts');
}
