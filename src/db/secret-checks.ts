import type { Conn } from './knex.ts';

/**
 * Records each check value the table does not hold yet (the first process to start wins; several at once agree on
 * the first insert) and answers the ones recorded, by name.
 */
export async function recordSecretChecks(conn: Conn, checks: Record<string, string>): Promise<Record<string, string>> {
  const rows = Object.entries(checks).map(([name, checkValue]) => ({ name, check_value: checkValue }));
  await conn('secret_checks').insert(rows).onConflict('name').ignore();
  const stored = (await conn('secret_checks').whereIn('name', Object.keys(checks)).select('name', 'check_value')) as Array<{ name: string; check_value: string }>;
  return Object.fromEntries(stored.map((r) => [r.name, r.check_value]));
}
