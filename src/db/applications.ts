import type { Knex } from 'knex';
import { auditRecords, type AuditEntry } from './audit-log.ts';
import { accountRow, cardRow, type Account, type NewCardRow } from './cards.ts';
import { insertRowIf, insertRowsIf } from './insert-if.ts';
import { ipKey } from '../lib/ip-key.ts';
import type { Conn } from './knex.ts';
import { outboxRecords, type NewOutboxMessage } from './outbox.ts';
import { dateString } from './rows.ts';

export type ApplicationStatus = 'approved' | 'rejected' | 'review';

export interface Application {
  id: string;
  status: ApplicationStatus;
  /** Machine code: why refused or why in review. */
  reason: string | null;
  /** The operator's words when deciding a reviewed application. */
  decisionNote: string | null;
  legalName: string;
  birthdate: string;
  email: string;
  mobile: string;
  guardianAccountId: string | null;
  /** The guardian's card that vouched for a minor (its number and password were proven). */
  guardianCardId: string | null;
  accountId: string | null;
  cardId: string | null;
  ip: string;
  requestId: string | null;
  createdAt: Date;
  decidedAt: Date | null;
  decidedBy: string | null;
}

export type NewApplication = Omit<Application, 'createdAt' | 'decidedAt'> & { decided: boolean };

type Row = Record<string, unknown>;

function toApplication(r: Row): Application {
  return {
    id: r.id as string,
    status: r.status as ApplicationStatus,
    reason: (r.reason as string | null) ?? null,
    decisionNote: (r.decision_note as string | null) ?? null,
    legalName: r.legal_name as string,
    birthdate: dateString(r.birthdate),
    email: r.email as string,
    mobile: r.mobile as string,
    guardianAccountId: (r.guardian_account_id as string | null) ?? null,
    guardianCardId: (r.guardian_card_id as string | null) ?? null,
    accountId: (r.account_id as string | null) ?? null,
    cardId: (r.card_id as string | null) ?? null,
    ip: r.ip as string,
    requestId: (r.request_id as string | null) ?? null,
    createdAt: new Date(r.created_at as string),
    decidedAt: r.decided_at ? new Date(r.decided_at as string) : null,
    decidedBy: (r.decided_by as string | null) ?? null,
  };
}

/** The applications row of a new application (decided now, by the database clock, when `decided`). */
function applicationRow(conn: Conn, a: NewApplication): Row {
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
    ip_key: ipKey(a.ip),
    request_id: a.requestId,
    decided_at: a.decided ? conn.fn.now() : null,
    decided_by: a.decidedBy,
  };
}

export async function insertApplication(conn: Conn, a: NewApplication): Promise<void> {
  await conn('applications').insert(applicationRow(conn, a));
}

/** Everything an application that gets a card writes. */
export interface IssuedApplication {
  account: Account;
  card: NewCardRow;
  application: NewApplication;
  /** In the order they happened. */
  audit: readonly AuditEntry[];
  /** The notifications it sends. */
  messages: readonly NewOutboxMessage[];
}

/**
 * Writes an issued application's account, card, application, audit entries and outbox messages in one
 * statement (issuance is argon2-bound, and each round trip shows in its rate), in the caller's
 * transaction. The card goes in ON CONFLICT (number_hmac) DO NOTHING and every other row only with
 * it: false when the number is taken, and then nothing at all was written, so the caller draws again.
 */
export async function insertIssuedApplication(conn: Conn, i: IssuedApplication): Promise<boolean> {
  const writes: Array<[string, Knex.Raw | Knex.QueryBuilder]> = [
    ['card', conn('cards').insert(cardRow(i.card)).onConflict('number_hmac').ignore().returning('id')],
    ['account', insertRowIf(conn, 'card', 'accounts', accountRow(i.account))],
    ['application', insertRowIf(conn, 'card', 'applications', applicationRow(conn, i.application))],
  ];
  if (i.audit.length) writes.push(['audit', insertRowsIf(conn, 'card', 'audit_log', auditRecords(i.audit))]);
  if (i.messages.length) writes.push(['outbox', insertRowsIf(conn, 'card', 'notifications_outbox', outboxRecords(i.messages))]);
  const ctes = writes.map(() => '?? AS (?)').join(', ');
  const r = (await conn.raw(`WITH ${ctes} SELECT count(*)::int AS issued FROM card`, writes.flat())) as { rows: Array<{ issued: number }> };
  return r.rows[0]?.issued === 1;
}

/**
 * The account holds a card in one of these statuses, or a card reported lost that no later card of the account
 * replaced: its holder is still to be reissued a number. A lost card that was replaced says nothing: the account is as
 * open as its replacement. (Literals of ours, never input.)
 */
function holdsCard(statuses: readonly string[]): string {
  const unreplacedLost = "(c.status = 'lost' AND NOT EXISTS (SELECT 1 FROM cards r WHERE r.account_id = a.id AND r.created_at > c.created_at))";
  return `EXISTS (SELECT 1 FROM cards c WHERE c.account_id = a.id AND (c.status IN (${statuses.map((st) => `'${st}'`).join(', ')}) OR ${unreplacedLost}))`;
}
/**
 * A card that makes its holder's contacts taken for a new application: pending, active or suspended, or reported lost
 * and not replaced yet. Such an account is reissued a new number (as the duplicate refusal tells the applicant): an
 * account opened beside it would give one person two credit lines once it is. A closed account's contacts are free.
 */
const OPEN_CARD = holdsCard(['pending', 'active', 'suspended']);
/**
 * A card that makes them taken for an approval: issued to its holder (and lost since, not replaced yet). A pending one
 * is another application still in the queue, which meets this same check when it is approved.
 */
const ISSUED_CARD = holdsCard(['active', 'suspended']);
// Not the application's own account, not the guardian, nor (with the flag: the contact is the guardian's own) the guardian's other wards, present or grown up.
const OUTSIDE_FAMILY =
  '(a.id IS DISTINCT FROM ?::uuid AND a.id IS DISTINCT FROM ?::uuid' +
  ' AND NOT (?::boolean AND (a.guardian_account_id IS NOT DISTINCT FROM ?::uuid OR a.former_guardian_account_id = ?::uuid)))';

/**
 * Still owes money: a posted balance, holds still open, or flagged by the delinquency sweep (a statement past due).
 * Columns of the account row, so the check costs nothing beyond finding the account; only an account that holds
 * something has its holds looked at: one past its hold_expires_at is no longer active (capture refuses it) though the
 * sweep (approvals/expire.ts) has not released it yet, so what it still holds is not owed (read only: the sweep's to release).
 */
const OWES =
  '(a.posted_balance > 0 OR a.delinquent_since IS NOT NULL OR (a.held_amount > 0 AND a.held_amount >' +
  " (SELECT COALESCE(sum(p.amount - p.captured_amount - p.released_amount), 0) FROM approvals p" +
  " WHERE p.account_id = a.id AND p.status = 'approved' AND p.hold_expires_at <= now())))";
/**
 * A legal name folded for "the same person", as the deny list folds it (cards/deny-list.ts foldName): NFKC ('Ｌｅｅ' is
 * 'Lee'), runs of white space as one, lower case, and no space, period, hyphen or apostrophe at either end ("Kim
 * Minsu." is "Kim Minsu": a name may end in a period, Jr., and one added would otherwise pass for another person).
 * The same expression as accounts_person_index, so the lookup is indexed. Apostrophes are stored plain (legal-name.ts,
 * and the migration that rewrote older rows), so it need not fold ’ itself.
 */
const PERSON_NAME = (name: string) => `lower(btrim(regexp_replace(normalize(${name}, NFKC), '\\s+', ' ', 'g'), ' .''-'))`;
const SAME_PERSON = `a.birthdate = ?::date AND ${PERSON_NAME('a.legal_name')} = ${PERSON_NAME('?::text')}`;
// The guardian's ward with the applicant's name (folded, PERSON_NAME) and date of birth.
const SAME_WARD = `a.guardian_account_id = ?::uuid AND a.id IS DISTINCT FROM ?::uuid AND ${PERSON_NAME('a.legal_name')} = ${PERSON_NAME('?::text')} AND a.birthdate = ?::date`;

/**
 * A minor applying under a guardian, for the duplicate check. Siblings may share the guardian's email
 * and mobile (families do): a contact that is the guardian's own is no duplicate on the guardian's
 * other wards. The same child twice is: a ward of the guardian with the applicant's name and date of birth.
 */
export interface Family {
  guardianAccountId: string;
  /** The applicant's email is the guardian's. */
  sharesEmail: boolean;
  /** The applicant's mobile is the guardian's. */
  sharesMobile: boolean;
  legalName: string;
  /** YYYY-MM-DD */
  birthdate: string;
}

/** What a duplicate check found on other accounts. */
export interface Duplicates {
  /** The email (case-insensitive) is on another account's card. */
  emailInUse: boolean;
  /** The mobile is on another account's card. */
  mobileInUse: boolean;
  /** The guardian has another ward with the applicant's name and date of birth (always false without a family). */
  wardInUse: boolean;
}

/** The duplicate check's three columns: other accounts holding `card` (an OPEN_CARD or ISSUED_CARD clause). */
function duplicateColumns(conn: Conn, q: { email: string; mobile: string; ownAccountId?: string | undefined; family?: Family | undefined }, card: string) {
  const f = q.family;
  const own = q.ownAccountId ?? null;
  const g = f?.guardianAccountId ?? null;
  const outside = (shared: boolean | undefined) => [own, g, shared ?? false, g, g];
  return [
    conn.raw(`EXISTS (SELECT 1 FROM accounts a WHERE lower(a.email) = ? AND ${OUTSIDE_FAMILY} AND ${card}) AS email_in_use`, [q.email, ...outside(f?.sharesEmail)]),
    conn.raw(`EXISTS (SELECT 1 FROM accounts a WHERE a.mobile = ? AND ${OUTSIDE_FAMILY} AND ${card}) AS mobile_in_use`, [q.mobile, ...outside(f?.sharesMobile)]),
    // Only for a minor: an adult has no guardian whose wards to look through.
    f
      ? conn.raw(`EXISTS (SELECT 1 FROM accounts a WHERE ${SAME_WARD} AND ${card}) AS ward_in_use`, [f.guardianAccountId, own, f.legalName, f.birthdate])
      : conn.raw('false AS ward_in_use'),
  ];
}

/**
 * Another account with the email or mobile still owes (OWES), whatever its cards' status, by the duplicate check's
 * family rules, leaving out `ownAccountId` (each EXISTS on its own index: lower(email), mobile).
 */
function owedOnContactsColumn(conn: Conn, q: { email: string; mobile: string; ownAccountId?: string | undefined; family?: Family | undefined }) {
  const g = q.family?.guardianAccountId ?? null;
  const outside = (shared: boolean | undefined) => [q.ownAccountId ?? null, g, shared ?? false, g, g];
  return conn.raw(
    `(EXISTS (SELECT 1 FROM accounts a WHERE lower(a.email) = ? AND ${OUTSIDE_FAMILY} AND ${OWES})` +
      ` OR EXISTS (SELECT 1 FROM accounts a WHERE a.mobile = ? AND ${OUTSIDE_FAMILY} AND ${OWES})) AS owed_on_contacts`,
    [q.email, ...outside(q.family?.sharesEmail), q.mobile, ...outside(q.family?.sharesMobile)],
  );
}

type DuplicateRow = { email_in_use: boolean; mobile_in_use: boolean; ward_in_use: boolean };

function toDuplicates(r: DuplicateRow): Duplicates {
  return { emailInUse: Boolean(r.email_in_use), mobileInUse: Boolean(r.mobile_in_use), wardInUse: Boolean(r.ward_in_use) };
}

/** Daily counts and duplicates (on accounts with an open card: pending, active, suspended, or lost and not replaced) for a new application. */
export interface ApplicationCheck extends Duplicates {
  /** Applications (of any outcome) from this IP address in the last 24 hours, by the database clock. */
  fromIp: number;
  /** Applications (of any outcome) for this email address in the last 24 hours. */
  forEmail: number;
  /**
   * Another account with the email or mobile still owes (OWES), whatever its cards' status: a closed one too. The
   * family rules of the duplicate check apply (a minor's guardian, and siblings on the guardian's own contacts, are not it).
   */
  owedOnContacts: boolean;
  /** An account with the applicant's name and date of birth (folded, PERSON_NAME) still owes, whatever its cards' status. */
  owedByPerson: boolean;
  /** For an adult: an account with the applicant's name and date of birth holds an open card (always false for a minor). */
  personInUse: boolean;
  /** With a family: the guardian's wards holding an open card (OPEN_CARD), on the guardian index; 0 without. */
  openWards: number;
}

/** The applicant as a person, looked for on other accounts by name and date of birth. */
export interface Person {
  legalName: string;
  /** YYYY-MM-DD */
  birthdate: string;
  /**
   * An adult is also looked for among open cards by name and date of birth. A minor is not: the guardian's wards are
   * looked through for the same child (SAME_WARD), and children's names and birthdays are shared more often.
   */
  adult: boolean;
}

/**
 * What an application's daily limits and duplicate check need, in one round trip (issuance is
 * argon2-bound, and each round trip shows in its rate). With `family` the guardian's account is no
 * duplicate (a minor may share the guardian's email and mobile), nor are the guardian's other wards
 * on a contact that is the guardian's own, and the guardian's wards are looked through for the same child and
 * counted (open ones, for cards.maxWardsPerGuardian: exact only under the guardian account's row lock). Accounts that
 * still owes are looked for by contacts and by name and date of birth, and for an adult open cards by the latter.
 */
export async function checkApplication(
  conn: Conn,
  q: { ip: string; email: string; mobile: string; person: Person; family?: Family | undefined },
): Promise<ApplicationCheck> {
  const g = q.family?.guardianAccountId ?? null;
  const r = (await conn
    .select(
      // By source: an IPv6 /64 as one (lib/ip-key.ts).
      conn.raw("(SELECT count(*) FROM applications WHERE ip_key = ? AND created_at > now() - interval '24 hours') AS from_ip", [ipKey(q.ip)]),
      conn.raw("(SELECT count(*) FROM applications WHERE email = ? AND created_at > now() - interval '24 hours') AS for_email", [q.email]),
      ...duplicateColumns(conn, q, OPEN_CARD),
      // Each EXISTS on its own index (lower(email), mobile, accounts_person_index); the rest is the account row.
      owedOnContactsColumn(conn, q),
      conn.raw(`EXISTS (SELECT 1 FROM accounts a WHERE ${SAME_PERSON} AND ${OWES}) AS owed_by_person`, [q.person.birthdate, q.person.legalName]),
      q.person.adult
        ? conn.raw(`EXISTS (SELECT 1 FROM accounts a WHERE ${SAME_PERSON} AND ${OPEN_CARD}) AS person_in_use`, [q.person.birthdate, q.person.legalName])
        : conn.raw('false AS person_in_use'),
      g
        ? conn.raw(`(SELECT count(*) FROM accounts a WHERE a.guardian_account_id = ?::uuid AND ${OPEN_CARD}) AS open_wards`, [g])
        : conn.raw('0 AS open_wards'),
    )
    .first()) as DuplicateRow & {
    from_ip: string | number;
    for_email: string | number;
    owed_on_contacts: boolean;
    owed_by_person: boolean;
    person_in_use: boolean;
    open_wards: string | number;
  };
  return {
    fromIp: Number(r.from_ip),
    forEmail: Number(r.for_email),
    ...toDuplicates(r),
    owedOnContacts: Boolean(r.owed_on_contacts),
    owedByPerson: Boolean(r.owed_by_person),
    personInUse: Boolean(r.person_in_use),
    openWards: Number(r.open_wards),
  };
}

/**
 * The duplicate check again for an application in review that the operator approves: the same family rules,
 * leaving out the application's own account, and counting only accounts whose card was issued (active,
 * suspended, or lost and not replaced), as others may have been while it waited; and, as for a new application,
 * whether another account with the email or mobile still owes (owedOnContacts), whatever its cards' status.
 */
export async function findIssuedDuplicates(conn: Conn, q: IssuedDuplicatesQuery): Promise<Duplicates & { owedOnContacts: boolean }> {
  return toIssuedDuplicates((await conn.select(...issuedDuplicateColumns(conn, q)).first()) as IssuedDuplicateRow);
}

/** findIssuedDuplicates for each of `qs` (the review queue's page), in one statement; the answers in the order of `qs`. */
export async function findIssuedDuplicatesOfEach(conn: Conn, qs: readonly IssuedDuplicatesQuery[]): Promise<Array<Duplicates & { owedOnContacts: boolean }>> {
  return (await selectEach<IssuedDuplicateRow>(conn, qs.map((q) => issuedDuplicateColumns(conn, q)))).map(toIssuedDuplicates);
}

type IssuedDuplicatesQuery = { accountId: string; email: string; mobile: string; family?: Family | undefined };
type IssuedDuplicateRow = DuplicateRow & { owed_on_contacts: boolean };

function issuedDuplicateColumns(conn: Conn, q: IssuedDuplicatesQuery) {
  const own = { ...q, ownAccountId: q.accountId };
  return [...duplicateColumns(conn, own, ISSUED_CARD), owedOnContactsColumn(conn, own)];
}

function toIssuedDuplicates(r: IssuedDuplicateRow): Duplicates & { owedOnContacts: boolean } {
  return { ...toDuplicates(r), owedOnContacts: Boolean(r.owed_on_contacts) };
}

/**
 * One row of `columns` for each entry of `each`, in one statement: the SELECTs (each the statement a single lookup
 * would send, with its own bindings, so each EXISTS keeps its index) joined by UNION ALL, numbered to be put back in
 * order. Per-row rules (a minor's family) do not fit one WHERE … IN, and this keeps the single lookup's SQL as it is.
 */
async function selectEach<R>(conn: Conn, each: ReadonlyArray<ReadonlyArray<Knex.Raw>>): Promise<R[]> {
  if (each.length === 0) return [];
  const selects = each.map((columns, i) => conn.select(conn.raw('?::int AS i', [i]), ...columns));
  const rows = (await conn.queryBuilder().unionAll(selects, true)) as Array<R & { i: number }>;
  const ordered: R[] = new Array<R>(each.length);
  for (const r of rows) ordered[Number(r.i)] = r;
  return ordered;
}

/**
 * The guardian's wards, other than `exceptAccountId`, whose card was issued (active, suspended, or lost and not
 * replaced): what an approval from review counts against cards.maxWardsPerGuardian. A pending one is another
 * application still in the queue, which meets this same count when it is approved. Exact under the guardian
 * account's row lock, as apply()'s count is.
 */
export async function countIssuedWards(conn: Conn, guardianAccountId: string, exceptAccountId: string | null): Promise<number> {
  const r = (await conn
    .select(
      conn.raw(`(SELECT count(*) FROM accounts a WHERE a.guardian_account_id = ?::uuid AND a.id IS DISTINCT FROM ?::uuid AND ${ISSUED_CARD}) AS n`, [
        guardianAccountId,
        exceptAccountId,
      ]),
    )
    .first()) as { n: string | number };
  return Number(r.n);
}

/**
 * The wards of each of these guardians whose card was issued (as countIssuedWards counts them), by guardian: the
 * review queue's page in one query, each application then leaving its own account out of its guardian's list.
 */
export async function findIssuedWards(conn: Conn, guardianAccountIds: readonly string[]): Promise<Map<string, string[]>> {
  const wards = new Map<string, string[]>();
  if (guardianAccountIds.length === 0) return wards;
  const rows = (await conn('accounts as a')
    .select('a.guardian_account_id', 'a.id')
    .whereIn('a.guardian_account_id', [...guardianAccountIds])
    .whereRaw(ISSUED_CARD)) as Array<{ guardian_account_id: string; id: string }>;
  for (const r of rows) wards.set(r.guardian_account_id, [...(wards.get(r.guardian_account_id) ?? []), r.id]);
  return wards;
}

/**
 * Other accounts (not `accountId`) with this name and date of birth (folded, PERSON_NAME): one that still owes, and,
 * for an adult, one holding an open card. What sent an application to review as person_owes or duplicate_person,
 * looked for again for the operator (never a refusal: two people may share both).
 */
export async function findPersonMatches(conn: Conn, q: PersonQuery): Promise<{ owedByPerson: boolean; personInUse: boolean }> {
  return (await findPersonMatchesOfEach(conn, [q]))[0]!;
}

/** findPersonMatches for each of `qs` (the review queue's page), in one statement; the answers in the order of `qs`. */
export async function findPersonMatchesOfEach(conn: Conn, qs: readonly PersonQuery[]): Promise<Array<{ owedByPerson: boolean; personInUse: boolean }>> {
  const rows = await selectEach<{ owed_by_person: boolean; person_in_use: boolean }>(conn, qs.map((q) => personMatchColumns(conn, q)));
  return rows.map((r) => ({ owedByPerson: Boolean(r.owed_by_person), personInUse: Boolean(r.person_in_use) }));
}

type PersonQuery = { accountId: string | null; legalName: string; birthdate: string; adult: boolean };

function personMatchColumns(conn: Conn, q: PersonQuery) {
  return [
    conn.raw(`EXISTS (SELECT 1 FROM accounts a WHERE ${SAME_PERSON} AND a.id IS DISTINCT FROM ?::uuid AND ${OWES}) AS owed_by_person`, [
      q.birthdate,
      q.legalName,
      q.accountId,
    ]),
    q.adult
      ? conn.raw(`EXISTS (SELECT 1 FROM accounts a WHERE ${SAME_PERSON} AND a.id IS DISTINCT FROM ?::uuid AND ${OPEN_CARD}) AS person_in_use`, [
          q.birthdate,
          q.legalName,
          q.accountId,
        ])
      : conn.raw('false AS person_in_use'),
  ];
}

/**
 * The duplicate check for a holder's new email or mobile (a change, by the holder or the operator): the same rules
 * as a new application's (other accounts with an open card: pending, active, suspended, or lost and not replaced; a minor's guardian, and on
 * the guardian's own contact the guardian's other wards, are family), leaving out the account itself. Pass the
 * values the account would have; the caller reads only the columns of the contacts it changes.
 */
export async function findContactDuplicates(
  conn: Conn,
  q: { accountId: string; email: string; mobile: string; family?: Family | undefined },
): Promise<Pick<Duplicates, 'emailInUse' | 'mobileInUse'>> {
  const r = (await conn.select(...duplicateColumns(conn, { ...q, ownAccountId: q.accountId }, OPEN_CARD)).first()) as DuplicateRow;
  const { emailInUse, mobileInUse } = toDuplicates(r);
  return { emailInUse, mobileInUse };
}

export async function findApplication(conn: Conn, id: string): Promise<Application | undefined> {
  const r = (await conn('applications').where({ id }).first()) as Row | undefined;
  return r ? toApplication(r) : undefined;
}

/** The application, row-locked until the transaction ends: a decision is taken once. */
export async function lockApplication(conn: Conn, id: string): Promise<Application | undefined> {
  const r = (await conn('applications').where({ id }).forUpdate().first()) as Row | undefined;
  return r ? toApplication(r) : undefined;
}

/** Applications in this status, at most `limit`: the review queue oldest first, anything else newest first. */
export async function listApplications(
  conn: Conn,
  q: { status?: ApplicationStatus | undefined; limit?: number },
): Promise<Application[]> {
  const order = q.status === 'review' ? 'asc' : 'desc';
  const query = conn('applications').orderBy('created_at', order).orderBy('id', order).limit(q.limit ?? 100);
  if (q.status) query.where({ status: q.status });
  return ((await query) as Row[]).map(toApplication);
}

/** Records the operator's decision on an application that is in review. */
export async function decideApplication(
  conn: Conn,
  id: string,
  d: { status: 'approved' | 'rejected'; reason: string | null; note: string | null; decidedBy: string },
): Promise<void> {
  await conn('applications')
    .where({ id, status: 'review' })
    .update({ status: d.status, reason: d.reason, decision_note: d.note, decided_by: d.decidedBy, decided_at: conn.fn.now() });
}
