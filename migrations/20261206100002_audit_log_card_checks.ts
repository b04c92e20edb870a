import type { Knex } from 'knex';

/**
 * The account page, on every visit, counts the wrong passwords typed for the card since the holder's previous
 * sign-in to the card pages (db/audit-log.ts countCardEntriesSince). A small partial index holds only those two
 * actions of cards, so neither finding that sign-in nor counting reads the card's logins and payments (thousands,
 * for a card in daily use); other audit writes only test its predicate.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(
    "CREATE INDEX audit_log_card_checks_index ON audit_log (subject_id, action, id) WHERE subject_type = 'card' AND action IN ('holder.signed_in', 'card.password_failed')",
  );
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP INDEX audit_log_card_checks_index');
}
