import { appendAudit } from '../db/audit-log.ts';
import type { Db } from '../db/knex.ts';
import { findDelivery, requeueDelivery, type Delivery, type DeliveryKind } from '../db/site-deliveries.ts';
import { inTransaction } from '../db/tx.ts';
import { ConflictError, NotFoundError } from '../errors.ts';

/** What the operator is told of a kind and id no delivery has. */
export function noSuchDelivery(kind: DeliveryKind, id: number | string): NotFoundError {
  const message = `There is no ${kind === 'logout' ? 'logout' : 'event'} delivery ${id}.`;
  return new NotFoundError(message, { id: message });
}

/** What a retry did: `changed` is false for a delivery still pending (due, or waiting for its next attempt): nothing written. */
export interface DeliveryRetried {
  delivery: Delivery;
  changed: boolean;
}

/**
 * Sends a given-up delivery again: due now, its attempts reset, so the senders (oidc/site-outbox-sender.ts) try it as
 * a new one, up to maxAttempts. An event keeps its jti, so a site that did get it after all drops the repeat (RFC 8417
 * §2.2); a Logout Token is made anew at each attempt. Audited with the operator's reason. A pending one is left as it
 * is (changed: false); a delivered one is refused (409): the site took it, and nothing says it should get it twice.
 */
export async function retryDelivery(db: Db, kind: DeliveryKind, id: number, reason: string, actor: string): Promise<DeliveryRetried> {
  return inTransaction(db, async (trx) => {
    const found = await findDelivery(trx, kind, id, true);
    if (!found) throw noSuchDelivery(kind, id);
    if (found.status === 'sent') throw new ConflictError(`The ${kind === 'logout' ? 'logout' : 'event'} delivery ${id} was delivered: there is nothing to send again.`);
    if (found.status === 'pending') return { delivery: found, changed: false };
    await requeueDelivery(trx, kind, id);
    await appendAudit(trx, {
      actor,
      action: 'delivery.retried',
      subjectType: kind === 'logout' ? 'backchannel_logout' : 'approval_event',
      subjectId: String(id),
      details: { reason, client_id: found.clientId, attempts: found.attempts, last_error: found.lastError },
    });
    return { delivery: (await findDelivery(trx, kind, id))!, changed: true };
  });
}
