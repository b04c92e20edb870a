import type { Knex } from 'knex';

/**
 * A holder's activity page reads an account's, its cards' and its approvals' audit entries newest first, 50 at
 * a time before a cursor (the entry id). With id in the index each subject's entries are read backwards in order
 * and the read stops at the page; on (subject_type, subject_id) alone every entry of the subject was read and
 * sorted. The new index serves every lookup the old one did, so it replaces it: every audit write (a payment
 * makes several) still updates one such index.
 */
/**
 * Outside a transaction, so the index is built CONCURRENTLY: the table takes writes all the while (an audit log or an
 * accounts table in production is large, and a plain CREATE INDEX would hold its writes until done). A build cut
 * short leaves an invalid index, which the next run drops and builds again.
 */
export const config = { transaction: false };

export async function up(knex: Knex): Promise<void> {
  await knex.raw('DROP INDEX CONCURRENTLY IF EXISTS audit_log_subject_id_order_index');
  await knex.raw('CREATE INDEX CONCURRENTLY audit_log_subject_id_order_index ON audit_log (subject_type, subject_id, id)');
  await knex.raw('DROP INDEX CONCURRENTLY IF EXISTS audit_log_subject_type_subject_id_index');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('CREATE INDEX audit_log_subject_type_subject_id_index ON audit_log (subject_type, subject_id)');
  await knex.raw('DROP INDEX audit_log_subject_id_order_index');
}
