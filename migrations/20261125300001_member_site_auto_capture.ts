import type { Knex } from 'knex';

/** Member sites that deliver at once can have each approval captured in full inside its approval transaction. */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('member_sites', (t) => {
    t.boolean('auto_capture').notNullable().defaultTo(false);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('member_sites', (t) => t.dropColumn('auto_capture'));
}
