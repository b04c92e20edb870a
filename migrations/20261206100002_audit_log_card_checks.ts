import type { Knex } from 'knex';

/**
 * The account page, on every visit, counts the wrong passwords typed for the card since the holder's previous
 * sign-in to the card pages (db/audit-log.ts countCardEntriesSince). A small partial index holds only those two
 * actions of cards, so neither finding that sign-in nor counting reads the card's logins and payments (thousands,
 * for a card in daily use); other audit writes only test its predicate.
 */
/**
 * Outside a transaction, so the index is built CONCURRENTLY: the table takes writes all the while (an audit log or an
 * accounts table in production is large, and a plain CREATE INDEX would hold its writes until done). A build cut
 * short leaves an invalid index, which the next run drops and builds again.
 */
export const config = { transaction: false };

export async function up(knex: Knex): Promise<void> {
  await knex.raw('DROP INDEX CONCURRENTLY IF EXISTS audit_log_card_checks_index');
  await knex.raw(
    "CREATE INDEX CONCURRENTLY audit_log_card_checks_index ON audit_log (subject_id, action, id) WHERE subject_type = 'card' AND action IN ('holder.signed_in', 'card.password_failed')",
  );
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP INDEX audit_log_card_checks_index');
}
