import type { Knex } from 'knex';

/**
 * Who turned require_pushed_authorization_requests on: the site itself (RFC 7591/7592), which may then turn it off
 * again, or the operator (false), which the site's own updates never clear. Every site stored before counts as the
 * operator's: the rule until now was that a site never turns it off, so none loses a door closed for it.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('member_sites', (t) => {
    t.boolean('require_par_by_site').notNullable().defaultTo(false);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('member_sites', (t) => t.dropColumn('require_par_by_site'));
}
