import { insertIssuedApplication } from '../db/applications.ts';
import type { AuditEntry } from '../db/audit-log.ts';
import type { Trx } from '../db/knex.ts';
import { notificationsTo } from '../notifications/notify.ts';
import { newId } from '../lib/ids.ts';
import type { ReviewReason } from './application-errors.ts';
import type { ApplicationDeps } from './application-deps.ts';
import type { ApplicationInput } from './application-input.ts';
import { creditLimitFor } from './credit-limit.ts';
import { insertWithFreshNumber, issuedCardEntries } from './issue-card.ts';
import type { Submission } from './record-refusal.ts';
import type { Screening } from './screen-application.ts';

export interface ApplicationOutcome {
  applicationId: string;
  /** approved: the card works now; review: it is 'pending' until an operator approves it. */
  status: 'approved' | 'review';
  reviewReason?: ReviewReason;
  accountId: string;
  cardId: string;
  /** The full number: returned once, never stored. */
  cardNumber: string;
  last4: string;
  creditLimit: number;
  currency: string;
  guardianAccountId: string | null;
  /** The guardian's card that vouched for a minor. */
  guardianCardId: string | null;
}

/**
 * Opens the holder account (credit limit by policy, linked to the guardian), issues its card and
 * records the application, in the caller's transaction. Without a review reason the card is
 * activated at once; with one it stays 'pending' and the application waits in the review queue.
 */
export async function openHolderAccount(
  trx: Trx,
  deps: ApplicationDeps,
  a: { input: ApplicationInput; passwordHash: string; screening: Screening; review: ReviewReason | undefined; sub: Submission },
): Promise<ApplicationOutcome> {
  const { input, screening, sub } = a;
  const accountId = newId();
  const applicationId = newId();
  const guardianAccountId = screening.guardian?.id ?? null;
  const creditLimit = creditLimitFor(deps.policy, screening.age, screening.guardian?.creditLimit);
  const by = { actor: 'system', requestId: sub.requestId };

  const account = {
    id: accountId,
    legalName: input.legalName,
    birthdate: input.birthdate,
    email: input.email,
    mobile: input.mobile,
    guardianAccountId,
    creditLimit,
    currency: deps.cards.currency,
    statementDay: 1,
    locale: sub.locale,
  };
  const status = a.review ? 'review' : 'approved';
  const opened: AuditEntry = {
    ...by,
    action: 'account.opened',
    subjectType: 'account',
    subjectId: accountId,
    details: { applicationId, creditLimit, currency: deps.cards.currency, guardianAccountId, guardianCardId: screening.guardianCardId ?? null },
  };
  const to = { accountId, email: input.email, mobile: input.mobile, locale: sub.locale };
  // Issuance is argon2-bound and every round trip shows in its rate: the account, the card (active at
  // once when approved), the application, its audit entries and messages go in as one statement.
  const card = await insertWithFreshNumber(deps.cards, input.password, (d) =>
    insertIssuedApplication(trx, {
      account,
      card: { id: d.cardId, accountId, numberHmac: d.numberHmac, last4: d.last4, passwordHash: a.passwordHash, status: status === 'approved' ? 'active' : 'pending' },
      application: {
        id: applicationId,
        status,
        reason: a.review ?? null,
        decisionNote: null,
        legalName: input.legalName,
        birthdate: input.birthdate,
        email: input.email,
        mobile: input.mobile,
        guardianAccountId,
        guardianCardId: screening.guardianCardId ?? null,
        accountId,
        cardId: d.cardId,
        ip: sub.ip,
        requestId: sub.requestId ?? null,
        decided: status === 'approved',
        decidedBy: status === 'approved' ? 'system' : null,
      },
      audit: [
        opened,
        ...issuedCardEntries({ ...d, accountId }, by, status === 'approved' ? { reason: 'application approved automatically' } : undefined),
        {
          ...by,
          action: status === 'approved' ? 'application.approved' : 'application.review',
          subjectType: 'application',
          subjectId: applicationId,
          details: { accountId, cardId: d.cardId, last4: d.last4, ...(a.review ? { reason: a.review } : {}) },
        },
      ],
      messages: notificationsTo(to, status === 'approved' ? 'card_issued' : 'application_received', { last4: d.last4, applicationId }),
    }),
  );
  return {
    applicationId,
    status,
    ...(a.review ? { reviewReason: a.review } : {}),
    accountId,
    cardId: card.cardId,
    cardNumber: card.cardNumber,
    last4: card.last4,
    creditLimit,
    currency: deps.cards.currency,
    guardianAccountId,
    guardianCardId: screening.guardianCardId ?? null,
  };
}
