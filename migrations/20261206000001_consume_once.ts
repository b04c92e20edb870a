import type { Knex } from 'knex';

/**
 * A payload (an authorization code, a refresh token, a pushed request) is consumed once. oidc-provider reads
 * `consumed` and consumes later in the same request, so two requests racing with one code both read it
 * unconsumed: the second consumption must fail in the database. The payload writes call this function where
 * a row they consume was consumed already; it raises SQLSTATE CC409, which db/oidc-payloads.ts turns into
 * invalid_grant, and the request's transaction (tokens, rotated refresh token) is rolled back.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE FUNCTION cybercard_consumed_twice() RETURNS timestamptz LANGUAGE plpgsql VOLATILE AS $$
    BEGIN
      RAISE EXCEPTION 'already consumed' USING ERRCODE = 'CC409';
    END
    $$`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP FUNCTION cybercard_consumed_twice()');
}
