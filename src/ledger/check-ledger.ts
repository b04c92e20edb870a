import { runLedgerChecks, type LedgerCheckName, type LedgerFinding } from '../db/ledger-check.ts';
import type { Db } from '../db/knex.ts';

export interface LedgerCheck {
  /** True when every rule holds: money neither appeared nor vanished anywhere in the books. */
  ok: boolean;
  checked_at: string;
  /** What was read. */
  scope: { entries: number; accounts: number; approvals: number; statements: number; settlements: number };
  /** Per rule broken, how many times (the findings list 100 per rule at most). */
  counts: Partial<Record<LedgerCheckName, number>>;
  findings: LedgerFinding[];
}

/**
 * Reads the whole ledger back and checks it adds up (db/ledger-check.ts has the rules): every entry balances; each
 * account's balance and held amount are its ledger accounts' and its open approvals'; each approval's entries match
 * its captured, released and refunded amounts; each site's payable is what it captured less refunds; holds cancel their
 * control account; statements follow from each other and from the ledger. One snapshot (repeatable read, read only),
 * so payments going on meanwhile cannot make a rule look broken; nothing is written.
 */
export async function checkLedger(db: Db, now: () => Date = () => new Date()): Promise<LedgerCheck> {
  const checkedAt = now().toISOString();
  const rows = await db.transaction(async (trx) => {
    await trx.raw('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY');
    return runLedgerChecks(trx);
  });
  return { ok: rows.findings.length === 0, checked_at: checkedAt, scope: rows.scope, counts: rows.counts, findings: rows.findings };
}

/** The check running on each pool, if any: who asks meanwhile is answered by it (sharedLedgerCheck). */
const running = new WeakMap<Db, Promise<LedgerCheck>>();

/**
 * checkLedger for callers that may ask many times at once (the operator API and the console's button, pressed twice):
 * one check at a time per pool, and whoever asks while it runs gets its answer. Each run holds a connection of the
 * server's pool for as long as it reads the whole ledger, so a double click, a retrying script or a few operators at
 * once would otherwise take the pool from the holders' payments. A check begun before the question still reads books
 * as they were when it began, which is what any answer to "do the books add up?" can say.
 */
export function sharedLedgerCheck(db: Db): Promise<LedgerCheck> {
  const going = running.get(db);
  if (going) return going;
  const check = checkLedger(db).finally(() => running.delete(db));
  running.set(db, check);
  return check;
}
