import type { Knex } from 'knex';

/**
 * Approvals: one row per approved payment, with its approval number. The hold it places is a
 * ledger entry in the same transaction; captured and refunded amounts are tracked here too.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('approvals', (t) => {
    t.uuid('id').primary();
    t.text('approval_no').notNullable().unique();
    t.uuid('account_id').notNullable().references('id').inTable('accounts');
    t.uuid('card_id').notNullable().references('id').inTable('cards');
    t.text('client_id').notNullable().references('client_id').inTable('member_sites');
    t.text('status').notNullable();
    t.bigInteger('amount').notNullable();
    t.string('currency', 3).notNullable();
    t.bigInteger('captured_amount').notNullable().defaultTo(0);
    t.bigInteger('refunded_amount').notNullable().defaultTo(0);
    t.bigInteger('released_amount').notNullable().defaultTo(0);
    t.text('description').notNullable();
    t.text('content_ref');
    t.integer('rating').notNullable().defaultTo(0);
    t.timestamp('hold_expires_at', { useTz: true }).notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.text('status_reason');
    t.index(['account_id', 'created_at']);
    t.index(['client_id', 'created_at']);
    t.index(['card_id']);
  });
  await knex.raw(
    "ALTER TABLE approvals ADD CONSTRAINT approvals_status_check CHECK (status IN ('approved','captured','voided','expired','revoked'))",
  );
  await knex.raw(`ALTER TABLE approvals ADD CONSTRAINT approvals_amounts_check CHECK (
    amount > 0 AND captured_amount >= 0 AND released_amount >= 0 AND refunded_amount >= 0
    AND captured_amount + released_amount <= amount AND refunded_amount <= captured_amount)`);
  await knex.raw("CREATE INDEX approvals_open_holds ON approvals (hold_expires_at) WHERE status = 'approved'");

  await knex.schema.alterTable('member_sites', (t) => {
    // Largest single payment this site may ask for, in minor units; null: no site-specific cap.
    t.bigInteger('max_amount');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('member_sites', (t) => t.dropColumn('max_amount'));
  await knex.schema.dropTable('approvals');
}
