import type { Knex } from 'knex';

/**
 * Signed-in sessions of operators on the web console (/admin), shared by every instance. As for holders, only a
 * SHA-256 of the random session id is kept, so the table cannot be replayed as cookies. `actor` is who the audit
 * trail names for everything done in the session (`operator` or `operator:<name>`); `token_hash` is a SHA-256 of the
 * operator token signed in with, so that a token withdrawn from the configuration ends its sessions too.
 * `expires_at` is the idle deadline, moved on at each request; `created_at` bounds the session's whole life.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('operator_sessions', (t) => {
    t.binary('id_hash').primary();
    t.text('actor').notNullable();
    t.text('token_hash').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('expires_at', { useTz: true }).notNullable();
    t.index(['expires_at']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('operator_sessions');
}
