import type { Knex } from 'knex';

/**
 * ('code_request', purpose + card number HMAC): the one-time codes asked for a number in the current day
 * (oneTimeCodes.maxPerDay), counted whether or not the number is a card's, so the refusal tells no card from none.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw('ALTER TABLE throttles DROP CONSTRAINT throttles_scope_check');
  await knex.raw("ALTER TABLE throttles ADD CONSTRAINT throttles_scope_check CHECK (scope IN ('card','ip','device','data_export','code_request'))");
}

export async function down(knex: Knex): Promise<void> {
  await knex('throttles').where({ scope: 'code_request' }).delete();
  await knex.raw('ALTER TABLE throttles DROP CONSTRAINT throttles_scope_check');
  await knex.raw("ALTER TABLE throttles ADD CONSTRAINT throttles_scope_check CHECK (scope IN ('card','ip','device','data_export'))");
}
