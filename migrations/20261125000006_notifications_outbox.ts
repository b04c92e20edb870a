import type { Knex } from 'knex';

/**
 * Notifications are written to an outbox in the same transaction as the change they announce,
 * and a sender drains it: nothing is sent for a change that rolled back, nothing is lost on a crash.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('notifications_outbox', (t) => {
    t.bigIncrements('id').primary();
    t.uuid('account_id');
    t.text('channel').notNullable();
    t.text('recipient').notNullable();
    t.text('template').notNullable();
    t.jsonb('data').notNullable().defaultTo('{}');
    t.text('status').notNullable().defaultTo('pending');
    t.integer('attempts').notNullable().defaultTo(0);
    t.text('last_error');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('next_attempt_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('sent_at', { useTz: true });
    t.index(['status', 'next_attempt_at']);
    t.index(['account_id']);
  });
  await knex.raw(
    "ALTER TABLE notifications_outbox ADD CONSTRAINT outbox_channel_check CHECK (channel IN ('email','sms'))",
  );
  await knex.raw(
    "ALTER TABLE notifications_outbox ADD CONSTRAINT outbox_status_check CHECK (status IN ('pending','sent','failed'))",
  );
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('notifications_outbox');
}
