import type { Knex } from 'knex';

/**
 * When a signing key starts signing. `keys rotate` publishes a new key ahead of that moment, so that every instance
 * behind the load balancer serves it at /jwks before any instance signs with it; the previous key's retired_at is
 * the same moment. Keys already here started when they were created.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('signing_keys', (t) => {
    t.timestamp('activates_at', { useTz: true });
  });
  await knex('signing_keys').update({ activates_at: knex.ref('created_at') });
  await knex.schema.alterTable('signing_keys', (t) => {
    t.timestamp('activates_at', { useTz: true }).notNullable().defaultTo(knex.fn.now()).alter();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('signing_keys', (t) => {
    t.dropColumn('activates_at');
  });
}
