import type { Knex } from 'knex';

/**
 * accounts_person_index again, on the name as db/applications.ts PERSON_NAME now folds it: also without a space,
 * period, hyphen or apostrophe at either end, so "Kim Minsu." finds the holder "Kim Minsu" (a name may end in a
 * period, and one added passed for another person). The expression must stay PERSON_NAME's for the planner to use it.
 *
 * Outside a transaction, so the index is built CONCURRENTLY: the accounts table takes writes all the while. A build cut
 * short leaves an invalid index, which the next run drops and builds again.
 */
export const config = { transaction: false };

export async function up(knex: Knex): Promise<void> {
  await knex.raw('DROP INDEX CONCURRENTLY IF EXISTS accounts_person_index');
  await knex.raw(
    "CREATE INDEX CONCURRENTLY accounts_person_index ON accounts (birthdate, (lower(btrim(regexp_replace(normalize(legal_name, NFKC), '\\s+', ' ', 'g'), ' .''-'))))",
  );
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP INDEX CONCURRENTLY IF EXISTS accounts_person_index');
  await knex.raw(
    "CREATE INDEX CONCURRENTLY accounts_person_index ON accounts (birthdate, (lower(btrim(regexp_replace(normalize(legal_name, NFKC), '\\s+', ' ', 'g')))))",
  );
}
