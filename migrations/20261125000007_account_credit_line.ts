import type { Knex } from 'knex';

/** The credit line lives on the account, so a reissued card keeps limit, balance and history. */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('accounts', (t) => {
    t.bigInteger('credit_limit').notNullable().defaultTo(0);
    t.string('currency', 3).notNullable().defaultTo('KRW');
    t.smallint('statement_day').notNullable().defaultTo(1);
  });
  await knex.raw('ALTER TABLE accounts ADD CONSTRAINT accounts_credit_limit_check CHECK (credit_limit >= 0)');
  await knex.raw("ALTER TABLE accounts ADD CONSTRAINT accounts_currency_check CHECK (currency ~ '^[A-Z]{3}$')");
  await knex.raw('ALTER TABLE accounts ADD CONSTRAINT accounts_statement_day_check CHECK (statement_day BETWEEN 1 AND 28)');
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('accounts', (t) => {
    t.dropColumn('credit_limit');
    t.dropColumn('currency');
    t.dropColumn('statement_day');
  });
}
