import type { Conn } from './knex.ts';

export interface RetentionPolicy {
  outboxDays: number;
  idempotencyKeyDays: number;
  oneTimeCodeDays: number;
}

export interface RetentionCounts {
  outbox: number;
  backchannelLogouts: number;
  approvalEvents: number;
  idempotencyKeys: number;
  oneTimeCodes: number;
  contactChanges: number;
}

/**
 * Deletes, `batch` rows per statement until none is left, the rows of `table` that `condition` (a fixed SQL
 * text of ours, its values bound) picks. Rows another instance is deleting at the same moment are skipped, not
 * waited for: both runs end with them gone.
 */
async function deleteInBatches(conn: Conn, table: string, condition: string, bindings: readonly number[], batch: number): Promise<number> {
  let total = 0;
  for (;;) {
    const r = (await conn.raw(
      `DELETE FROM ?? WHERE id IN (SELECT id FROM ?? WHERE ${condition} ORDER BY id LIMIT ? FOR UPDATE SKIP LOCKED)`,
      [table, table, ...bindings, batch],
    )) as { rowCount?: number; affectedRows?: number };
    const n = r.rowCount ?? r.affectedRows ?? 0;
    total += n;
    if (n < batch) return total;
  }
}

/**
 * Deletes what has served its purpose: notifications, back-channel logouts and approval events sent or given up on more than
 * `outboxDays` ago (never a pending one), idempotency keys (member sites' and operators') older than `idempotencyKeyDays`, and one-time codes and contact changes expired
 * more than `oneTimeCodeDays` ago. The audit log, the ledger and statements are kept: they are the record.
 */
export async function deleteRetired(conn: Conn, p: RetentionPolicy, batch = 1000): Promise<RetentionCounts> {
  // An outbox's rows sent or given up on; a pending one is never deleted.
  const settled = (table: string) =>
    deleteInBatches(conn, table, "status IN ('sent', 'failed') AND created_at < now() - make_interval(days => ?)", [p.outboxDays], batch);
  return {
    outbox: await settled('notifications_outbox'),
    backchannelLogouts: await settled('backchannel_logouts'),
    approvalEvents: await settled('approval_events'),
    // The member sites' keys and the operators' (operator API repayments), kept alike.
    idempotencyKeys:
      (await deleteInBatches(conn, 'idempotency_keys', 'created_at < now() - make_interval(days => ?)', [p.idempotencyKeyDays], batch)) +
      (await deleteInBatches(conn, 'operator_idempotency_keys', 'created_at < now() - make_interval(days => ?)', [p.idempotencyKeyDays], batch)),
    oneTimeCodes: await deleteInBatches(conn, 'one_time_codes', 'expires_at < now() - make_interval(days => ?)', [p.oneTimeCodeDays], batch),
    // A holder's pending change of email or mobile: the new addresses and its codes, as long-lived as a code.
    contactChanges: await deleteInBatches(conn, 'contact_changes', 'expires_at < now() - make_interval(days => ?)', [p.oneTimeCodeDays], batch),
  };
}
