import type { Knex } from 'knex';

/**
 * The operator's view of the posts to member sites (/admin/deliveries, `deliveries list`) counts each site's of the
 * last days and lists them newest first: an index on when each was queued, per site, reads those rows and not both
 * outboxes whole.
 */
export async function up(knex: Knex): Promise<void> {
  for (const table of ['backchannel_logouts', 'approval_events']) {
    await knex.schema.alterTable(table, (t) => {
      t.index(['client_id', 'created_at']);
      t.index(['created_at']);
    });
  }
}

export async function down(knex: Knex): Promise<void> {
  for (const table of ['backchannel_logouts', 'approval_events']) {
    await knex.schema.alterTable(table, (t) => {
      t.dropIndex(['client_id', 'created_at']);
      t.dropIndex(['created_at']);
    });
  }
}
