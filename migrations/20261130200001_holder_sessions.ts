import type { Knex } from 'knex';

/**
 * Signed-in sessions of card holders on their own pages (spending controls, second factor), shared by
 * every instance. Only a SHA-256 of the random session id is stored: the table alone cannot be replayed
 * as cookies. Also on approvals: an index for the per-card velocity limits (approvals of a card in the last
 * day), and the hosted interaction an approval was made in, unique, so a replayed or double-clicked
 * approval form can never place a second hold.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('holder_sessions', (t) => {
    t.binary('id_hash').primary();
    t.uuid('account_id').notNullable().references('id').inTable('accounts');
    t.uuid('card_id').notNullable().references('id').inTable('cards');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('expires_at', { useTz: true }).notNullable();
    t.index(['account_id']);
    t.index(['expires_at']);
  });
  await knex.schema.alterTable('approvals', (t) => {
    t.index(['card_id', 'created_at'], 'approvals_card_created_idx');
    t.text('interaction_uid');
    t.unique(['interaction_uid'], { indexName: 'approvals_interaction_uid_unique' });
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('approvals', (t) => {
    t.dropUnique(['interaction_uid'], 'approvals_interaction_uid_unique');
    t.dropColumn('interaction_uid');
    t.dropIndex(['card_id', 'created_at'], 'approvals_card_created_idx');
  });
  await knex.schema.dropTable('holder_sessions');
}
