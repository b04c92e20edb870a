import type { Knex } from 'knex';

/**
 * A member site that must push every authorization request (RFC 9126 §6 require_pushed_authorization_requests):
 * set by the operator, or turned on by the site in its own registration. False for every site stored before.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('member_sites', (t) => {
    t.boolean('require_pushed_authorization_requests').notNullable().defaultTo(false);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('member_sites', (t) => t.dropColumn('require_pushed_authorization_requests'));
}
