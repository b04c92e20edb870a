import type { Knex } from 'knex';

/**
 * A holder session records whether its card was closed when it began: a former holder signs in with the closed card
 * to the pages that show and settle what is owed, and to no other (holder/session.ts). A session begun with an open
 * card never turns into such a one: once its card is no longer active it opens nothing.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('holder_sessions', (t) => {
    t.boolean('card_closed').notNullable().defaultTo(false);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('holder_sessions', (t) => {
    t.dropColumn('card_closed');
  });
}
