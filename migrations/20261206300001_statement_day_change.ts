import type { Knex } from 'knex';

/**
 * A holder (or the operator) may choose the statement day. A change never moves a statement date already passed: the
 * account keeps the day it had for statement dates before the first one on the new day (statement_day_from), so the
 * billing run closes the period already running on whichever comes first, the old day or the new one, and every
 * posting still falls in exactly one statement (each period starts where the previous statement ended). Both columns
 * are set together, or neither (never changed).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('accounts', (t) => {
    t.smallint('previous_statement_day');
    t.date('statement_day_from');
  });
  await knex.raw(
    'ALTER TABLE accounts ADD CONSTRAINT accounts_previous_statement_day_check CHECK (previous_statement_day BETWEEN 1 AND 28 AND previous_statement_day <> statement_day)',
  );
  await knex.raw(
    'ALTER TABLE accounts ADD CONSTRAINT accounts_statement_day_change_check CHECK ((previous_statement_day IS NULL) = (statement_day_from IS NULL))',
  );
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('accounts', (t) => {
    t.dropColumn('previous_statement_day');
    t.dropColumn('statement_day_from');
  });
}
