import type { Application } from '../db/applications.ts';

/** An application as the operator sees it (it never holds a card number or password). */
export function presentApplication(a: Application) {
  return {
    id: a.id,
    status: a.status,
    reason: a.reason,
    decision_note: a.decisionNote,
    legal_name: a.legalName,
    birthdate: a.birthdate,
    email: a.email,
    mobile: a.mobile,
    guardian_account_id: a.guardianAccountId,
    guardian_card_id: a.guardianCardId,
    account_id: a.accountId,
    card_id: a.cardId,
    ip: a.ip,
    created_at: a.createdAt.toISOString(),
    decided_at: a.decidedAt?.toISOString() ?? null,
    decided_by: a.decidedBy,
  };
}
