import { decideApplication, findApplication, lockApplication, type Application } from '../db/applications.ts';
import { appendAudit } from '../db/audit-log.ts';
import { findCard } from '../db/cards.ts';
import type { Db } from '../db/knex.ts';
import { inTransaction } from '../db/tx.ts';
import { ConflictError, NotFoundError, ValidationError } from '../errors.ts';
import { notifyHolder } from '../notifications/notify.ts';
import { transition } from './transition.ts';

export interface Decision {
  applicationId: string;
  decision: 'approve' | 'reject';
  /** The operator's reason: required to reject (the applicant is told it), optional to approve. */
  reason?: string | undefined;
  /** 'operator' (API), 'cli', … */
  actor: string;
  requestId?: string | undefined;
}

export const MAX_REASON_LENGTH = 500;

/**
 * The operator's decision on an application in review, in one transaction: the pending card becomes
 * active (approve) or closed (reject), the application records who decided, when and why, the audit
 * trail gets both transitions, and the applicant is notified.
 */
export async function decide(db: Db, d: Decision): Promise<Application> {
  const reason = d.reason?.trim() || undefined;
  if (d.decision === 'reject' && !reason) throw new ValidationError('Give a reason for the rejection.', { reason: 'Required to reject.' });
  if (reason && reason.length > MAX_REASON_LENGTH) {
    throw new ValidationError('The reason is too long.', { reason: `Use at most ${MAX_REASON_LENGTH} characters.` });
  }
  return inTransaction(db, async (trx) => {
    const app = await lockApplication(trx, d.applicationId);
    if (!app) throw new NotFoundError('There is no such application.');
    if (app.status !== 'review') throw new ConflictError(`This application was already ${app.status}.`);
    const approved = d.decision === 'approve';
    const by = { actor: d.actor, requestId: d.requestId };
    // An operator who closed the pending card directly has rejected it in effect: the rejection still goes through.
    const alreadyClosed = !approved && (await findCard(trx, app.cardId!))?.status === 'closed';
    if (!alreadyClosed) {
      await transition(trx, {
        ...by,
        cardId: app.cardId!,
        to: approved ? 'active' : 'closed',
        reason: approved ? `application approved${reason ? `: ${reason}` : ''}` : `application rejected: ${reason}`,
        details: { applicationId: app.id },
      });
    }
    const status = approved ? 'approved' : 'rejected';
    await decideApplication(trx, app.id, {
      status,
      reason: app.reason,
      note: reason ?? null,
      decidedBy: d.actor,
    });
    await appendAudit(trx, {
      ...by,
      action: `application.${status}`,
      subjectType: 'application',
      subjectId: app.id,
      details: { cardId: app.cardId, reviewReason: app.reason, ...(reason ? { note: reason } : {}) },
    });
    if (app.accountId) {
      const card = app.cardId ? await findCard(trx, app.cardId) : undefined;
      // Template names as in notifications/templates.ts: application_approved, application_rejected.
      await notifyHolder(trx, app.accountId, `application_${status}`, {
        applicationId: app.id,
        ...(approved ? { last4: card?.last4 } : { reason }),
      });
    }
    return (await findApplication(trx, app.id))!;
  });
}
