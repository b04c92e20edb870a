import type { Knex } from 'knex';

/**
 * The device a code was asked from, when the card's account knew it (known_devices: the same keyed hash of its cookie
 * id): such a code answers guesses from that device alone, and a code asked elsewhere does not replace it. Null: asked
 * from a device the account does not know, as every code stored before; anyone may guess at it, as until now.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('one_time_codes', (t) => {
    t.binary('device_hash').nullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('one_time_codes', (t) => t.dropColumn('device_hash'));
}
