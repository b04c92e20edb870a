import type { Knex } from 'knex';

/**
 * A check value of each secret the stored data depends on (CARD_HMAC_KEY, PASSWORD_PEPPER): an HMAC of a fixed
 * label under the key, so the key cannot be read from it. Recorded by the first process to start on the database;
 * a server or CLI started later with another key refuses to run instead of failing every card number and password
 * (src/config/check-secrets-against-database.ts).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('secret_checks', (t) => {
    t.text('name').primary();
    t.text('check_value').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('secret_checks');
}
