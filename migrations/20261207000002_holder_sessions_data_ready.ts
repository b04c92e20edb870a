import type { Knex } from 'knex';

/**
 * Until when this session may take its copy of the holder's data, once: set when the password typed on /card/data was
 * right, cleared by the post that takes the file. The form answers with a redirect rather than the file, so the page
 * the password was typed on does not stay open with it (the pages run no script that could clear the field).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('holder_sessions', (t) => {
    t.timestamp('data_ready_until', { useTz: true });
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('holder_sessions', (t) => {
    t.dropColumn('data_ready_until');
  });
}
