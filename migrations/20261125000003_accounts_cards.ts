import type { Knex } from 'knex';

/**
 * A holder account (the person, their credit line) and its cards (the credentials).
 * Reissue makes a new card on the same account, so history and balance stay with the account.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('accounts', (t) => {
    t.uuid('id').primary();
    t.text('legal_name').notNullable();
    t.date('birthdate').notNullable();
    t.text('email');
    t.text('mobile');
    t.uuid('guardian_account_id').references('id').inTable('accounts');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  await knex.schema.createTable('cards', (t) => {
    t.uuid('id').primary();
    t.uuid('account_id').notNullable().references('id').inTable('accounts');
    // HMAC-SHA256 of the full number under the server key: lookup without storing the number.
    t.binary('number_hmac').notNullable().unique();
    t.string('last4', 4).notNullable();
    t.text('password_hash').notNullable();
    t.text('status').notNullable().defaultTo('active');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.index(['account_id']);
  });
  await knex.raw(
    "ALTER TABLE cards ADD CONSTRAINT cards_status_check CHECK (status IN ('pending','active','suspended','lost','closed'))",
  );
  await knex.raw("ALTER TABLE cards ADD CONSTRAINT cards_last4_check CHECK (last4 ~ '^[0-9]{4}$')");
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('cards');
  await knex.schema.dropTable('accounts');
}
