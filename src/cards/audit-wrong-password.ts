import { appendAudit } from '../db/audit-log.ts';
import type { Card } from '../db/cards.ts';
import type { Conn } from '../db/knex.ts';

/** The pages that ask for a card password, in terms its holder knows (the activity page names them). */
export type PasswordPage = 'site_login' | 'holder_signin' | 'lost_card' | 'password_change' | 'guardian_consent' | 'contact_change' | 'child_limit' | 'close_card' | 'data_export' | 'spending_controls';

/**
 * Where a card password was typed: the page, the member site whose login page it was, and the request, so
 * the audit entry of a wrong one can say where it came from without the cards domain knowing any HTTP.
 */
export type PasswordVia = ({ page: 'site_login'; clientId: string } | { page: Exclude<PasswordPage, 'site_login'> }) & {
  requestId?: string | undefined;
};

/** The audit details naming the page (and member site): never the password, the number or anything secret. */
export function viaDetails(via: PasswordVia | undefined): Record<string, string> {
  if (!via) return {};
  return via.page === 'site_login' ? { page: via.page, clientId: via.clientId } : { page: via.page };
}

/**
 * Records a wrong password typed for an active card (card.password_failed), in the caller's transaction (a
 * request's, which commits on its 4xx answer): its holder must be able to see every guess, not only the
 * lockout that five of them cause. A right password records nothing here, so a login costs no statement more.
 */
export async function auditWrongPassword(conn: Conn, card: Card, via: PasswordVia | undefined): Promise<void> {
  await appendAudit(conn, {
    actor: 'anonymous',
    action: 'card.password_failed',
    subjectType: 'card',
    subjectId: card.id,
    details: { accountId: card.accountId, ...viaDetails(via) },
    requestId: via?.requestId,
  });
}
