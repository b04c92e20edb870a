import type { Knex } from 'knex';

/**
 * When this session took the copy of the holder's data its password made ready: set by the post that takes the file,
 * cleared when the password is typed again. The ready page, reloaded or come back to, then says the copy was saved
 * instead of offering a button that no longer gives anything.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('holder_sessions', (t) => {
    t.timestamp('data_taken_at', { useTz: true });
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('holder_sessions', (t) => {
    t.dropColumn('data_taken_at');
  });
}
