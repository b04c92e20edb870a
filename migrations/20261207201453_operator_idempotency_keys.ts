import type { Knex } from 'knex';

/**
 * Idempotency keys of the operator API (a repayment sent twice by a retry, a double click or a re-run script is applied
 * once). Kept apart from the member sites' keys, whose owner is a registered site: an operator's keys are scoped to the
 * operator (the actor the audit trail names), so two operators who happen to pick one key never get each other's answer.
 * The row is written in the transaction of the effect it guards, as for the member sites' (see idempotency_keys).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('operator_idempotency_keys', (t) => {
    t.bigIncrements('id').primary();
    t.text('actor').notNullable();
    t.text('key').notNullable();
    // sha256 of the operation and its normalised body: the same key with another request is refused.
    t.text('request_hash').notNullable();
    t.integer('status');
    // The answer as the JSON text that was sent, so a replay is the same bytes.
    t.text('response');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.unique(['actor', 'key']);
    t.index(['created_at']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('operator_idempotency_keys');
}
