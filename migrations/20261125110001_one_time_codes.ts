import type { Knex } from 'knex';

/**
 * One-time codes sent to a holder's registered email or mobile (lost card, reissue, password reset).
 * Only a keyed hash is stored; a code is short-lived, single-use and allows a few attempts.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('one_time_codes', (t) => {
    t.uuid('id').primary();
    t.uuid('account_id').notNullable().references('id').inTable('accounts');
    t.uuid('card_id').notNullable().references('id').inTable('cards');
    t.text('purpose').notNullable();
    t.binary('code_hash').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('expires_at', { useTz: true }).notNullable();
    t.integer('attempts').notNullable().defaultTo(0);
    t.timestamp('consumed_at', { useTz: true });
    t.index(['card_id', 'purpose', 'created_at']);
  });
  await knex.raw(
    "ALTER TABLE one_time_codes ADD CONSTRAINT one_time_codes_purpose_check CHECK (purpose IN ('lost_card','reissue','password_reset'))",
  );
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('one_time_codes');
}
