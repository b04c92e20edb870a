import { DEFAULT_LOCALE, isLocale, type Locale } from '../lib/i18n.ts';
import type { Conn } from './knex.ts';
import { toLine, type CreditLine } from './credit-lines.ts';
import { toControls, type SpendingControls } from './spending-controls.ts';
import { dateString } from './rows.ts';

export type CardStatus = 'pending' | 'active' | 'suspended' | 'lost' | 'closed';

export interface Account {
  id: string;
  legalName: string;
  birthdate: string;
  email: string | null;
  mobile: string | null;
  guardianAccountId: string | null;
  /** Credit line in minor units of `currency`. */
  creditLimit: number;
  currency: string;
  statementDay: number;
  /** The language notifications to this holder are written in. */
  locale: Locale;
}

export interface Card {
  id: string;
  accountId: string;
  last4: string;
  passwordHash: string;
  status: CardStatus;
}

type Row = Record<string, unknown>;

// Columns are named, not `*`, so that the statements reading them are prepared once per connection
// (db/pg-client.ts) and a migration adding a column changes nothing they return.
/** What toCard reads. */
const CARD_COLUMNS = ['id', 'account_id', 'last4', 'password_hash', 'status'] as const;
/** What toAccount reads. */
const ACCOUNT_COLUMNS = ['id', 'legal_name', 'birthdate', 'email', 'mobile', 'guardian_account_id', 'credit_limit', 'currency', 'statement_day', 'locale'] as const;
/** What toAccount, toLine and toControls read: an account's facts. */
const ACCOUNT_FACT_COLUMNS = [
  ...ACCOUNT_COLUMNS,
  'posted_balance',
  'held_amount',
  'max_per_approval',
  'monthly_cap',
  'blocked_sites',
  'adult_content_off',
] as const;

function toAccount(r: Row): Account {
  return {
    id: r.id as string,
    legalName: r.legal_name as string,
    birthdate: dateString(r.birthdate),
    email: (r.email as string | null) ?? null,
    mobile: (r.mobile as string | null) ?? null,
    guardianAccountId: (r.guardian_account_id as string | null) ?? null,
    creditLimit: Number(r.credit_limit),
    currency: r.currency as string,
    statementDay: Number(r.statement_day),
    locale: isLocale(r.locale) ? r.locale : DEFAULT_LOCALE,
  };
}

function toCard(r: Row): Card {
  return {
    id: r.id as string,
    accountId: r.account_id as string,
    last4: r.last4 as string,
    passwordHash: r.password_hash as string,
    status: r.status as CardStatus,
  };
}

/** The accounts row of a new account (also written by insertIssuedApplication). */
export function accountRow(a: Account): Row {
  return {
    id: a.id,
    legal_name: a.legalName,
    birthdate: a.birthdate,
    email: a.email,
    mobile: a.mobile,
    guardian_account_id: a.guardianAccountId,
    credit_limit: a.creditLimit,
    currency: a.currency,
    statement_day: a.statementDay,
    locale: a.locale,
  };
}

export async function insertAccount(conn: Conn, a: Account): Promise<void> {
  await conn('accounts').insert(accountRow(a));
}

export async function findAccount(conn: Conn, id: string): Promise<Account | undefined> {
  const r = (await conn('accounts').select(ACCOUNT_COLUMNS).where({ id }).first()) as Row | undefined;
  return r ? toAccount(r) : undefined;
}

/** The accounts with these ids, by id (the review queue's guardians, a page's worth in one query). */
export async function findAccountsById(conn: Conn, ids: readonly string[]): Promise<Map<string, Account>> {
  if (ids.length === 0) return new Map();
  const rows = (await conn('accounts').select(ACCOUNT_COLUMNS).whereIn('id', [...ids])) as Row[];
  return new Map(rows.map((r) => [r.id as string, toAccount(r)]));
}

/** A card to insert: its number only as the lookup HMAC (and the last four digits). */
export type NewCardRow = Card & { numberHmac: Buffer };

/** The cards row of a new card (also written by insertIssuedApplication). */
export function cardRow(c: NewCardRow): Row {
  return {
    id: c.id,
    account_id: c.accountId,
    number_hmac: c.numberHmac,
    last4: c.last4,
    password_hash: c.passwordHash,
    status: c.status,
  };
}

/**
 * Inserts the card unless its number is taken (ON CONFLICT on the unique number_hmac index): false on a
 * clash, without aborting the caller's transaction, so issuance can draw another number and retry.
 */
export async function insertCardUnlessNumberTaken(conn: Conn, c: NewCardRow): Promise<boolean> {
  const rows = (await conn('cards')
    .insert(cardRow(c))
    .onConflict('number_hmac')
    .ignore()
    .returning('id')) as unknown[];
  return rows.length === 1;
}

export async function findCardByNumberHmac(conn: Conn, numberHmac: Buffer): Promise<Card | undefined> {
  const r = (await conn('cards').select(CARD_COLUMNS).where({ number_hmac: numberHmac }).first()) as Row | undefined;
  return r ? toCard(r) : undefined;
}

export async function findCard(conn: Conn, id: string): Promise<Card | undefined> {
  const r = (await conn('cards').select(CARD_COLUMNS).where({ id }).first()) as Row | undefined;
  return r ? toCard(r) : undefined;
}

/** What the provider's checks read about a holder account at every sign-in, in one round trip. */
export interface AccountFacts {
  account: Account;
  line: CreditLine;
  controls: SpendingControls;
  hasActiveCard: boolean;
}

export async function findAccountFacts(conn: Conn, id: string): Promise<AccountFacts | undefined> {
  const r = (await conn('accounts as a')
    .select(
      ...ACCOUNT_FACT_COLUMNS.map((c) => `a.${c}`),
      conn.raw("EXISTS (SELECT 1 FROM cards c WHERE c.account_id = a.id AND c.status = 'active') AS has_active_card"),
    )
    .where('a.id', id)
    .first()) as Row | undefined;
  return r ? { account: toAccount(r), line: toLine(r), controls: toControls(r), hasActiveCard: r.has_active_card === true } : undefined;
}

/**
 * The account row locked until the transaction ends (FOR UPDATE), read whole: its credit line, spending
 * controls and contact details in one statement, for an approval.
 */
export async function lockAccountFacts(conn: Conn, id: string): Promise<Omit<AccountFacts, 'hasActiveCard'> | undefined> {
  const r = (await conn('accounts').select(ACCOUNT_FACT_COLUMNS).where({ id }).forUpdate().first()) as Row | undefined;
  return r ? { account: toAccount(r), line: toLine(r), controls: toControls(r) } : undefined;
}

/** The account's active card (an account has at most one at a time). */
export async function findActiveCardForAccount(conn: Conn, accountId: string): Promise<Card | undefined> {
  const r = (await conn('cards').select(CARD_COLUMNS).where({ account_id: accountId, status: 'active' }).orderBy('created_at', 'desc').first()) as
    | Row
    | undefined;
  return r ? toCard(r) : undefined;
}

/** Which of these accounts hold an active card (findActiveCardForAccount for many, in one query). */
export async function accountsWithActiveCard(conn: Conn, accountIds: readonly string[]): Promise<Set<string>> {
  if (accountIds.length === 0) return new Set();
  const rows = (await conn('cards').distinct('account_id').where({ status: 'active' }).whereIn('account_id', [...accountIds])) as Row[];
  return new Set(rows.map((r) => r.account_id as string));
}

/**
 * Whether the account holds an active card, that card share-locked until the transaction ends: a block, close or
 * lost report of it (each locks the card FOR UPDATE) waits for the caller's commit, and one that committed first is seen.
 */
export async function holdsActiveCardLocked(conn: Conn, accountId: string): Promise<boolean> {
  return Boolean(await conn('cards').select('id').where({ account_id: accountId, status: 'active' }).forShare().first());
}

/** A card as the operator sees it: never the number, only its last four digits. */
export interface CardSummary {
  id: string;
  accountId: string;
  last4: string;
  status: CardStatus;
  createdAt: Date;
  updatedAt: Date;
}

function toSummary(r: Row): CardSummary {
  return {
    id: r.id as string,
    accountId: r.account_id as string,
    last4: r.last4 as string,
    status: r.status as CardStatus,
    createdAt: new Date(r.created_at as string),
    updatedAt: new Date(r.updated_at as string),
  };
}

/** The card, row-locked until the transaction ends (FOR UPDATE): every status change goes through this. */
export async function lockCard(conn: Conn, id: string): Promise<Card | undefined> {
  const r = (await conn('cards').select(CARD_COLUMNS).where({ id }).forUpdate().first()) as Row | undefined;
  return r ? toCard(r) : undefined;
}

export async function setCardStatus(conn: Conn, id: string, status: CardStatus): Promise<void> {
  await conn('cards').where({ id }).update({ status, updated_at: conn.fn.now() });
}

export async function setCardPassword(conn: Conn, id: string, passwordHash: string): Promise<void> {
  await conn('cards').where({ id }).update({ password_hash: passwordHash, updated_at: conn.fn.now() });
}

/** Every card the account ever had, oldest first. */
export async function listCardsOfAccount(conn: Conn, accountId: string): Promise<CardSummary[]> {
  const rows = (await conn('cards').where({ account_id: accountId }).orderBy('created_at')) as Row[];
  return rows.map(toSummary);
}

export async function findCardSummary(conn: Conn, id: string): Promise<CardSummary | undefined> {
  const r = (await conn('cards').where({ id }).first()) as Row | undefined;
  return r ? toSummary(r) : undefined;
}

/** A minor's guardian as a payment needs them, in one statement: their contacts, and whether any card of theirs is not closed. */
export async function guardianOnCall(
  conn: Conn,
  guardianAccountId: string,
): Promise<{ email: string | null; mobile: string | null; locale: Locale; hasOpenCard: boolean } | undefined> {
  const r = (await conn('accounts as a')
    .select('a.email', 'a.mobile', 'a.locale', conn.raw("EXISTS (SELECT 1 FROM cards c WHERE c.account_id = a.id AND c.status <> 'closed') AS has_open_card"))
    .where('a.id', guardianAccountId)
    .first()) as { email: string | null; mobile: string | null; locale: string; has_open_card: boolean } | undefined;
  return r && { email: r.email, mobile: r.mobile, locale: isLocale(r.locale) ? r.locale : DEFAULT_LOCALE, hasOpenCard: Boolean(r.has_open_card) };
}

/** Whether the account has a card issued after this one, in any status (this card was replaced already). */
export async function accountHasLaterCard(conn: Conn, accountId: string, cardId: string): Promise<boolean> {
  const r = await conn('cards as c')
    .select('c.id')
    .join('cards as this', 'this.account_id', 'c.account_id')
    .where({ 'this.id': cardId, 'c.account_id': accountId })
    .whereRaw('c.created_at > this.created_at')
    .first();
  return Boolean(r);
}

/**
 * The status the card was closed from, by its latest closing in the audit trail (every status change is recorded
 * there, cards/transition.ts; a card row keeps only its status now), or undefined when none is recorded.
 */
export async function cardClosedFrom(conn: Conn, cardId: string): Promise<CardStatus | undefined> {
  const r = (await conn('audit_log')
    .select(conn.raw("details->>'from' AS from_status"))
    .where({ subject_type: 'card', subject_id: cardId, action: 'card.status_changed' })
    .whereRaw("details->>'to' = 'closed'")
    .orderBy('id', 'desc')
    .first()) as Row | undefined;
  return (r?.from_status as CardStatus | null | undefined) ?? undefined;
}

/** True while the account has an open (pending, active or suspended) card other than `exceptCardId`. */
export async function accountHasOtherOpenCard(conn: Conn, accountId: string, exceptCardId: string): Promise<boolean> {
  const r = await conn('cards')
    .select('id')
    .where({ account_id: accountId })
    .whereIn('status', ['pending', 'active', 'suspended'])
    .whereNot({ id: exceptCardId })
    .first();
  return Boolean(r);
}

export interface HolderQuery {
  /** Case-insensitive substring of the legal name. */
  name?: string;
  /** Exact, case-insensitive. */
  email?: string;
  /** Exact. */
  mobile?: string;
}

/** Holder accounts matching every given criterion, at most `limit`. */
export async function findAccountsByHolder(conn: Conn, q: HolderQuery, limit = 50): Promise<Account[]> {
  const query = conn('accounts').orderBy('created_at').limit(limit);
  if (q.name) query.whereILike('legal_name', `%${q.name.replace(/[\\%_]/g, '\\$&')}%`);
  if (q.email) query.whereRaw('lower(email) = lower(?)', [q.email]);
  if (q.mobile) query.where({ mobile: q.mobile });
  const rows = (await query) as Row[];
  return rows.map(toAccount);
}

/** The account, row-locked until the transaction ends. */
export async function lockAccount(conn: Conn, id: string): Promise<Account | undefined> {
  const r = (await conn('accounts').select(ACCOUNT_COLUMNS).where({ id }).forUpdate().first()) as Row | undefined;
  return r ? toAccount(r) : undefined;
}

/**
 * Lowers to `max` the limits of the accounts this guardian answers for that are above it, each locked: a minor's
 * limit never exceeds the guardian's. Returns each lowered account with its holder's name and former limit.
 */
export async function lowerWardLimits(conn: Conn, guardianAccountId: string, max: number): Promise<Array<{ id: string; legalName: string; from: number }>> {
  const wards = (await conn('accounts')
    .select('id', 'legal_name', 'credit_limit')
    .where({ guardian_account_id: guardianAccountId })
    .andWhere('credit_limit', '>', max)
    .orderBy('id')
    .forUpdate()) as Array<{ id: string; legal_name: string; credit_limit: number | string }>;
  if (wards.length) await conn('accounts').whereIn('id', wards.map((w) => w.id)).update({ credit_limit: max });
  return wards.map((w) => ({ id: w.id, legalName: w.legal_name, from: Number(w.credit_limit) }));
}

/** Sets the account's email and/or mobile (a field left undefined keeps its value). */
export async function setAccountContacts(conn: Conn, accountId: string, c: { email?: string | undefined; mobile?: string | undefined }): Promise<void> {
  const changes: Row = {};
  if (c.email !== undefined) changes.email = c.email;
  if (c.mobile !== undefined) changes.mobile = c.mobile;
  if (Object.keys(changes).length) await conn('accounts').where({ id: accountId }).update(changes);
}

/** Sets the language of the account's notifications; returns the one it had (undefined: no such account). Locks the row. */
export async function setAccountLocale(conn: Conn, accountId: string, locale: Locale): Promise<Locale | undefined> {
  const r = (await conn('accounts').select('locale').where({ id: accountId }).forUpdate().first()) as { locale: string } | undefined;
  if (!r) return undefined;
  if (r.locale !== locale) await conn('accounts').where({ id: accountId }).update({ locale });
  return isLocale(r.locale) ? r.locale : DEFAULT_LOCALE;
}

export async function setCreditLimit(conn: Conn, accountId: string, creditLimit: number): Promise<void> {
  await conn('accounts').where({ id: accountId }).update({ credit_limit: creditLimit });
}

/**
 * Ends the guardian link of every account whose holder has come of age (`adultAge` on the date `at` falls on in
 * `timeZone`, billing.timeZone, as lib/clock.ts ageIn counts ages for applications and the age gate; `at` null: the
 * database's now), keeping the guardian as the former one, and returns each with the guardian it had. Rows another
 * instance is releasing at the same moment are skipped. A ward was billed on the guardian's statement day
 * (db/statements.ts): the account takes that schedule as its own, so its next statement closes when it would have.
 */
export async function releaseWardsOfAge(
  conn: Conn,
  p: { adultAge: number; timeZone: string; at: Date | null },
): Promise<Array<{ id: string; guardianId: string }>> {
  const r = await conn.raw(
    `WITH grown AS (
       SELECT id, guardian_account_id FROM accounts
       WHERE guardian_account_id IS NOT NULL
         AND birthdate <= ((COALESCE(?::timestamptz, now()) AT TIME ZONE ?::text)::date - make_interval(years => ?))::date
       FOR UPDATE SKIP LOCKED
     )
     UPDATE accounts a SET guardian_account_id = NULL, former_guardian_account_id = grown.guardian_account_id,
       statement_day = g.statement_day, previous_statement_day = g.previous_statement_day, statement_day_from = g.statement_day_from
     FROM grown JOIN accounts g ON g.id = grown.guardian_account_id WHERE a.id = grown.id
     RETURNING a.id, grown.guardian_account_id AS guardian_id`,
    [p.at, p.timeZone, p.adultAge],
  );
  return ((r as { rows: Array<{ id: string; guardian_id: string }> }).rows ?? []).map((x) => ({ id: x.id, guardianId: x.guardian_id }));
}
