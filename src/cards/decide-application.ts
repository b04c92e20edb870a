import { decideApplication, findApplication, lockApplication, type Application } from '../db/applications.ts';
import type { GuardianStandingPolicy } from './guardian-overdue.ts';
import { appendAudit } from '../db/audit-log.ts';
import { findCard } from '../db/cards.ts';
import type { Db } from '../db/knex.ts';
import { inTransaction } from '../db/tx.ts';
import { ConflictError, NotFoundError, ValidationError } from '../errors.ts';
import { notifyHolder } from '../notifications/notify.ts';
import type { DenyList } from './deny-list.ts';
import { recheckApproval } from './recheck-approval.ts';
import { transition } from './transition.ts';

export interface Decision {
  applicationId: string;
  decision: 'approve' | 'reject';
  /** The operator's reason: required to reject (the applicant is told it), optional to approve. */
  reason?: string | undefined;
  /** Approve although another holder's card has the contacts (cards.duplicates 'review' only): see recheckApproval. */
  acceptDuplicate?: boolean | undefined;
  /** 'operator' (API), 'cli', … */
  actor: string;
  requestId?: string | undefined;
}

export interface DecisionDeps {
  db: Db;
  /** config.cards.duplicates: whether an approval may go ahead past a duplicate the operator has seen. */
  duplicates: 'refuse' | 'review';
  /** config.cards.maxWardsPerGuardian, held again at approval. */
  maxWardsPerGuardian: number;
  /** config.cards.denyList compiled (applicationPolicy), held again at approval. */
  denyList: DenyList;
  /** config.cards.denyList.action */
  denyListAction: 'refuse' | 'review';
  /** config.delinquency with billing.timeZone: a guardian stopped by an overdue statement vouches for no one, at approval too. */
  delinquency: GuardianStandingPolicy;
}

export const MAX_REASON_LENGTH = 500;

/** No application has the id the operator gave. */
export const NO_SUCH_APPLICATION = 'There is no such application.';

/**
 * The operator's decision on an application in review, in one transaction: the pending card becomes
 * active (approve) or closed (reject), the application records who decided, when and why, the audit
 * trail gets both transitions, and the applicant is notified. An approval first checks again what may
 * have changed while the application waited (recheckApproval): refused, it leaves everything as it was.
 * The decision already made, asked for again, changes nothing (changed: false); the other one is a conflict.
 */
export async function decide(deps: DecisionDeps, d: Decision): Promise<{ application: Application; changed: boolean }> {
  const reason = d.reason?.trim() || undefined;
  if (d.decision === 'reject' && !reason) throw new ValidationError('Give a reason for the rejection.', { reason: 'Required to reject.' });
  if (reason && reason.length > MAX_REASON_LENGTH) {
    throw new ValidationError('The reason is too long.', { reason: `Use at most ${MAX_REASON_LENGTH} characters.` });
  }
  return inTransaction(deps.db, async (trx) => {
    const app = await lockApplication(trx, d.applicationId);
    if (!app) throw new NotFoundError(NO_SUCH_APPLICATION, { application_id: NO_SUCH_APPLICATION });
    const approved = d.decision === 'approve';
    // The same decision again (a retry, a second operator) finds it made: nothing is written or sent twice.
    if (app.status === (approved ? 'approved' : 'rejected')) return { application: app, changed: false };
    if (app.status !== 'review') throw new ConflictError(`This application was already ${app.status}.`);
    const by = { actor: d.actor, requestId: d.requestId };
    const duplicates = approved ? await recheckApproval(trx, app, {
          duplicates: deps.duplicates,
          acceptDuplicate: d.acceptDuplicate === true,
          maxWardsPerGuardian: deps.maxWardsPerGuardian,
          denyList: deps.denyList,
          denyListAction: deps.denyListAction,
          delinquency: deps.delinquency,
        }) : [];
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
      // Duplicates the operator approved past: the review reason itself, or ones accepted on the re-check.
      details: { cardId: app.cardId, reviewReason: app.reason, ...(reason ? { note: reason } : {}), ...(duplicates.length ? { duplicates } : {}) },
    });
    if (app.accountId) {
      const card = app.cardId ? await findCard(trx, app.cardId) : undefined;
      // Template names as in notifications/templates.ts: application_approved, application_rejected.
      await notifyHolder(trx, app.accountId, `application_${status}`, {
        applicationId: app.id,
        ...(approved ? { last4: card?.last4 } : { reason }),
      });
    }
    return { application: (await findApplication(trx, app.id))!, changed: true };
  });
}
