import type { Knex } from 'knex';

/**
 * Spending controls the holder sets on the account (they survive a reissue, like the credit line), and
 * the TOTP second factor for step-up approvals, its secret sealed with AES-256-GCM (see lib/sealed.ts).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('accounts', (t) => {
    // Minor units of the account currency; null: no holder-set limit.
    t.bigInteger('max_per_approval');
    t.bigInteger('monthly_cap');
    // client_ids of member sites the holder refuses to pay or enter.
    t.jsonb('blocked_sites').notNullable().defaultTo('[]');
    t.boolean('adult_content_off').notNullable().defaultTo(false);
  });
  await knex.raw(
    'ALTER TABLE accounts ADD CONSTRAINT accounts_spending_controls_check CHECK ((max_per_approval IS NULL OR max_per_approval > 0) AND (monthly_cap IS NULL OR monthly_cap > 0))',
  );
  await knex.schema.createTable('totp_factors', (t) => {
    t.uuid('account_id').primary().references('id').inTable('accounts');
    // The confirmed secret (nonce ‖ ciphertext ‖ tag); null until the first code confirms an enrolment.
    t.binary('secret_sealed');
    t.timestamp('confirmed_at', { useTz: true });
    // An enrolment in progress: its sealed secret and a keyed hash of the token on the confirm form.
    // A re-enrolment keeps the old secret working until the new one is confirmed.
    t.binary('pending_sealed');
    t.binary('enrol_token_hash');
    t.timestamp('enrol_expires_at', { useTz: true });
    // RFC 6238 §5.2: a code's time step is accepted once; later codes must be from a later step.
    t.bigInteger('last_step').notNullable().defaultTo(0);
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('totp_factors');
  await knex.raw('ALTER TABLE accounts DROP CONSTRAINT accounts_spending_controls_check');
  await knex.schema.alterTable('accounts', (t) => {
    t.dropColumn('max_per_approval');
    t.dropColumn('monthly_cap');
    t.dropColumn('blocked_sites');
    t.dropColumn('adult_content_off');
  });
}
