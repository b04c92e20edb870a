import type { Knex } from 'knex';

/**
 * A member site's approvals listing (GET /api/approvals) reads them newest first, a page at a time after a cursor
 * (created_at, id). With id in the index the site's approvals are read backwards in exactly that order and the read
 * stops at the page; on (client_id, created_at) alone the rows of the whole range were read and sorted to break ties.
 * The new index serves every lookup the old one did (the console's recent count), so it replaces it.
 */
/** Outside a transaction, so the index is built CONCURRENTLY while the table takes payments (see audit_log_subject_order). */
export const config = { transaction: false };

export async function up(knex: Knex): Promise<void> {
  await knex.raw('DROP INDEX CONCURRENTLY IF EXISTS approvals_client_id_created_at_id_index');
  await knex.raw('CREATE INDEX CONCURRENTLY approvals_client_id_created_at_id_index ON approvals (client_id, created_at, id)');
  await knex.raw('DROP INDEX CONCURRENTLY IF EXISTS approvals_client_id_created_at_index');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('CREATE INDEX approvals_client_id_created_at_index ON approvals (client_id, created_at)');
  await knex.raw('DROP INDEX approvals_client_id_created_at_id_index');
}
