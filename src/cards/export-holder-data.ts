import { statusInEffect } from '../approvals/present.ts';
import { recentApprovalsForAccount } from '../db/approvals.ts';
import { appendAudit } from '../db/audit-log.ts';
import { findAccount, findCard, listCardsOfAccount, type Card } from '../db/cards.ts';
import { disputesOfAccount } from '../db/disputes.ts';
import { accountOpenedAt, cardStopDates, knownDeviceDates, messagesOfAccount } from '../db/holder-data.ts';
import type { Conn, Db } from '../db/knex.ts';
import { memberSiteNames } from '../db/member-sites.ts';
import { recentPayouts } from '../db/payouts.ts';
import { joinRequestTransaction } from '../db/request-scope.ts';
import { recentRepayments } from '../db/repayments.ts';
import { findSpendingControls } from '../db/spending-controls.ts';
import { listStatements, statementLines, type StatementLine } from '../db/statements.ts';
import { DATA_EXPORT_WINDOW_SECONDS, operatorExportKey } from '../db/throttles.ts';
import { findTotpFactor } from '../db/totp-factors.ts';
import { wardSummaries } from '../db/wards.ts';
import { NotFoundError } from '../errors.ts';
import { formatLocalTime, localTime } from '../lib/local-time.ts';
import { notifyHolder } from '../notifications/notify.ts';
import { QuotaSpentError, withinQuota } from '../throttles/guard-quota.ts';
import type { CardDeps } from './deps.ts';
import { holderActivity, type ActivityItem } from './holder-activity.ts';
import { OPEN_OR_CLOSED } from './former-holder.ts';
import { noSuchCard } from './no-such-card.ts';
import { proveSignedInCard } from './prove-with-password.ts';

/**
 * Each list of the file holds at most this many entries, newest first; a list cut short is named in `capped`. Generous:
 * years of a busy card's use, yet one request's worth of reading and one response's worth of memory.
 */
export const EXPORT_LIST_CAP = 1000;

export interface HolderDataRequest {
  accountId: string;
  cardId: string;
  /** The card password typed again: the file holds all the account knows of its holder. */
  password: string;
  requestId?: string | undefined;
}

export interface HolderDataDeps extends Pick<CardDeps, 'db' | 'hasher'> {
  /** The time zone the billing month is counted in (config billing.timeZone), which wardSummaries needs. */
  timeZone: string;
}

/** The holder's copy of their data, as the file gives it but for the activity, which the edge words (holder/describe-activity.ts). */
export type HolderData = Awaited<ReturnType<typeof readHolderData>>;

/**
 * The signed-in holder's copy of the personal data the card manager keeps about them (PIPA art. 35, GDPR art. 15/20),
 * proven by the card password again (a wrong one is CardPasswordError, which the caller counts towards the lockout).
 * Audited (holder.data_exported, which the holder's activity shows) with which lists were cut short, never the contents,
 * and told to the holder's contacts in the same transaction (holder_data_downloaded).
 */
export async function exportHolderData(deps: HolderDataDeps, req: HolderDataRequest): Promise<HolderData> {
  await proveForHolderData(deps, req);
  return exportProvenHolderData(deps, req);
}

/** The card password typed again for a copy of the holder's data: CardPasswordError when wrong (audited, page data_export). */
export async function proveForHolderData(deps: Pick<CardDeps, 'db' | 'hasher'>, req: HolderDataRequest): Promise<void> {
  await proveSignedInCard(deps, {
    cardId: req.cardId,
    accountId: req.accountId,
    password: req.password,
    via: { page: 'data_export', requestId: req.requestId },
    // A former holder's closed card too: their data is theirs to have after the card.
    statuses: OPEN_OR_CLOSED,
  });
}

/**
 * exportHolderData once the password has been proven (proveForHolderData), by this request or by an earlier one of the
 * same session (the form's way: its post proves it, and the next takes the file).
 */
export async function exportProvenHolderData(deps: HolderDataDeps, req: Omit<HolderDataRequest, 'password'>): Promise<HolderData> {
  const data = await readHolderData(deps.db, req.accountId, deps.timeZone);
  const card = await findCard(deps.db, req.cardId);
  // With the audit entry, a notice to the holder's contacts (holder_data_downloaded): whoever learnt the password and
  // took the file does not take it unseen.
  await joinRequestTransaction(deps.db, async (trx) => {
    await appendAudit(trx, {
      actor: `card:${req.cardId}`,
      action: 'holder.data_exported',
      subjectType: 'card',
      subjectId: req.cardId,
      details: { accountId: req.accountId, capped: data.capped },
      requestId: req.requestId,
    });
    await notifyHolder(trx, req.accountId, 'holder_data_downloaded', { last4: card?.last4, at: localTime(new Date(), deps.timeZone) });
  });
  return data;
}

export interface OperatorDataRequest {
  /** Any card the account ever had, closed, lost or replaced ones too: the operator finds a former holder by it. */
  cardId: string;
  /** The operator who asked (`operator:<name>`, `cli:<login>`), for the audit trail. */
  actor: string;
  /** Why (e.g. the data-subject request's reference), checked by the caller (admin/card-inputs.ts exportInput): kept in the audit entry. */
  reason?: string | undefined;
  requestId?: string | undefined;
}

export interface OperatorDataDeps extends Pick<HolderDataDeps, 'db' | 'timeZone'> {
  /**
   * The copies one operator may give out an hour (config holderData.operatorExportsPerHour), counted on `db`, the
   * throttles' own pool (outside the request, so every instance sees each at once).
   */
  exportsPerHour: { db: Db; max: number };
}

/** The operator's copies of holders' data for the hour are given out: 429, with when the next may be (told in `timeZone`). */
export class OperatorExportLimitError extends QuotaSpentError {
  constructor(max: number, from: Date, timeZone: string, retryAfterSeconds: number) {
    super(
      'too_many_exports',
      `You have given out as many copies of holders' data as an hour allows (${max}). You can give out another from ${formatLocalTime(from, timeZone)}.`,
      retryAfterSeconds,
    );
  }
}

/** The copy, and whose it is for the operator's own words (never in the file: our ids stay out of it). */
export interface OperatorCopy {
  data: HolderData;
  accountId: string;
  cardLast4: string;
}

/**
 * The same copy for the operator, for a data-subject request from a holder who cannot sign in (a card closed while
 * blocked, a lost card and no contacts left): the holder's identity is checked out of band, as for a reissue. Written
 * in one transaction: the audit entry operator.holder_data_exported on the account (by whom, for which card, why when the operator
 * said, with the lists cut short, never the contents) and a notice to the holder's contacts (holder_data_given_out), so a request
 * made in their name by someone else does not go unseen. 404 naming card_id when no card has the id.
 * Each copy takes one of the operator's hourly exports (operatorExportKey; a card no one has, or an export that fails,
 * takes none): past them, OperatorExportLimitError before anything is read, audited as
 * operator.holder_data_export_refused on the account, and the holder is told nothing (nothing was given out).
 */
export async function exportHolderDataForOperator(deps: OperatorDataDeps, req: OperatorDataRequest): Promise<OperatorCopy> {
  const card = await findCard(deps.db, req.cardId);
  if (!card) throw noSuchCard();
  const { db: quotaDb, max } = deps.exportsPerHour;
  const quota = { key: operatorExportKey(req.actor), max, windowSeconds: DATA_EXPORT_WINDOW_SECONDS };
  const refuse = async (windowEnds: Date, wait: number) => {
    await appendAudit(deps.db, {
      actor: req.actor,
      action: 'operator.holder_data_export_refused',
      subjectType: 'account',
      subjectId: card.accountId,
      details: { cardId: card.id, refused: 'hourly limit', limit: max, ...(req.reason !== undefined ? { reason: req.reason } : {}) },
      requestId: req.requestId,
    });
    return new OperatorExportLimitError(max, windowEnds, deps.timeZone, wait);
  };
  return withinQuota(quotaDb, quota, refuse, () => giveOutCopy(deps, req, card));
}

/** The copy of exportHolderDataForOperator once within the operator's hour: read, audited and told in one transaction. */
async function giveOutCopy(deps: Pick<HolderDataDeps, 'db' | 'timeZone'>, req: OperatorDataRequest, card: Card): Promise<OperatorCopy> {
  const data = await readHolderData(deps.db, card.accountId, deps.timeZone);
  await joinRequestTransaction(deps.db, async (trx) => {
    await appendAudit(trx, {
      actor: req.actor,
      action: 'operator.holder_data_exported',
      subjectType: 'account',
      subjectId: card.accountId,
      details: { cardId: card.id, ...(req.reason !== undefined ? { reason: req.reason } : {}), capped: data.capped },
      requestId: req.requestId,
    });
    await notifyHolder(trx, card.accountId, 'holder_data_given_out', { last4: card.last4, at: localTime(new Date(), deps.timeZone) });
  });
  return { data, accountId: card.accountId, cardLast4: card.last4 };
}

/** A list read one past the cap: the entries it keeps, and whether it was cut short. */
function capped<T>(rows: T[], cap: number): { rows: T[]; cut: boolean } {
  return { rows: rows.slice(0, cap), cut: rows.length > cap };
}

const iso = (d: Date | null | undefined): string | null => d?.toISOString() ?? null;

/**
 * Everything the file holds, read through the same queries as the holder's pages: facts and names only, never a card
 * number, a hash, a password, a second-factor secret, a device id or a message's contents (one-time codes). Ids of
 * our rows stay out too: an approval is named by its approval number, a card by its last four digits.
 */
async function readHolderData(conn: Conn, accountId: string, timeZone: string, cap = EXPORT_LIST_CAP) {
  const account = await findAccount(conn, accountId);
  if (!account) throw new NotFoundError('There is no such account.');
  const cards = await listCardsOfAccount(conn, accountId);
  const last4 = new Map(cards.map((c) => [c.id, c.last4]));
  // One query after another: the connection may be the request's transaction, which runs one statement at a time.
  const openedAt = await accountOpenedAt(conn, accountId);
  const stops = await cardStopDates(conn, [...last4.keys()]);
  const controls = await findSpendingControls(conn, accountId);
  const factor = await findTotpFactor(conn, accountId);
  const guardian = account.guardianAccountId ? await findAccount(conn, account.guardianAccountId) : undefined;
  const wards = await wardSummaries(conn, accountId, timeZone);
  const approvals = capped(await recentApprovalsForAccount(conn, accountId, cap + 1), cap);
  const now = Date.now();
  const reports = capped(await disputesOfAccount(conn, accountId, cap + 1), cap);
  const statements = capped(await listStatements(conn, accountId, cap + 1), cap);
  const repayments = capped(await recentRepayments(conn, accountId, cap + 1), cap);
  const payouts = capped(await recentPayouts(conn, accountId, cap + 1), cap);
  const devices = capped(await knownDeviceDates(conn, accountId, cap + 1), cap);
  const messages = capped(await messagesOfAccount(conn, accountId, cap + 1), cap);
  const activity = await holderActivity(conn, accountId, { limit: cap });
  const blocked = await memberSiteNames(conn, controls?.blockedSites ?? []);
  const lines: Array<{ rows: StatementLine[]; cut: boolean }> = [];
  // One statement's lines at a time: a statement holds one month's bookings, so each read is small.
  for (const s of statements.rows) lines.push(capped(await statementLines(conn, s.id), cap));
  const cut = { approvals, payment_reports: reports, statements, repayments, payouts, devices, messages };
  return {
    cap,
    /** The lists cut short at `cap`, by their name in the file. */
    capped: [
      ...Object.entries(cut).flatMap(([name, list]) => (list.cut ? [name] : [])),
      ...(activity.nextBefore === null ? [] : ['activity']),
      ...(lines.some((l) => l.cut) ? ['statements.lines'] : []),
    ],
    account: {
      legal_name: account.legalName,
      birthdate: account.birthdate,
      email: account.email,
      mobile: account.mobile,
      language: account.locale,
      statement_day: account.statementDay,
      credit_limit: account.creditLimit,
      currency: account.currency,
      // The other account of a guardian link by name only: its holder's data is theirs to ask for.
      guardian: guardian?.legalName ?? null,
      wards: wards.map((w) => w.legalName),
      created_at: iso(openedAt),
    },
    cards: cards.map((c) => ({
      last4: c.last4,
      status: c.status,
      created_at: iso(c.createdAt),
      closed_at: iso(stops.get(c.id)?.closedAt),
      lost_at: iso(stops.get(c.id)?.lostAt),
    })),
    spending_controls: {
      max_per_approval: controls?.maxPerApproval ?? null,
      monthly_cap: controls?.monthlyCap ?? null,
      adult_content_off: controls?.adultContentOff ?? false,
      // A site we no longer know by its name stays a blocked site: said as such rather than by its client_id.
      blocked_sites: (controls?.blockedSites ?? []).map((id) => blocked.get(id) ?? 'a member site no longer listed'),
    },
    second_factor: { enrolled: Boolean(factor?.confirmedAt), since: iso(factor?.confirmedAt) },
    approvals: approvals.rows.map((a) => ({
      approval_no: a.approvalNo,
      card_last4: last4.get(a.cardId) ?? null,
      site: a.siteName,
      description: a.description,
      amount: a.amount,
      currency: a.currency,
      // A hold past its expiry reads as the sweep will leave it, as on the holder's pages (read only: the sweep releases it).
      status: statusInEffect(a, now),
      captured: a.capturedAmount,
      refunded: a.refundedAmount,
      released: a.releasedAmount,
      content_rating: a.rating,
      created_at: iso(a.createdAt),
      hold_expires_at: iso(a.holdExpiresAt),
      updated_at: iso(a.updatedAt),
    })),
    payment_reports: reports.rows.map((d) => {
      const byThisAccount = last4.has(d.cardId);
      const ofThisAccount = d.accountId === accountId;
      return {
        approval_no: d.approvalNo,
        site: d.siteName,
        // What a child bought is the child's: a guardian's report of it says which payment, not what it was for.
        description: ofThisAccount ? d.description : null,
        amount: d.amount,
        currency: d.currency,
        // A guardian may report a child's payment: the report is the guardian's, the payment the child's.
        reported_by: byThisAccount ? 'you' : 'your guardian',
        about: ofThisAccount ? 'your payment' : "your child's payment",
        reason: d.reason,
        // The holder's own words are theirs; a guardian's report of their payment is told without the guardian's.
        your_words: byThisAccount ? d.details : null,
        status: d.status,
        opened_at: iso(d.openedAt),
        decided_at: iso(d.decidedAt),
        decision_note: d.decisionNote,
        refunded: d.refundedAmount,
        released: d.releasedAmount,
      };
    }),
    statements: statements.rows.map((s, i) => ({
      statement_date: s.statementDate,
      period_start: iso(s.periodStart),
      period_end: iso(s.periodEnd),
      currency: s.currency,
      opening_balance: s.openingBalance,
      charges: s.charges,
      refunds: s.refunds,
      repayments: s.repayments,
      payouts: s.payouts,
      closing_balance: s.closingBalance,
      due_date: s.dueDate,
      payment_reference: s.paymentReference,
      lines: lines[i]!.rows.map((l) => ({
        kind: l.kind,
        booked_at: iso(l.bookedAt),
        amount: l.amount,
        approval_no: l.approvalNo,
        site: l.siteName,
        description: l.description,
      })),
    })),
    repayments: repayments.rows.map((r) => ({
      amount: r.amount,
      currency: r.currency,
      received_on: r.receivedOn,
      payment_reference: r.paymentReference,
      recorded_at: iso(r.createdAt),
    })),
    // A payout as the holder's bank shows it: the amount sent and the transfer's reference. The operator's reason (an
    // internal note), who sent it and the ledger entry stay out.
    payouts: payouts.rows.map((p) => ({
      amount: p.amount,
      currency: p.currency,
      bank_reference: p.bankReference,
      paid_at: iso(p.createdAt),
    })),
    activity: activity.items satisfies ActivityItem[],
    devices: devices.rows.map((d) => ({ first_seen_at: iso(d.firstSeenAt), last_seen_at: iso(d.lastSeenAt) })),
    messages: messages.rows.map((m) => ({
      template: m.template,
      channel: m.channel,
      to: m.recipient,
      status: m.status,
      queued_at: iso(m.createdAt),
      sent_at: iso(m.sentAt),
    })),
  };
}
