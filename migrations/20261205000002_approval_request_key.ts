import type { Knex } from 'knex';

/**
 * The authorization request an approval answered, by its PKCE code_challenge (fresh for every request a
 * member site makes, RFC 7636 §4.1): one approval per request. A payment sent in the query string rather
 * than through PAR could otherwise be approved twice, the browser's Back button starting a new sign-in
 * for the same request. Older approvals have none.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('approvals', (t) => {
    t.text('request_key');
    t.unique(['client_id', 'request_key'], { indexName: 'approvals_client_request_key_unique' });
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('approvals', (t) => {
    t.dropUnique(['client_id', 'request_key'], 'approvals_client_request_key_unique');
    t.dropColumn('request_key');
  });
}
