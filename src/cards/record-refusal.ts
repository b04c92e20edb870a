import { insertApplication } from '../db/applications.ts';
import { appendAudit } from '../db/audit-log.ts';
import type { Trx } from '../db/knex.ts';
import type { Locale } from '../lib/i18n.ts';
import { newId } from '../lib/ids.ts';
import type { RefusalReason } from './application-errors.ts';
import type { ApplicationInput } from './application-input.ts';

export interface Submission {
  ip: string;
  requestId?: string | undefined;
  /** The language the application was made in (the page's): the new holder's notifications are written in it. */
  locale: Locale;
}

/**
 * Keeps a refused application (no password, no card): the operator can see why a person was turned
 * away, and it counts towards the daily limits, so guessing a guardian's password is throttled too.
 */
export async function recordRefusal(trx: Trx, input: ApplicationInput, reason: RefusalReason, sub: Submission): Promise<string> {
  const id = newId();
  await insertApplication(trx, {
    id,
    status: 'rejected',
    reason,
    decisionNote: null,
    legalName: input.legalName,
    birthdate: input.birthdate,
    email: input.email,
    mobile: input.mobile,
    guardianAccountId: null,
    guardianCardId: null,
    accountId: null,
    cardId: null,
    ip: sub.ip,
    requestId: sub.requestId ?? null,
    decided: true,
    decidedBy: 'system',
  });
  await appendAudit(trx, {
    actor: 'system',
    action: 'application.rejected',
    subjectType: 'application',
    subjectId: id,
    details: { reason },
    requestId: sub.requestId,
  });
  return id;
}
