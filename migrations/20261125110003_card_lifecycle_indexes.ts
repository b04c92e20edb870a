import type { Knex } from 'knex';

/**
 * At most one open (pending, active or suspended) card per holder account: a reissue replaces the card,
 * so two concurrent reissues can never leave the account with two working numbers.
 * And an index to find every oidc-provider row of an account when its card is blocked.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(
    "CREATE UNIQUE INDEX cards_one_open_per_account ON cards (account_id) WHERE status IN ('pending','active','suspended')",
  );
  await knex.raw("CREATE INDEX oidc_payloads_account_id_idx ON oidc_payloads ((payload->>'accountId'))");
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP INDEX IF EXISTS oidc_payloads_account_id_idx');
  await knex.raw('DROP INDEX IF EXISTS cards_one_open_per_account');
}
