import type { Knex } from 'knex';

/**
 * Idempotency keys of the member-site API. A row is inserted in the same transaction as the effect it
 * guards, so a key is never recorded without its effect (or the reverse); the unique key makes a
 * concurrent duplicate wait for the first request and then find its answer.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('idempotency_keys', (t) => {
    t.bigIncrements('id').primary();
    t.text('client_id').notNullable().references('client_id').inTable('member_sites');
    t.text('key').notNullable();
    // sha256 of the operation, its target and its normalised body: the same key with another request is refused.
    t.text('request_hash').notNullable();
    t.integer('status');
    t.jsonb('response');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.unique(['client_id', 'key']);
    t.index(['created_at']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('idempotency_keys');
}
