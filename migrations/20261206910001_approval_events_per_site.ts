import type { Knex } from 'knex';

/**
 * Approval events go to each site one at a time and in order (db/outbox-leases.ts claimDue, inOrderPerSite): a claim
 * asks whether the site has an earlier pending event, which this partial index answers from the few pending rows.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw("CREATE INDEX approval_events_pending_per_site ON approval_events (client_id, id) WHERE status = 'pending'");
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP INDEX approval_events_pending_per_site');
}
