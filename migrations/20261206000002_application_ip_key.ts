import type { Knex } from 'knex';

/**
 * The source an application counts against for the per-IP daily limit: the address itself for IPv4, its /64 for
 * IPv6 (lib/ip-key.ts), as the password throttles count it; one subscriber usually holds a whole /64. The exact
 * address stays in `ip`. Older rows take their address as it is.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('applications', (t) => {
    t.text('ip_key');
  });
  await knex.raw('UPDATE applications SET ip_key = ip');
  await knex.schema.alterTable('applications', (t) => {
    t.dropNullable('ip_key');
    t.index(['ip_key', 'created_at']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('applications', (t) => {
    t.dropIndex(['ip_key', 'created_at']);
    t.dropColumn('ip_key');
  });
}
