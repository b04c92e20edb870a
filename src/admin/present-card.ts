import type { AuditEntry } from '../db/audit-log.ts';
import type { HolderView } from '../cards/holder-view.ts';
import type { CardSummary } from '../db/cards.ts';

/** A holder as the operator API shows it: last four digits only, never a number or a password hash. */
export function presentHolder(h: HolderView) {
  return {
    account: {
      id: h.account.id,
      legal_name: h.account.legalName,
      birthdate: h.account.birthdate,
      email: h.account.email,
      mobile: h.account.mobile,
      /** The language of the holder's notifications. */
      language: h.account.locale,
      guardian_account_id: h.account.guardianAccountId,
      credit_limit: h.account.creditLimit,
      currency: h.account.currency,
    },
    cards: h.cards.map(presentCard),
  };
}

/** One of the holder's cards as the operator API shows it: its last four digits, never its number. */
export function presentCard(c: CardSummary) {
  return {
    id: c.id,
    last4: c.last4,
    status: c.status,
    created_at: c.createdAt.toISOString(),
    updated_at: c.updatedAt.toISOString(),
  };
}

export function presentAudit(e: AuditEntry & { at: Date }) {
  return {
    at: e.at.toISOString(),
    actor: e.actor,
    action: e.action,
    subject_type: e.subjectType,
    subject_id: e.subjectId,
    details: e.details ?? {},
    request_id: e.requestId ?? null,
  };
}
