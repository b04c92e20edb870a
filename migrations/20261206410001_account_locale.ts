import type { Knex } from 'knex';

/**
 * The holder's language for notifications (a holder may use the pages in Korean), and the language each queued
 * message is rendered in. The outbox keeps its own copy, as it keeps the recipient's address: a message says what
 * was true when it was queued, and a change of language holds from the next one. Rows already there take the
 * deployment's default language ('en', lib/i18n.ts DEFAULT_LOCALE when this landed; history is not rewritten).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('accounts', (t) => {
    t.text('locale').notNullable().defaultTo('en');
  });
  await knex.raw("ALTER TABLE accounts ADD CONSTRAINT accounts_locale_check CHECK (locale IN ('en','ko'))");
  await knex.schema.alterTable('notifications_outbox', (t) => {
    t.text('locale').notNullable().defaultTo('en');
  });
  await knex.raw("ALTER TABLE notifications_outbox ADD CONSTRAINT outbox_locale_check CHECK (locale IN ('en','ko'))");
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('notifications_outbox', (t) => {
    t.dropColumn('locale');
  });
  await knex.schema.alterTable('accounts', (t) => {
    t.dropColumn('locale');
  });
}
