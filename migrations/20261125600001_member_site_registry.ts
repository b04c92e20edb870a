import type { Knex } from 'knex';

/**
 * Member-site registry: secret rotation with an overlap window, per-site token lifetimes, and why a
 * site's status last changed. The previous secret's hash stays valid until previous_secret_expires_at.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('member_sites', (t) => {
    t.text('previous_secret_hash');
    t.timestamp('previous_secret_expires_at', { useTz: true });
    // Seconds; null: the deployment's default (config oidc.ttl), which is also the ceiling.
    t.integer('access_token_ttl');
    t.integer('id_token_ttl');
    t.integer('refresh_token_ttl');
    t.text('status_reason');
  });
  await knex.raw(`ALTER TABLE member_sites ADD CONSTRAINT member_sites_ttls_check CHECK (
    (access_token_ttl IS NULL OR access_token_ttl > 0) AND (id_token_ttl IS NULL OR id_token_ttl > 0)
    AND (refresh_token_ttl IS NULL OR refresh_token_ttl > 0))`);
  await knex.raw(`ALTER TABLE member_sites ADD CONSTRAINT member_sites_previous_secret_check CHECK (
    (previous_secret_hash IS NULL) = (previous_secret_expires_at IS NULL))`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('ALTER TABLE member_sites DROP CONSTRAINT member_sites_previous_secret_check');
  await knex.raw('ALTER TABLE member_sites DROP CONSTRAINT member_sites_ttls_check');
  await knex.schema.alterTable('member_sites', (t) => {
    t.dropColumns('previous_secret_hash', 'previous_secret_expires_at', 'access_token_ttl', 'id_token_ttl', 'refresh_token_ttl', 'status_reason');
  });
}
