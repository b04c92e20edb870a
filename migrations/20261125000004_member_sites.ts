import type { Knex } from 'knex';

/** Member sites (OIDC clients) and the resource servers (audiences) tokens may be issued for. */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('resource_servers', (t) => {
    t.text('identifier').primary();
    t.text('name').notNullable();
    t.text('scope').notNullable().defaultTo('');
    t.integer('access_token_ttl');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  await knex.schema.createTable('member_sites', (t) => {
    t.text('client_id').primary();
    t.text('name').notNullable();
    t.text('status').notNullable().defaultTo('active');
    t.text('token_endpoint_auth_method').notNullable();
    // SHA-256 of the client secret: secrets are high-entropy random strings, shown once.
    t.text('client_secret_hash');
    t.jsonb('redirect_uris').notNullable();
    t.jsonb('post_logout_redirect_uris').notNullable().defaultTo('[]');
    t.jsonb('jwks');
    t.text('jwks_uri');
    t.text('scope').notNullable().defaultTo('openid profile offline_access');
    t.jsonb('resource_servers').notNullable().defaultTo('[]');
    t.integer('content_rating').notNullable().defaultTo(0);
    t.text('homepage_uri');
    t.text('logo_uri');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  await knex.raw(
    "ALTER TABLE member_sites ADD CONSTRAINT member_sites_status_check CHECK (status IN ('active','suspended','closed'))",
  );
  await knex.raw(
    "ALTER TABLE member_sites ADD CONSTRAINT member_sites_auth_check CHECK (token_endpoint_auth_method IN ('client_secret_basic','client_secret_post','private_key_jwt'))",
  );
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('member_sites');
  await knex.schema.dropTable('resource_servers');
}
