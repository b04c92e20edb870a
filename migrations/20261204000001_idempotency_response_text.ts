import type { Knex } from 'knex';

/**
 * The answer recorded under an Idempotency-Key is kept as the JSON text that was sent: jsonb reorders an
 * object's keys, so a replay was the same JSON but not the same bytes (a site comparing or signing the
 * raw body would see a different answer).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw('ALTER TABLE idempotency_keys ALTER COLUMN response TYPE text USING response::text');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('ALTER TABLE idempotency_keys ALTER COLUMN response TYPE jsonb USING response::jsonb');
}
