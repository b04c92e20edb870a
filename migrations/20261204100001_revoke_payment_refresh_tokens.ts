import type { Knex } from 'knex';

/**
 * A payment's grant no longer gets a refresh token (its approval is spent once; oidc/provider.ts). Those
 * issued before, with the payment's authorization_details in them, would keep rotating until they
 * expire: they go, with every token and code of such a grant that a refresh could still renew.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    DELETE FROM oidc_payloads
     WHERE model = 'RefreshToken'
       AND grant_id IN (
         SELECT id FROM oidc_payloads
          WHERE model = 'Grant' AND jsonb_typeof(payload->'rar') = 'array' AND jsonb_array_length(payload->'rar') > 0
       )`);
}

/** Deleted tokens cannot come back; nothing to undo. */
export async function down(): Promise<void> {}
