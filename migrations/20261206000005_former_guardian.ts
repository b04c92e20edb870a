import type { Knex } from 'knex';

/**
 * The guardian an account had until its holder came of age (cards/release-grown-wards.ts). The link itself ends then,
 * but the family stays one for the application rules: a younger sibling may still give the guardian's own email and
 * mobile, which the grown-up one may still share.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('accounts', (t) => {
    t.uuid('former_guardian_account_id').references('id').inTable('accounts');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('accounts', (t) => {
    t.dropColumn('former_guardian_account_id');
  });
}
