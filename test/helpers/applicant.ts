import { randomBytes, randomInt } from 'node:crypto';
import { loadConfig } from '../../src/config/load.ts';
import type { TestServer } from './server.ts';

/** A password that passes the policy: long enough, no digits runs, not common, not a birthdate. */
export const GOOD_PASSWORD = 'Violet harbor lamps';

/**
 * The calendar the test servers count ages on: billing.timeZone of config/ for NODE_ENV=test (Asia/Seoul), read from
 * the same files startCardManager loads. A test that overrides billing.timeZone passes its own to birthdateForAge.
 */
export const TEST_TIME_ZONE = loadConfig({ env: { NODE_ENV: 'test' } }).billing.timeZone;

/**
 * A date of birth that makes the holder exactly `age` on `now`'s date in `timeZone` (1 January of the year), as ageIn
 * (src/lib/clock.ts) counts: the year is that calendar's, not UTC's, which late on 31 December is a year behind Seoul's.
 */
export function birthdateForAge(age: number, now = new Date(), timeZone = TEST_TIME_ZONE): string {
  const year = Number(new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric' }).format(now));
  return `${year - age}-01-01`;
}

/** A fresh email address nobody in the run's database has used. */
export function uniqueEmail(tag = 'applicant'): string {
  return `${tag}-${randomBytes(5).toString('hex')}@example.com`;
}

// A counter (from a random start), so no two numbers of one run can clash by chance.
let nextMobile = randomInt(0, 5_000_000);

/** A fresh Korean mobile number in national form (010-5xxx-xxxx), E.164 +82105xxxxxxx once stored. */
export function uniqueMobile(): string {
  const n = String(nextMobile++).padStart(7, '0');
  return `010-5${n.slice(0, 3)}-${n.slice(3)}`;
}

/** The E.164 form the card manager stores for uniqueMobile()'s national form. */
export function e164(national: string): string {
  return `+82${national.replace(/\D/g, '').slice(1)}`;
}

/**
 * A legal name nobody in the run's database has: 'Kim' and a made-up given name of letters only (a name and date of
 * birth already held by someone sends an application to review, and every test file of a run shares one database).
 */
export function uniqueName(family = 'Kim'): string {
  const letters = [...randomBytes(8)].map((b) => String.fromCharCode(97 + (b % 26))).join('');
  return `${family} ${letters[0]!.toUpperCase()}${letters.slice(1)}`;
}

/** A client IP of its own (sent as X-Forwarded-For to a server with trustProxy), so daily limits never collide. */
export function uniqueIp(): string {
  return `10.${randomInt(256)}.${randomInt(256)}.${randomInt(1, 255)}`;
}

export type ApplicationBody = Record<string, unknown>;

/** A valid adult application of a person of its own as the JSON API takes it; `over` replaces or adds fields. */
export function application(over: ApplicationBody = {}): ApplicationBody {
  return {
    legal_name: uniqueName(),
    birthdate: '1990-05-17',
    email: uniqueEmail(),
    mobile: uniqueMobile(),
    password: GOOD_PASSWORD,
    password_confirm: GOOD_PASSWORD,
    accept_terms: true,
    ...over,
  };
}

/** Test servers for applications: behind a "proxy" (so each test can be its own client IP) with roomy daily limits. */
export const APPLY_SERVER = {
  trustProxy: true,
  cards: { applicationLimits: { perIpPerDay: 10_000, perEmailPerDay: 3 } },
};

export interface ApiAnswer {
  status: number;
  body: Record<string, unknown>;
}

/** POST /api/applications as JSON from `ip`. */
export async function postApplication(ts: TestServer, body: unknown, ip = uniqueIp()): Promise<ApiAnswer> {
  const res = await fetch(`${ts.url}/api/applications`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-forwarded-for': ip },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** Applies through the API and expects the card to be issued at once; returns the answer's body. */
export async function issueByApplication(ts: TestServer, over: ApplicationBody = {}): Promise<{
  cardNumber: string;
  cardId: string;
  accountId: string;
  password: string;
  email: string;
  body: Record<string, unknown>;
}> {
  const app = application(over);
  const { status, body } = await postApplication(ts, app);
  if (status !== 201) throw new Error(`application not approved: ${status} ${JSON.stringify(body)}`);
  const card = await ts.db('cards').where({ id: body.card_id }).first();
  return {
    cardNumber: String(body.card_number),
    cardId: String(body.card_id),
    accountId: String(card.account_id),
    password: String(app.password),
    email: String(app.email),
    body,
  };
}

/** Row counts of everything an application can write. */
export async function applicationRowCounts(ts: TestServer): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const table of ['applications', 'accounts', 'cards', 'audit_log', 'notifications_outbox']) {
    const r = await ts.db(table).count({ n: '*' }).first();
    out[table] = Number(r?.n ?? 0);
  }
  return out;
}

/**
 * The newest queued message of `template` for the account, to `recipient` if given (its data still holds a code until
 * it is sent).
 */
export async function latestMessage(ts: TestServer, accountId: string, template: string, recipient?: string): Promise<Record<string, unknown> | undefined> {
  const row = await ts.db('notifications_outbox').where({ account_id: accountId, template, ...(recipient ? { recipient } : {}) }).orderBy('id', 'desc').first();
  if (!row) return undefined;
  return (typeof row.data === 'string' ? JSON.parse(row.data) : row.data) as Record<string, unknown>;
}

/** The code in the newest queued message of `template` for the account (to `recipient` if given). */
export async function latestCode(ts: TestServer, accountId: string, template: string, recipient?: string): Promise<string> {
  return String((await latestMessage(ts, accountId, template, recipient))?.code);
}

/** Templates queued for the account, in order, once per message (email and SMS are two rows). */
export async function templatesFor(ts: TestServer, accountId: string): Promise<string[]> {
  const rows = (await ts.db('notifications_outbox').where({ account_id: accountId }).orderBy('id')) as Array<{ template: string }>;
  return rows.map((r) => r.template);
}
