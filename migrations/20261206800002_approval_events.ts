import type { Knex } from 'knex';

/**
 * Approval events for member sites as Security Event Tokens (RFC 8417) pushed to them (RFC 8935): the URI a site takes
 * them at, and the outbox they wait in. A row is written in the transaction that changes the approval (revoked,
 * expired, reported, decided), so nothing is pushed for a change that rolled back and nothing is lost on a crash. It
 * keeps the event as the site's GET /api/approvals/:no showed it at that moment: ids, amounts, statuses and codes, no
 * personal data. The jti is fixed at queueing so that a retried push is the same event to the site (RFC 8417 §2.2);
 * the token itself is signed at each attempt, with the key the provider signs with then.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('member_sites', (t) => {
    t.text('approval_events_uri');
  });
  await knex.schema.createTable('approval_events', (t) => {
    t.bigIncrements('id').primary();
    t.text('client_id').notNullable().references('client_id').inTable('member_sites');
    t.uuid('jti').notNullable().unique();
    // The event URI (https://cybercard.dev/events/approval-revoked …) and its payload.
    t.text('event').notNullable();
    t.jsonb('payload').notNullable();
    // The approval's number, for the operator's logs and to keep a site's events in order.
    t.text('approval_no').notNullable();
    t.text('status').notNullable().defaultTo('pending');
    t.integer('attempts').notNullable().defaultTo(0);
    t.text('last_error');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('next_attempt_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('sent_at', { useTz: true });
    t.index(['status', 'next_attempt_at']);
  });
  await knex.raw("ALTER TABLE approval_events ADD CONSTRAINT approval_events_status_check CHECK (status IN ('pending','sent','failed'))");
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('approval_events');
  await knex.schema.alterTable('member_sites', (t) => {
    t.dropColumn('approval_events_uri');
  });
}
