import type { Knex } from 'knex';
import { loadConfig } from '../src/config/load.ts';

/**
 * Which site entries each settlement took. A settlement used to take the entries dated in its month; an entry is dated
 * when written (db/ledger.ts insertEntry), so one written just before a month ended but committed after its settlement
 * closed was in no settlement: not in its month's (not committed yet), not in the next (dated before it). Now a
 * settlement takes every site entry not yet taken up to its month's end, and names each in settlement_entries (one
 * settlement per entry at most: the key), so one committed late goes into the next settlement and `ledger check`
 * can tell an entry no settlement took.
 *
 * The settlements also keep their month's bounds as instants (the billing time zone's midnights), so the check can
 * read which entries are dated in a settled month without knowing the zone. Settlements closed before this took the
 * entries dated in their month: they are linked to them here, their months read in config billing.timeZone (loaded
 * only when there are settlements to link).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('settlements', (t) => {
    t.timestamp('period_start_at', { useTz: true });
    t.timestamp('period_end_at', { useTz: true });
  });
  if (await knex('settlements').first('id')) {
    const timeZone = loadConfig().billing.timeZone;
    // Settlements are append-only; the bounds are what their dates always meant, written once.
    await knex.raw('ALTER TABLE settlements DISABLE TRIGGER settlements_append_only');
    await knex.raw(
      `UPDATE settlements SET period_start_at = period_start::timestamp AT TIME ZONE ?::text, period_end_at = period_end::timestamp AT TIME ZONE ?::text`,
      [timeZone, timeZone],
    );
    await knex.raw('ALTER TABLE settlements ENABLE TRIGGER settlements_append_only');
  }
  await knex.raw('ALTER TABLE settlements ALTER COLUMN period_start_at SET NOT NULL, ALTER COLUMN period_end_at SET NOT NULL');

  await knex.schema.createTable('settlement_entries', (t) => {
    t.bigInteger('entry_id').primary().references('id').inTable('journal_entries');
    t.bigInteger('settlement_id').notNullable();
    t.index(['settlement_id']);
  });
  // Deferred: a close links the entries it takes first, then adds up what it linked and writes the settlement.
  await knex.raw(`ALTER TABLE settlement_entries ADD CONSTRAINT settlement_entries_settlement_id_foreign
    FOREIGN KEY (settlement_id) REFERENCES settlements (id) DEFERRABLE INITIALLY DEFERRED`);
  await knex.raw(`CREATE TRIGGER settlement_entries_append_only BEFORE UPDATE OR DELETE ON settlement_entries
    FOR EACH ROW EXECUTE FUNCTION ledger_append_only()`);
  await knex.raw(
    `INSERT INTO settlement_entries (entry_id, settlement_id)
     SELECT DISTINCT ON (e.id) e.id, s.id FROM settlements s
     JOIN ledger_accounts la ON la.kind = 'payable' AND la.owner_id = s.client_id AND la.currency = s.currency
     JOIN postings p ON p.ledger_account_id = la.id
     JOIN journal_entries e ON e.id = p.entry_id
     WHERE e.kind IN ('capture', 'refund') AND e.created_at >= s.period_start_at AND e.created_at < s.period_end_at
     ORDER BY e.id, s.id`,
  );
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('settlement_entries');
  await knex.schema.alterTable('settlements', (t) => {
    t.dropColumn('period_start_at');
    t.dropColumn('period_end_at');
  });
}
