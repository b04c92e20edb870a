import type { Knex } from 'knex';

/**
 * Failure counters and locks shared by every instance: one row per (scope, key), e.g. ('card', number HMAC)
 * for the per-card lockout, ('ip', address) and ('device', device hash) for per-source throttling.
 * Rows are updated with single INSERT … ON CONFLICT DO UPDATE statements, so instances agree without locks.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('throttles', (t) => {
    t.text('scope').notNullable();
    t.text('key').notNullable();
    // Failures (or reserved attempts) counted since window_start.
    t.integer('count').notNullable().defaultTo(0);
    t.timestamp('window_start', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    // Locked (card) or throttled (source) until then.
    t.timestamp('blocked_until', { useTz: true });
    // Lockouts so far (cards: each lock is longer than the last) and when the last one began.
    t.integer('strikes').notNullable().defaultTo(0);
    t.timestamp('struck_at', { useTz: true });
    // Whether the latest attempt was refused because the row was blocked (read back by RETURNING).
    t.boolean('last_refused').notNullable().defaultTo(false);
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.primary(['scope', 'key']);
    t.index(['updated_at']);
  });
  await knex.raw("ALTER TABLE throttles ADD CONSTRAINT throttles_scope_check CHECK (scope IN ('card','ip','device'))");
  await knex.raw('ALTER TABLE throttles ADD CONSTRAINT throttles_count_check CHECK (count >= 0 AND strikes >= 0)');
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('throttles');
}
