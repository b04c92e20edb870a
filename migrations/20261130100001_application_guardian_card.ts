import type { Knex } from 'knex';

/**
 * Which of the guardian's cards vouched for a minor's application (number and password proven at the
 * time). The live link stays account to account (accounts.guardian_account_id), so it survives the
 * guardian's reissue; this column is the record of the proof.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('applications', (t) => {
    t.uuid('guardian_card_id').references('id').inTable('cards');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('applications', (t) => {
    t.dropColumn('guardian_card_id');
  });
}
