import type { Knex } from 'knex';

/** Browsers a holder has logged in from (by a hash of a random device cookie), to notice a new one. */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('known_devices', (t) => {
    t.uuid('account_id').notNullable().references('id').inTable('accounts');
    t.binary('device_hash').notNullable();
    t.timestamp('first_seen_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('last_seen_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.primary(['account_id', 'device_hash']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('known_devices');
}
