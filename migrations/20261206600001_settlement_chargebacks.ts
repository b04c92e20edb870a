import type { Knex } from 'knex';

/**
 * Chargebacks apart from refunds. The refund an upheld report of a payment gives is an ordinary refund entry (the
 * holder's statement shows it as a refund, as it is to them), so what tells it from a member site's own refund is the
 * report: disputes.refund_entry_id names the entry its decision posted (one decision, one entry). Reports upheld before
 * this are linked to theirs here: the decision and its refund are one transaction, so the entry's created_at is the
 * report's decided_at (both now(), the transaction's start), on the same approval.
 *
 * Settlements record the chargebacks of the month beside the refunds. A month closed before keeps what it posted: its
 * refunds included the chargebacks, and its chargebacks read 0 (payout = captured − refunds − chargebacks − fee holds
 * for it as it did).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('disputes', (t) => {
    t.bigInteger('refund_entry_id').unique().references('id').inTable('journal_entries');
  });
  await knex.raw(
    `UPDATE disputes d SET refund_entry_id = e.id FROM journal_entries e
     WHERE d.status = 'refunded' AND d.refunded_amount > 0
       AND e.kind = 'refund' AND e.approval_id = d.approval_id AND e.created_at = d.decided_at`,
  );
  await knex.raw(
    "ALTER TABLE disputes ADD CONSTRAINT disputes_refund_entry_check CHECK (refund_entry_id IS NULL OR (status = 'refunded' AND refunded_amount > 0))",
  );

  await knex.schema.alterTable('settlements', (t) => {
    t.bigInteger('chargebacks').notNullable().defaultTo(0);
  });
  await knex.raw('ALTER TABLE settlements DROP CONSTRAINT settlements_check');
  await knex.raw(`ALTER TABLE settlements ADD CONSTRAINT settlements_check CHECK (
    captured >= 0 AND refunds >= 0 AND chargebacks >= 0 AND fee >= 0
    AND payout = captured - refunds - chargebacks - fee AND period_end > period_start)`);
}

export async function down(knex: Knex): Promise<void> {
  // Fails while a settlement records chargebacks: the old check cannot hold the row as it was posted.
  await knex.raw('ALTER TABLE settlements DROP CONSTRAINT settlements_check');
  await knex.schema.alterTable('settlements', (t) => {
    t.dropColumn('chargebacks');
  });
  await knex.raw(`ALTER TABLE settlements ADD CONSTRAINT settlements_check CHECK (
    captured >= 0 AND refunds >= 0 AND fee >= 0 AND payout = captured - refunds - fee AND period_end > period_start)`);
  await knex.schema.alterTable('disputes', (t) => {
    t.dropColumn('refund_entry_id');
  });
}
