import type { Knex } from 'knex';

/**
 * OpenID Connect Back-Channel Logout 1.0 for member sites: the URI a site takes Logout Tokens at (§2.2), posted when
 * a holder's session with it ends, and whether it needs the session id (sid) in them.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('member_sites', (t) => {
    t.text('backchannel_logout_uri');
    t.boolean('backchannel_logout_session_required').notNullable().defaultTo(false);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('member_sites', (t) => {
    t.dropColumns('backchannel_logout_uri', 'backchannel_logout_session_required');
  });
}
