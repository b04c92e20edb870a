import type { Knex } from 'knex';

/**
 * The outbox of Logout Tokens (Back-Channel Logout 1.0) for the sessions the card manager ends itself: a card blocked,
 * lost, closed, reissued, a password changed or reset. A row is written in the transaction that deletes the account's
 * sessions, before they go (they name the sites and the sids), and a sender posts it: nothing is posted for a change
 * that rolled back, nothing lost on a crash. Only ids are kept: the token is signed at each attempt, so a retry never
 * posts an expired one, and no personal data waits here.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('backchannel_logouts', (t) => {
    t.bigIncrements('id').primary();
    t.text('client_id').notNullable().references('client_id').inTable('member_sites');
    t.uuid('account_id').notNullable();
    // The session id the site got in its ID token; null when none is known or the site did not ask for it.
    t.text('sid');
    // Why the sessions ended ('card blocked'), for the operator's logs.
    t.text('reason').notNullable();
    t.text('status').notNullable().defaultTo('pending');
    t.integer('attempts').notNullable().defaultTo(0);
    t.text('last_error');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('next_attempt_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('sent_at', { useTz: true });
    t.index(['status', 'next_attempt_at']);
    t.index(['account_id']);
  });
  await knex.raw("ALTER TABLE backchannel_logouts ADD CONSTRAINT backchannel_logouts_status_check CHECK (status IN ('pending','sent','failed'))");
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('backchannel_logouts');
}
