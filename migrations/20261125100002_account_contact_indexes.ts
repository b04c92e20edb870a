import type { Knex } from 'knex';

/** Duplicate detection at application time looks holders up by email (case-insensitive) and mobile. */
export async function up(knex: Knex): Promise<void> {
  await knex.raw('CREATE INDEX accounts_email_lower_idx ON accounts (lower(email))');
  await knex.raw('CREATE INDEX accounts_mobile_idx ON accounts (mobile)');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP INDEX IF EXISTS accounts_mobile_idx');
  await knex.raw('DROP INDEX IF EXISTS accounts_email_lower_idx');
}
