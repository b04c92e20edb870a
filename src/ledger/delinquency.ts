import { ApprovalRefusedError } from '../approvals/errors.ts';
import { appendAudit } from '../db/audit-log.ts';
import { findAccount, type Account } from '../db/cards.ts';
import type { Conn, Trx } from '../db/knex.ts';
import { inTransaction } from '../db/tx.ts';
import {
  billingProfile,
  delinquencyCandidates,
  overdueForAccount,
  overdueStatements,
  setDelinquentSince,
  wardsOf,
  type OverdueStatement,
} from '../db/statements.ts';
import { formatMoney, money } from '../lib/money.ts';
import { notify, recipientOf } from '../notifications/notify.ts';
import { DEFAULT_DELINQUENCY, type DelinquencyPolicy, type LedgerDeps } from './deps.ts';

/**
 * The statement that makes this account overdue, if any: its own latest statement past due date plus grace with a
 * balance left, or (with guardianResponsible) its guardian's, or a ward's (the guardian answers for a minor's card,
 * and the minor's for the guardian's). `whose` says which; its own comes first.
 */
export async function overdueFor(conn: Conn, accountId: string, policy: DelinquencyPolicy = DEFAULT_DELINQUENCY): Promise<OverdueStatement | undefined> {
  const [first] = await overdueForAccount(conn, accountId, { ...policy, linked: policy.guardianResponsible });
  return first;
}

/** The account's own overdue statement only, not a guardian's nor a ward's (what its own statement day waits on). */
export async function ownOverdue(conn: Conn, accountId: string, policy: DelinquencyPolicy = DEFAULT_DELINQUENCY): Promise<OverdueStatement | undefined> {
  const [first] = await overdueStatements(conn, [accountId], policy);
  return first;
}

/** The refusal an overdue statement makes: the card's own or its guardian's is `delinquent`, a ward's `ward_delinquent`. */
export function overdueRefusal(overdue: Pick<OverdueStatement, 'whose'>): 'delinquent' | 'ward_delinquent' {
  return overdue.whose === 'ward' ? 'ward_delinquent' : 'delinquent';
}

/**
 * Refuses a new charge on an overdue account ("payment overdue"), inside the approval transaction after
 * the account row is locked. Plain logins never come here, so a holder can still enter free content.
 * A guardian whose ward is overdue gets a refusal of its own (ward_delinquent), naming the ward's card.
 */
export async function refuseIfOverdue(trx: Trx, accountId: string, policy: DelinquencyPolicy = DEFAULT_DELINQUENCY): Promise<void> {
  const overdue = await overdueFor(trx, accountId, policy);
  if (overdue) throw overdueRefusalOf(overdue);
}

/**
 * The refusal an overdue statement makes of a new charge, with the holder's words: what approve() throws, and what the
 * approval page says before Approve is pressed (the same words, so the page does not promise what Approve refuses).
 */
export function overdueRefusalOf(overdue: OverdueStatement): ApprovalRefusedError {
  const owed = `${formatMoney(overdue.outstanding, overdue.currency)}`;
  if (overdue.whose === 'ward') {
    return new ApprovalRefusedError(
      'ward_delinquent',
      // The words of the holder's account page (messages-ko.ts translates both).
      `The statement of ${overdue.wardName ?? ''}'s card, which you answer for, of ${overdue.statementDate} was due on ${overdue.dueDate} ` +
        `and ${owed} is still unpaid. New charges on your card are refused until it is paid; free content stays open.`,
    );
  }
  if (overdue.whose === 'guardian') {
    // A minor's card stopped by the guardian's statement: whose it is and who pays it (the words of the account page),
    // not the guardian's figures.
    return new ApprovalRefusedError('delinquent', guardianOverdueMessage(overdue), { heading: GUARDIAN_OVERDUE_HEADING });
  }
  if (overdue.whose === 'sibling') {
    // Another child's statement the guardian answers for: the guardian is in arrears, which stops this card as the
    // guardian's own statement would. Its dates and who pays it; neither the other child's name nor the figures.
    return new ApprovalRefusedError('delinquent', siblingOverdueMessage(overdue), { heading: SIBLING_OVERDUE_HEADING });
  }
  return new ApprovalRefusedError(
    'delinquent',
    `Payment overdue: Your statement of ${overdue.statementDate} still has ${owed} unpaid ` +
      `(due ${overdue.dueDate}). New charges are refused until it is paid; free content stays open.`,
  );
}

/** The heading of a minor's refusal pages where the guardian's overdue statement stops their card. */
export const GUARDIAN_OVERDUE_HEADING = "Your guardian's statement is overdue";

/** The heading of a minor's refusal pages where another linked child's overdue statement, which the guardian answers for, stops their card. */
export const SIBLING_OVERDUE_HEADING = 'A statement your guardian answers for is overdue';

/** What a minor is told where another linked child's overdue statement stops their card (messages-ko.ts translates it). */
export function siblingOverdueMessage(overdue: Pick<OverdueStatement, 'statementDate' | 'dueDate'>): string {
  return (
    `A statement your guardian answers for, of ${overdue.statementDate}, was due on ${overdue.dueDate} and is still unpaid. ` +
    'New charges on your card are refused until your guardian pays it; free content stays open.'
  );
}

/** What a minor is told where the guardian's overdue statement stops their card (messages-ko.ts translates it). */
export function guardianOverdueMessage(overdue: Pick<OverdueStatement, 'statementDate' | 'dueDate'>): string {
  return (
    `Your guardian's statement of ${overdue.statementDate} was due on ${overdue.dueDate} and is still unpaid. ` +
    'New charges on your card are refused until your guardian pays it; free content stays open.'
  );
}

/**
 * The holder and, with a responsible guardian (delinquency.guardianResponsible), whoever else the account's statement
 * stops, each with what a message to them carries: the guardian of a minor (`ward` names the minor), the guardian's
 * other minors (`sibling: true`), and the minors linked to a guardian (`guardian: true`); the minors are told whose
 * statement it is and its dates, not its figures: `wardData` is what they get.
 */
async function holderAndLinked(
  trx: Trx,
  accountId: string,
  policy: DelinquencyPolicy,
  data: Record<string, unknown>,
  wardData: Record<string, unknown>,
): Promise<Array<{ to: Account; data: Record<string, unknown> }>> {
  const account = await findAccount(trx, accountId);
  if (!account) return [];
  const told = [{ to: account, data }];
  if (!policy.guardianResponsible) return told;
  if (account.guardianAccountId) {
    const guardian = await findAccount(trx, account.guardianAccountId);
    const siblings = (await wardsOf(trx, account.guardianAccountId)).filter((id) => id !== accountId);
    // `siblings`: the guardian is told their other children's cards stop too.
    if (guardian) told.push({ to: guardian, data: { ...data, ward: account.legalName, ...(siblings.length > 0 ? { siblings: true } : {}) } });
    // The guardian's other children: the guardian is in arrears, which stops their cards too (`sibling: true`; the
    // dates only, neither this child's name nor the figures).
    for (const siblingId of siblings) {
      const sibling = await findAccount(trx, siblingId);
      if (sibling) told.push({ to: sibling, data: { ...wardData, sibling: true } });
    }
  }
  for (const wardId of await wardsOf(trx, accountId)) {
    const ward = await findAccount(trx, wardId);
    if (ward) told.push({ to: ward, data: { ...wardData, guardian: true } });
  }
  return told;
}

/**
 * Tells the holder and whoever else the statement stops (holderAndLinked) that it is overdue, once per statement each.
 * Where another statement the recipient's card answers for is overdue too (a minor's own beside the guardian's, a
 * guardian's own beside a child's), the message says so (`also`): paying this one alone does not restore the card.
 */
async function tellOverdue(trx: Trx, accountId: string, policy: DelinquencyPolicy, overdue: OverdueStatement) {
  const dates = { statementDate: overdue.statementDate, dueDate: overdue.dueDate };
  for (const r of await holderAndLinked(trx, accountId, policy, { amount: money(overdue.outstanding, overdue.currency), ...dates }, dates)) {
    const found = await overdueForAccount(trx, r.to.id, { ...policy, linked: policy.guardianResponsible });
    const also = found.some((o) => o.statementId !== overdue.statementId);
    await notify(trx, recipientOf(r.to), 'payment_overdue', also ? { ...r.data, also: true } : r.data);
  }
}

/**
 * Statements whose grace ended longer ago than this are not looked at again, which keeps the sweep's
 * scan small: it runs after every billing run (hourly by default), so such an account was flagged long since.
 */
const SWEEP_WINDOW_DAYS = 62;
const SWEEP_BATCH = 200;

/**
 * Flags every account that has just become overdue and notifies its holder once (the flag is what
 * makes it once). Several instances may sweep at once: each account is re-checked under its row lock.
 */
export async function sweepDelinquency(deps: LedgerDeps): Promise<number> {
  const policy = deps.delinquency;
  let marked = 0;
  for (;;) {
    const candidates = await delinquencyCandidates(deps.db, { ...policy, windowDays: SWEEP_WINDOW_DAYS, limit: SWEEP_BATCH });
    let progressed = 0;
    for (const accountId of candidates) {
      const flagged = await inTransaction(deps.db, async (trx) => {
        const locked = (await trx('accounts').select('delinquent_since').where({ id: accountId }).forUpdate().first()) as
          | { delinquent_since: unknown }
          | undefined;
        if (!locked || locked.delinquent_since) return false;
        const [overdue] = await overdueStatements(trx, [accountId], policy);
        if (!overdue) return false;
        await setDelinquentSince(trx, accountId, new Date());
        await tellOverdue(trx, accountId, policy, overdue);
        return true;
      });
      if (flagged) progressed++;
    }
    marked += progressed;
    // Candidates that turned out paid stay unflagged and would come back: stop when a pass flags nothing.
    if (candidates.length < SWEEP_BATCH || progressed === 0) return marked;
  }
}

/**
 * After a repayment (inside its transaction, account row locked): when the account was flagged and
 * nothing of it is overdue any more, the flag is cleared and the holder told that charges work again.
 */
export async function restoreIfPaid(trx: Trx, accountId: string, policy: DelinquencyPolicy): Promise<boolean> {
  const profile = await billingProfile(trx, accountId);
  if (!profile?.delinquentSince) return false;
  if ((await overdueStatements(trx, [accountId], policy)).length > 0) return false;
  await setDelinquentSince(trx, accountId, null);
  await tellRestored(trx, accountId, policy);
  return true;
}

/**
 * Tells the holder, a responsible guardian and (for a guardian's statement) the linked minors that the account's
 * statement is paid: `payment_restored` (the card pays again) to whoever it frees, `statement_paid_still_paused` to
 * whoever another statement their card answers for still stops (a guardian's own, another ward's, a minor's own), so no
 * one is told their card pays while it is refused.
 */
async function tellRestored(trx: Trx, accountId: string, policy: DelinquencyPolicy): Promise<void> {
  for (const r of await holderAndLinked(trx, accountId, policy, {}, {})) {
    const still = await overdueFor(trx, r.to.id, policy);
    await notify(trx, recipientOf(r.to), still ? 'statement_paid_still_paused' : 'payment_restored', r.data);
  }
}

/**
 * For deployments that stop plain logins too (delinquency.blockLogins): whether this overdue account is kept
 * out of member sites altogether, and by whose statement (a ward's is `ward_delinquent`). A refusal is audited like
 * the holder's own controls.
 */
export async function overdueRefusesEntry(
  conn: Conn,
  q: { accountId: string; clientId: string },
  policy: DelinquencyPolicy,
  { audit = true }: { audit?: boolean } = {},
): Promise<{ code: 'delinquent' | 'ward_delinquent'; wardName?: string; guardian?: boolean } | null> {
  const overdue = await overdueFor(conn, q.accountId, policy);
  if (!overdue) return null;
  if (audit) {
    await appendAudit(conn, {
      actor: `account:${q.accountId}`,
      action: 'access.refused_overdue',
      subjectType: 'account',
      subjectId: q.accountId,
      details: {
        clientId: q.clientId,
        statementDate: overdue.statementDate,
        dueDate: overdue.dueDate,
        guardian: overdue.whose === 'guardian',
        ...(overdue.whose === 'sibling' ? { sibling: true, siblingAccountId: overdue.accountId } : {}),
        ...(overdue.whose === 'ward' ? { ward: true, wardAccountId: overdue.accountId } : {}),
      },
    });
  }
  if (overdue.whose === 'ward') return { code: 'ward_delinquent', wardName: overdue.wardName ?? '' };
  // A sibling's statement puts the guardian in arrears: the login refusal says so as for the guardian's own.
  return overdue.whose === 'guardian' || overdue.whose === 'sibling' ? { code: 'delinquent', guardian: true } : { code: 'delinquent' };
}
