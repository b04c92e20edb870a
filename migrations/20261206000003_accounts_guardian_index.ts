import type { Knex } from 'knex';

/**
 * A guardian's wards, looked up by accounts.guardian_account_id: lowering the guardian's limit lowers theirs, the
 * guardian's overdue statement stops and restores their cards (the delinquency sweep, every repayment), and a
 * minor's application (or its approval from review) looks for the same child among them. Without an index each
 * of these scanned every account. Partial: most accounts are adults' and have no guardian.
 */
/**
 * Outside a transaction, so the index is built CONCURRENTLY: the table takes writes all the while (an audit log or an
 * accounts table in production is large, and a plain CREATE INDEX would hold its writes until done). A build cut
 * short leaves an invalid index, which the next run drops and builds again.
 */
export const config = { transaction: false };

export async function up(knex: Knex): Promise<void> {
  await knex.raw('DROP INDEX CONCURRENTLY IF EXISTS accounts_guardian_account_id_index');
  await knex.raw('CREATE INDEX CONCURRENTLY accounts_guardian_account_id_index ON accounts (guardian_account_id) WHERE guardian_account_id IS NOT NULL');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP INDEX accounts_guardian_account_id_index');
}
