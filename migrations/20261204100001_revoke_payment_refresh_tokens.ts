import type { Knex } from 'knex';

/**
 * A payment's grant no longer gets a refresh token (its approval is spent once; oidc/provider.ts). Those
 * issued before, with the payment's authorization_details in them, would keep rotating until they
 * expire: they go. (Access tokens already minted are JWTs, not stored, and live their short lifetime.)
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    DELETE FROM oidc_payloads
     WHERE model = 'RefreshToken'
       AND grant_id IN (
         SELECT id FROM oidc_payloads
          WHERE model = 'Grant' AND payload->'rar' @> '[{}]'::jsonb
       )`);
}

/** Deleted tokens cannot come back; nothing to undo. */
export async function down(): Promise<void> {}
