import type { Knex } from 'knex';

/**
 * A holder's pending change of email and/or mobile: the new values and a keyed hash of the one-time code sent to
 * each new address. Not a one_time_codes row: those prove the contacts a card has, one code each; a change carries
 * the values it would set and takes effect only when every code it sent (one or two) is entered together. One open
 * change per account: a new request retires the last. PostgreSQL, not memory, so every instance agrees. A change is
 * also proven with a code sent to the contact the holder keeps (proof_channel): the card password alone never moves
 * the addresses that codes to reset the password or reissue the card go to.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('contact_changes', (t) => {
    t.uuid('id').primary();
    t.uuid('account_id').notNullable().references('id').inTable('accounts');
    t.uuid('card_id').notNullable().references('id').inTable('cards');
    t.text('new_email');
    t.text('new_mobile');
    t.binary('email_code_hash');
    t.binary('mobile_code_hash');
    t.text('proof_channel').notNullable();
    t.binary('proof_code_hash').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('expires_at', { useTz: true }).notNullable();
    t.integer('attempts').notNullable().defaultTo(0);
    t.timestamp('consumed_at', { useTz: true });
    t.index(['account_id', 'created_at']);
  });
  await knex.raw(
    'ALTER TABLE contact_changes ADD CONSTRAINT contact_changes_what_check CHECK (' +
      '(new_email IS NOT NULL OR new_mobile IS NOT NULL) AND (new_email IS NULL) = (email_code_hash IS NULL) AND (new_mobile IS NULL) = (mobile_code_hash IS NULL)' +
      " AND proof_channel IN ('email', 'sms'))",
  );
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('contact_changes');
}
