import type { Knex } from 'knex';

/**
 * The claims a member site may be given (member-sites/site-metadata.ts `allowedClaims`): a JSON array of claim names,
 * or null for every claim its scopes give and every age_over_NN (the behaviour before this column, kept for every
 * site stored before it).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('member_sites', (t) => {
    t.jsonb('allowed_claims');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('member_sites', (t) => {
    t.dropColumn('allowed_claims');
  });
}
