import type { Knex } from 'knex';

/**
 * Accounts by date of birth and folded legal name (NFKC, whitespace collapsed, lower case: db/applications.ts
 * PERSON_NAME, which must stay the same expression for the planner to use this index). Every application looks for the
 * same person on another account: one that still owes (refused or reviewed), or an adult's open card (reviewed).
 * Without the index each application scanned every account.
 *
 * Outside a transaction, so the index is built CONCURRENTLY: the accounts table takes writes all the while. A build cut
 * short leaves an invalid index, which the next run drops and builds again.
 */
export const config = { transaction: false };

export async function up(knex: Knex): Promise<void> {
  await knex.raw('DROP INDEX CONCURRENTLY IF EXISTS accounts_person_index');
  await knex.raw(
    "CREATE INDEX CONCURRENTLY accounts_person_index ON accounts (birthdate, (lower(btrim(regexp_replace(normalize(legal_name, NFKC), '\\s+', ' ', 'g')))))",
  );
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP INDEX accounts_person_index');
}
