import type { Knex } from 'knex';

/**
 * A holder's report of a payment they do not recognise or did not get what they paid for (a dispute), and the
 * operator's decision on it. One per approval: a decided report is final, and a second one is refused rather than
 * opening the question again behind the operator's back. The refund a decision gives moves through the ledger
 * like a member site's refund (approvals.refunded_amount, a balanced entry); this row records why.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('disputes', (t) => {
    t.uuid('id').primary();
    t.uuid('approval_id').notNullable().unique().references('id').inTable('approvals');
    t.uuid('account_id').notNullable().references('id').inTable('accounts');
    t.uuid('card_id').notNullable().references('id').inTable('cards');
    t.text('reason').notNullable();
    t.text('details').notNullable().defaultTo('');
    t.text('status').notNullable().defaultTo('open');
    t.timestamp('opened_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('decided_at', { useTz: true });
    t.text('decided_by');
    t.text('decision_note');
    t.bigInteger('refunded_amount').notNullable().defaultTo(0);
    t.bigInteger('released_amount').notNullable().defaultTo(0);
    t.index(['account_id', 'opened_at']);
    t.index(['status', 'opened_at']);
  });
  await knex.raw(
    'ALTER TABLE disputes ADD CONSTRAINT disputes_values_check CHECK (' +
      "reason IN ('not_mine', 'not_received', 'wrong_amount', 'other') AND status IN ('open', 'refunded', 'rejected')" +
      " AND (status = 'open') = (decided_at IS NULL) AND refunded_amount >= 0 AND released_amount >= 0 AND char_length(details) <= 1000)",
  );
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('disputes');
}
