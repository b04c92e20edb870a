import type { Knex } from 'knex';

/**
 * Online applications for a card. Every decided application is kept (approved, refused, in review):
 * the operator's queue, the per-IP and per-email daily counts and the record of why a person was
 * refused all read this table. It never holds a password or its hash: the card row holds the hash.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('applications', (t) => {
    t.uuid('id').primary();
    t.text('status').notNullable();
    // A machine code: why it was refused, or why a person has to look at it.
    t.text('reason');
    // The operator's words when deciding a reviewed application.
    t.text('decision_note');
    t.text('legal_name').notNullable();
    t.date('birthdate').notNullable();
    t.text('email').notNullable();
    t.text('mobile').notNullable();
    t.uuid('guardian_account_id').references('id').inTable('accounts');
    t.uuid('account_id').references('id').inTable('accounts');
    t.uuid('card_id').references('id').inTable('cards');
    t.text('ip').notNullable();
    t.text('request_id');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('decided_at', { useTz: true });
    t.text('decided_by');
    t.index(['ip', 'created_at']);
    t.index(['email', 'created_at']);
    t.index(['status', 'created_at']);
  });
  await knex.raw(
    "ALTER TABLE applications ADD CONSTRAINT applications_status_check CHECK (status IN ('approved','rejected','review'))",
  );
  // Only a refusal at submission has no card; a reviewed one keeps its (pending, then active or closed) card.
  await knex.raw("ALTER TABLE applications ADD CONSTRAINT applications_card_check CHECK (status = 'rejected' OR card_id IS NOT NULL)");
  await knex.raw(
    "ALTER TABLE applications ADD CONSTRAINT applications_decided_check CHECK ((status = 'review') = (decided_at IS NULL))",
  );
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('applications');
}
