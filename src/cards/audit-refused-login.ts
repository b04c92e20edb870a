import { appendAudit } from '../db/audit-log.ts';
import type { Card } from '../db/cards.ts';
import type { Conn } from '../db/knex.ts';
import { viaDetails, type PasswordVia } from './audit-wrong-password.ts';

/**
 * Records a login attempt with a known card that may not log in (lost, suspended, closed, pending):
 * an old number in use after a reissue is worth knowing about. Whether the password matched is kept too,
 * and where it was typed.
 */
export async function auditRefusedLogin(conn: Conn, card: Card, passwordMatched: boolean, via?: PasswordVia): Promise<void> {
  await appendAudit(conn, {
    actor: 'anonymous',
    action: 'card.login_refused',
    subjectType: 'card',
    subjectId: card.id,
    details: { accountId: card.accountId, status: card.status, passwordMatched, ...viaDetails(via) },
    requestId: via?.requestId,
  });
}
