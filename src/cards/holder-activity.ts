import { isLocale, type Locale } from '../lib/i18n.ts';
import { listAccountActivity, type ActivityRow } from '../db/audit-log.ts';
import { listCardsOfAccount } from '../db/cards.ts';
import type { Conn } from '../db/knex.ts';
import { memberSiteNames } from '../db/member-sites.ts';
import type { PasswordPage } from './audit-wrong-password.ts';
import { SET_BY_GUARDIAN } from './set-ward-limit.ts';

/** What a holder is shown an entry as; one per audit action (or outcome of one) they see. */
export type ActivityKind =
  | 'signed_in_at_site'
  | 'birthdate_shared'
  | 'signed_in_to_card_pages'
  | 'wrong_password'
  | 'wrong_code_lost_card'
  | 'wrong_code_reissue'
  | 'wrong_code_password_reset'
  | 'codes_stopped_lost_card'
  | 'codes_stopped_reissue'
  | 'codes_stopped_password_reset'
  | 'wrong_second_factor'
  | 'refused_card_not_active'
  | 'card_locked'
  | 'password_changed'
  | 'password_reset'
  | 'card_issued'
  | 'card_replaced'
  | 'card_suspended'
  | 'card_unblocked'
  | 'card_reported_lost'
  | 'card_closed'
  | 'data_exported'
  | 'data_given_by_cybercard'
  | 'contacts_changed'
  | 'language_changed'
  | 'contacts_corrected'
  | 'second_factor_set_up'
  | 'second_factor_replaced'
  | 'second_factor_removed'
  | 'spending_controls_changed'
  | 'credit_limit_changed'
  | 'credit_limit_set_by_guardian'
  | 'statement_day_changed'
  | 'statement_day_changed_by_guardian'
  | 'statement_day_changed_by_cybercard'
  | 'account_opened'
  | 'guardian_released'
  | 'repayment_received'
  | 'payout_sent'
  | 'payment_approved'
  | 'payment_charged'
  | 'payment_refunded'
  | 'payment_voided'
  | 'payment_expired'
  | 'payment_cancelled'
  | 'payment_reported'
  | 'payment_reported_by_guardian'
  | 'report_upheld'
  | 'report_not_upheld';

/**
 * What a change of spending controls changed, one control at a time (amounts in minor units of the entry's
 * currency, null for no limit); a blocked or unblocked site by its name ('' for a site we no longer know).
 */
export type ControlChange =
  | { control: 'max_per_approval' | 'monthly_cap'; from: number | null; to: number | null }
  | { control: 'adult_content_off'; to: boolean }
  | { control: 'blocked_sites'; site: string; blocked: boolean };

/** Entries about the account as a whole (its controls, limit, contacts, second factor, money): no one card's. */
const ACCOUNT_WIDE: ReadonlySet<ActivityKind> = new Set<ActivityKind>([
  'birthdate_shared',
  'account_opened',
  'guardian_released',
  'spending_controls_changed',
  'credit_limit_changed',
  'credit_limit_set_by_guardian',
  'statement_day_changed',
  'statement_day_changed_by_guardian',
  'statement_day_changed_by_cybercard',
  'contacts_changed',
  'contacts_corrected',
  'language_changed',
  'second_factor_set_up',
  'second_factor_replaced',
  'second_factor_removed',
  'repayment_received',
  'payout_sent',
  'data_exported',
  'data_given_by_cybercard',
]);

/** One entry of the holder's activity: facts only, never an id, an address or a request; the pages word it. */
export interface ActivityItem {
  id: number;
  at: Date;
  kind: ActivityKind;
  /** Whether it concerns one card (cardLast4 says which, when recorded) or the account as a whole. */
  about: 'card' | 'account';
  /** The last four digits of the card it concerns; null when it is about the account, or the card was not recorded. */
  cardLast4: string | null;
  /** The member site's name; null when none is involved, '' for a site we no longer know. */
  site: string | null;
  /** For a wrong password or a refused card: the page it was typed on, when known. */
  page: PasswordPage | null;
  /** An amount in minor units, with its currency (payments, repayments, credit limits). */
  amount: number | null;
  /** The credit limit before a change. */
  previousAmount: number | null;
  currency: string | null;
  /** When a card lock ends. */
  until: Date | null;
  /** The replacing card's last four digits (card_replaced). */
  newLast4: string | null;
  /** What a change of statement day changed: the days, and the first statement on the new one; null otherwise. */
  statementDay: StatementDayChange | null;
  /** What a change of spending controls changed, when it was recorded (from 2026-12); null otherwise. */
  controlChanges: ControlChange[] | null;
  /** The language messages are written in after a change of it (language_changed); null otherwise. */
  language: Locale | null;
}

/** A change of the day of the month statements close on (ledger/change-statement-day.ts). */
export interface StatementDayChange {
  from: number;
  to: number;
  /** The first statement date on the new day (YYYY-MM-DD). */
  firstStatementDate: string;
}

/** A control change as read, its site still a client_id. */
type ReadChange = Exclude<ControlChange, { control: 'blocked_sites' }> | { control: 'blocked_sites'; clientId: string; blocked: boolean };

type Facts = Partial<Pick<ActivityItem, 'page' | 'amount' | 'previousAmount' | 'currency' | 'until' | 'newLast4' | 'language'>> & {
  statementDay?: StatementDayChange;
  clientId?: string;
  /** The card an entry recorded on the account concerns (details.cardId). */
  cardId?: string;
  changes?: ReadChange[];
};

/** An entry's kind and facts from its details, or undefined for one the holder is not shown. */
type Reader = (d: Record<string, unknown>) => ({ kind: ActivityKind } & Facts) | undefined;

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isSafeInteger(v) ? v : undefined);
const PAGES: readonly PasswordPage[] = ['site_login', 'holder_signin', 'lost_card', 'password_change', 'guardian_consent', 'contact_change', 'child_limit', 'close_card', 'data_export', 'spending_controls'];
const pageOf = (v: unknown): PasswordPage | undefined => PAGES.find((p) => p === v);
const site = (d: Record<string, unknown>) => ({ clientId: str(d.clientId) });
const money = (amount: unknown, d: Record<string, unknown>) => ({ amount: num(amount), currency: str(d.currency) });
const limitOf = (v: unknown): number | null | undefined => (v === null ? null : num(v));
const siteList = (v: unknown): string[] | undefined => (Array.isArray(v) && v.every((x) => typeof x === 'string') ? v : undefined);

/**
 * What a change of spending controls changed: its details hold the controls after (as ever) and, since they are
 * recorded, before (`previous`) and the currency. Nothing for an entry without them: it keeps the plain words.
 */
function controlChanges(d: Record<string, unknown>): Facts {
  const before = d.previous as Record<string, unknown> | null | undefined;
  const currency = str(d.currency);
  if (!before || typeof before !== 'object' || !currency) return {};
  const changes: ReadChange[] = [];
  for (const control of ['max_per_approval', 'monthly_cap'] as const) {
    const key = control === 'max_per_approval' ? 'maxPerApproval' : 'monthlyCap';
    const [from, to] = [limitOf(before[key]), limitOf(d[key])];
    if (from !== undefined && to !== undefined && from !== to) changes.push({ control, from, to });
  }
  if (typeof before.adultContentOff === 'boolean' && typeof d.adultContentOff === 'boolean' && before.adultContentOff !== d.adultContentOff) {
    changes.push({ control: 'adult_content_off', to: d.adultContentOff });
  }
  const [was, now] = [siteList(before.blockedSites), siteList(d.blockedSites)];
  if (was && now) {
    for (const clientId of now) if (!was.includes(clientId)) changes.push({ control: 'blocked_sites', clientId, blocked: true });
    for (const clientId of was) if (!now.includes(clientId)) changes.push({ control: 'blocked_sites', clientId, blocked: false });
  }
  return { changes, currency };
}

/** A hold released by a void, an expiry or a stopped card: the amount only when something was released. */
const released = (d: Record<string, unknown>) => ({ ...site(d), ...(num(d.released) ? money(d.released, d) : { currency: str(d.currency) }) });

/**
 * Every audit action a holder is shown, and how. Left out on purpose: token revocations and second-factor
 * set-ups that were begun (the change that caused them, or its completion, is shown), refusals at a site's
 * entry (policy decisions, and the sign-in before them is shown), and anything about member sites or
 * applications. An action missing here is never shown, so a new one stays hidden until it is worded.
 */
const READERS: Readonly<Record<string, Reader>> = {
  'card.login': (d) => ({ kind: 'signed_in_at_site', ...site(d) }),
  'consent.birthdate_shared': (d) => ({ kind: 'birthdate_shared', ...site(d) }),
  'holder.signed_in': () => ({ kind: 'signed_in_to_card_pages' }),
  'holder.data_exported': () => ({ kind: 'data_exported' }),
  // The operator's copy for a data-subject request: the holder sees one they never asked for (a caller posing as them).
  'operator.holder_data_exported': () => ({ kind: 'data_given_by_cybercard' }),
  'card.password_failed': (d) => ({ kind: 'wrong_password', page: pageOf(d.page), ...site(d) }),
  'card.code_failed': (d) =>
    d.purpose === 'lost_card'
      ? { kind: 'wrong_code_lost_card' }
      : d.purpose === 'reissue'
        ? { kind: 'wrong_code_reissue' }
        : d.purpose === 'password_reset'
          ? { kind: 'wrong_code_password_reset' }
          : undefined,
  // Once a day per purpose at most, however many requests were refused (cards/request-code.ts).
  'card.codes_stopped': (d) =>
    d.purpose === 'lost_card'
      ? { kind: 'codes_stopped_lost_card' }
      : d.purpose === 'reissue'
        ? { kind: 'codes_stopped_reissue' }
        : d.purpose === 'password_reset'
          ? { kind: 'codes_stopped_password_reset' }
          : undefined,
  // Of the refusals at a payment, only a wrong authenticator code: a guess at the second factor, with the card used.
  'access.refused': (d) => (d.refusal === 'step_up_failed' ? { kind: 'wrong_second_factor', ...site(d), cardId: str(d.cardId) } : undefined),
  'card.login_refused': (d) => ({ kind: 'refused_card_not_active', page: pageOf(d.page), ...site(d) }),
  'card.locked': (d) => {
    const until = str(d.until) ? new Date(str(d.until)!) : undefined;
    return { kind: 'card_locked', until: until && !Number.isNaN(until.getTime()) ? until : undefined };
  },
  'card.password_changed': (d) => ({ kind: d.method === 'reset' ? 'password_reset' : 'password_changed' }),
  // A reissued card's issue is told by the old card's card.reissued.
  'card.issued': (d) => (d.replaces ? undefined : { kind: 'card_issued' }),
  'card.reissued': (d) => ({ kind: 'card_replaced', newLast4: str(d.newLast4) }),
  'card.status_changed': (d) => {
    switch (d.to) {
      case 'suspended':
        return { kind: 'card_suspended' };
      case 'lost':
        return { kind: 'card_reported_lost' };
      case 'closed':
        return { kind: 'card_closed' };
      case 'active':
        // pending → active is the card's issue (card.issued says it); suspended → active lifts a block.
        return d.from === 'suspended' ? { kind: 'card_unblocked' } : undefined;
      default:
        return undefined;
    }
  },
  'totp.enrolled': (d) => ({ kind: d.replaced ? 'second_factor_replaced' : 'second_factor_set_up' }),
  'totp.removed': () => ({ kind: 'second_factor_removed' }),
  // Masked addresses stay in the audit log: the holder is told which changed, and was told at both ends already.
  'account.contacts_changed': (d) => ({ kind: d.by === 'operator' ? 'contacts_corrected' : 'contacts_changed' }),
  'account.language_changed': (d) => ({ kind: 'language_changed', language: isLocale(d.to) ? d.to : undefined }),
  'account.controls_changed': (d) => ({ kind: 'spending_controls_changed', ...controlChanges(d) }),
  'account.credit_limit_changed': (d) => ({
    kind: d.reason === SET_BY_GUARDIAN ? 'credit_limit_set_by_guardian' : 'credit_limit_changed',
    ...money(d.to, d),
    previousAmount: num(d.from),
  }),
  'account.statement_day_changed': (d) => {
    const [from, to, firstStatementDate] = [num(d.from), num(d.to), str(d.firstStatementDate)];
    const kind = d.by === 'guardian' ? 'statement_day_changed_by_guardian' : d.by === 'operator' ? 'statement_day_changed_by_cybercard' : 'statement_day_changed';
    return { kind, ...(from && to && firstStatementDate ? { statementDay: { from, to, firstStatementDate } } : {}) };
  },
  'account.opened': () => ({ kind: 'account_opened' }),
  'account.guardian_released': () => ({ kind: 'guardian_released' }),
  'repayment.recorded': (d) => ({ kind: 'repayment_received', ...money(d.amount, d) }),
  'payout.sent': (d) => ({ kind: 'payout_sent', ...money(d.amount, d) }),
  'approval.approved': (d) => ({ kind: 'payment_approved', ...site(d), ...money(d.amount, d) }),
  'approval.captured': (d) => ({ kind: 'payment_charged', ...site(d), ...money(d.amount, d) }),
  // A refund or release that decides the holder's report is told by the report's decision (dispute.decided).
  'approval.refunded': (d) => (d.disputeId ? undefined : { kind: 'payment_refunded', ...site(d), ...money(d.amount, d) }),
  'approval.voided': (d) => (d.disputeId ? undefined : { kind: 'payment_voided', ...released(d) }),
  'approval.expired': (d) => ({ kind: 'payment_expired', ...released(d) }),
  'approval.revoked': (d) => ({ kind: 'payment_cancelled', ...released(d) }),
  'dispute.opened': (d) => ({ kind: d.by === 'guardian' ? 'payment_reported_by_guardian' : 'payment_reported', ...site(d), ...money(d.amount, d) }),
  // What came back to the account's available credit: the refund and the hold released with it (its void is not shown).
  'dispute.decided': (d) =>
    d.decision === 'refunded'
      ? { kind: 'report_upheld', ...site(d), ...((num(d.refunded) ?? 0) + (num(d.released) ?? 0) > 0 ? money((num(d.refunded) ?? 0) + (num(d.released) ?? 0), d) : { currency: str(d.currency) }) }
      : { kind: 'report_not_upheld', ...site(d) },
};

/** The audit actions the activity shows (some only in part: see READERS). */
export const ACTIVITY_ACTIONS: readonly string[] = Object.keys(READERS);

export const ACTIVITY_PAGE_SIZE = 50;

/**
 * One page of the holder's activity, newest first: what happened to the account, to every card it ever had
 * (older ones after a reissue) and to its payments, `before` the entry of that id when given. `nextBefore` is
 * the cursor of the next (older) page, null on the last one. An entry whose action has no reader, or whose
 * reader leaves it out, is skipped, and the page is filled from older entries instead.
 */
export async function holderActivity(
  conn: Conn,
  accountId: string,
  opts: { before?: number | undefined; limit?: number } = {},
): Promise<{ items: ActivityItem[]; nextBefore: number | null }> {
  const limit = opts.limit ?? ACTIVITY_PAGE_SIZE;
  const cards = await listCardsOfAccount(conn, accountId);
  const last4 = new Map(cards.map((c) => [c.id, c.last4]));
  const shown: Array<{ row: ActivityRow; read: { kind: ActivityKind } & Facts }> = [];
  let before = opts.before;
  // Rows left out are few (a card's issue beside its activation): another round is rare.
  for (;;) {
    const rows = await listAccountActivity(conn, { accountId, cardIds: [...last4.keys()], actions: ACTIVITY_ACTIONS, before, limit: limit + 1 });
    for (const row of rows) {
      const read = READERS[row.action]?.(row.details);
      if (read) shown.push({ row, read });
    }
    if (shown.length > limit || rows.length <= limit) break;
    before = rows.at(-1)!.id;
  }
  const page = shown.slice(0, limit);
  const clientIds = page.flatMap(({ read }) => [
    ...(read.clientId === undefined ? [] : [read.clientId]),
    ...(read.changes ?? []).flatMap((c) => (c.control === 'blocked_sites' ? [c.clientId] : [])),
  ]);
  const names = await memberSiteNames(conn, [...new Set(clientIds)]);
  const named = (c: ReadChange): ControlChange => (c.control === 'blocked_sites' ? { control: c.control, site: names.get(c.clientId) ?? '', blocked: c.blocked } : c);
  return {
    items: page.map(({ row, read }) => ({
      id: row.id,
      at: row.at,
      kind: read.kind,
      about: ACCOUNT_WIDE.has(read.kind) ? 'account' : 'card',
      // The card the row is about; for an entry on the account, the one its details name (never another account's).
      cardLast4: ACCOUNT_WIDE.has(read.kind) ? null : (last4.get(row.cardId ?? read.cardId ?? '') ?? null),
      site: read.clientId === undefined ? null : (names.get(read.clientId) ?? ''),
      page: read.page ?? null,
      amount: read.amount ?? null,
      previousAmount: read.previousAmount ?? null,
      currency: read.currency ?? null,
      until: read.until ?? null,
      newLast4: read.newLast4 ?? null,
      statementDay: read.statementDay ?? null,
      controlChanges: read.changes?.map(named) ?? null,
      language: read.language ?? null,
    })),
    nextBefore: shown.length > limit ? page.at(-1)!.row.id : null,
  };
}
