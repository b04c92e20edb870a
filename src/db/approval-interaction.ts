import type { Conn } from './knex.ts';

const UNIQUE = 'approvals_interaction_uid_unique';

/**
 * Ties an approval to the hosted interaction it was made in. False when that interaction already has an
 * approval (the unique index: a concurrent twin waits for the first to commit, then fails), in which case
 * the caller's transaction is aborted and must be rolled back.
 */
export async function tagApprovalInteraction(conn: Conn, approvalId: string, interactionUid: string): Promise<boolean> {
  try {
    await conn('approvals').where({ id: approvalId }).update({ interaction_uid: interactionUid });
    return true;
  } catch (err) {
    if ((err as { code?: string; constraint?: string }).code === '23505' && (err as { constraint?: string }).constraint === UNIQUE) return false;
    throw err;
  }
}
