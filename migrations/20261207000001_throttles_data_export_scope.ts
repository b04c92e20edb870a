import type { Knex } from 'knex';

/**
 * ('data_export', account id): the downloads of a holder's copy of their data in the current hour (holderData.downloadsPerHour),
 * kept beside the other throttles so every instance counts the same.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw('ALTER TABLE throttles DROP CONSTRAINT throttles_scope_check');
  await knex.raw("ALTER TABLE throttles ADD CONSTRAINT throttles_scope_check CHECK (scope IN ('card','ip','device','data_export'))");
}

export async function down(knex: Knex): Promise<void> {
  await knex('throttles').where({ scope: 'data_export' }).delete();
  await knex.raw('ALTER TABLE throttles DROP CONSTRAINT throttles_scope_check');
  await knex.raw("ALTER TABLE throttles ADD CONSTRAINT throttles_scope_check CHECK (scope IN ('card','ip','device'))");
}
