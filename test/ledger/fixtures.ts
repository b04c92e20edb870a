import { approve } from '../../src/approvals/approve.ts';
import type { Approval } from '../../src/db/approvals.ts';
import { ledgerDeps, type LedgerDeps } from '../../src/ledger/deps.ts';
import { capture } from '../../src/approvals/capture.ts';
import { inTransaction } from '../../src/db/tx.ts';
import { billingRun } from '../../src/ledger/billing-run.ts';
import { todayIn } from '../../src/ledger/calendar.ts';
import { birthdateForAge } from '../helpers/applicant.ts';
import { issueTestCard, type TestCard, type TestSite } from '../helpers/fixtures.ts';
import { connect, createTestDatabase, dropTestDatabase } from '../helpers/db.ts';
import { startCardManager, type TestServer } from '../helpers/server.ts';

/** The ledger's dependencies as the server wires them. */
export function ledgerOf(ts: TestServer): LedgerDeps {
  return ledgerDeps(ts.config, ts.db);
}

/** The approvals dependencies as the server wires them (delinquency policy included). */
export function approvalsOf(ts: TestServer) {
  const ledger = ledgerOf(ts);
  return { db: ts.db, policy: { currency: 'KRW', holdSeconds: 3600, delinquency: ledger.delinquency } };
}

/**
 * A real card whose account has this credit limit and, unless `extra` says otherwise, today's statement
 * day: a billing run today then dates its statement today, due well in the future (never overdue).
 */
export async function cardWithLimit(ts: TestServer, limit: number, extra: Record<string, unknown> = {}): Promise<TestCard> {
  const card = await issueTestCard(ts);
  await ts.db('accounts')
    .where({ id: card.accountId })
    .update({ credit_limit: limit, statement_day: statementDayToday(ts.config.billing.timeZone), ...extra });
  return card;
}

/** Approves a payment through the real approvals domain. */
export function approveFor(ts: TestServer, card: TestCard, site: TestSite, amount: number, description = 'Item'): Promise<Approval> {
  return approve(approvalsOf(ts), {
    accountId: card.accountId,
    cardId: card.cardId,
    clientId: site.clientId,
    amount,
    currency: 'KRW',
    description,
    contentRef: null,
    rating: 0,
  });
}

export function basicAuth(s: TestSite): string {
  return `Basic ${Buffer.from(`${encodeURIComponent(s.clientId)}:${encodeURIComponent(s.clientSecret)}`).toString('base64')}`;
}

/** A JSON call to the operator API. */
export async function operator(ts: TestServer, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${ts.url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${ts.config.secrets.operatorToken}`,
      ...(body !== undefined && typeof body !== 'string' ? { 'content-type': 'application/json' } : {}),
      ...headers,
    },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  const text = await res.text();
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // CSV or empty
  }
  return { status: res.status, json, text, headers: res.headers };
}

/** Every journal entry balances per currency (the database enforces it; this reads it back). */
export async function unbalancedEntries(ts: TestServer): Promise<number> {
  const r = await ts.db.raw('SELECT count(*) AS n FROM (SELECT entry_id FROM postings GROUP BY entry_id, currency HAVING sum(amount) <> 0) x');
  return Number((r as { rows: Array<{ n: string }> }).rows[0]!.n);
}

/** Today's day of the month (1–28 clamps to 28): a statement day that makes today's run close a period. */
export function statementDayToday(timeZone: string): number {
  const day = Number(new Intl.DateTimeFormat('en-CA', { timeZone, day: '2-digit' }).format(new Date()));
  return Math.min(day, 28);
}

/**
 * The card manager on a database of its own: billing runs close every account they find, so a ledger
 * test never bills (or makes overdue) the cards of other test files sharing the run's database.
 */
export async function startLedgerServer(overrides: Record<string, unknown> = {}, opts: Parameters<typeof startCardManager>[1] = {}): Promise<TestServer> {
  const databaseUrl = await createTestDatabase('cybercard_ledger');
  // Tests need no durability across a machine crash: commits need not wait for the disk (benchmarks do).
  const name = new URL(databaseUrl).pathname.slice(1);
  const admin = connect(databaseUrl, 1);
  await admin.raw(`ALTER DATABASE "${name}" SET synchronous_commit = off`);
  await admin.destroy();
  const ts = await startCardManager({ databaseUrl, ...overrides }, opts);
  const stop = ts.stop.bind(ts);
  ts.stop = async () => {
    await stop();
    if (process.env.KEEP_TEST_DB !== '1') await dropTestDatabase(databaseUrl);
  };
  return ts;
}

/** What a statement day outside 1–28 is told, on the holder's and the operator's forms alike. */
export const STATEMENT_DAY_RANGE = 'A whole number from 1 to 28 (the day of the month statements close on).';

/** Today in the deployment's billing time zone (YYYY-MM-DD). */
export const billingToday = (ts: TestServer) => new Intl.DateTimeFormat('en-CA', { timeZone: ts.config.billing.timeZone }).format(new Date());

/** `date` plus `days`, as a date (YYYY-MM-DD). */
export const plusDays = (date: string, days: number) => new Date(Date.parse(`${date}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);

/** The first date after `date` that is day `day` of its month, counted a day at a time (not the code's calendar). */
export function nextDateOnDay(day: number, date: string): string {
  let d = plusDays(date, 1);
  while (Number(d.slice(8)) !== day) d = plusDays(d, 1);
  return d;
}

/** The name of the minor in familyOf. */
export const CHILD = 'Minji Kim';

/**
 * A guardian and the minor linked to their card, the minor's statement dated 30 days back (due 14 days after it, 5
 * days' grace) with 3,000 KRW unpaid: the child is overdue today, the guardian's own statement (nothing on it) is not.
 */
export async function familyWithOverdueChild(ts: TestServer, site: TestSite): Promise<{ guardian: TestCard; minor: TestCard }> {
  const family = await familyOf(ts);
  await makeOverdue(ts, site, family);
  return family;
}

/** A guardian (with an email address to be told at: a holder without one is sent nothing) and the minor linked to their card. */
export async function familyOf(ts: TestServer): Promise<{ guardian: TestCard; minor: TestCard }> {
  const guardian = await cardWithLimit(ts, 100_000, { email: 'guardian@example.test' });
  // A real minor's birthdate: housekeeping releases grown-up wards within a minute of start (start-housekeeping.ts).
  const minor = await cardWithLimit(ts, 20_000, { guardian_account_id: guardian.accountId, birthdate: birthdateForAge(15), legal_name: CHILD });
  return { guardian, minor };
}

/** The minor's 3,000 KRW on a statement dated 30 days back, unpaid: overdue today; the guardian's own statement owes nothing. */
export async function makeOverdue(ts: TestServer, site: TestSite, family: { guardian: TestCard; minor: TestCard }): Promise<void> {
  await billOverdue(ts, site, family, family.minor, 3_000);
}

/** The guardian's own 2,000 KRW on a statement dated 30 days back, unpaid: the guardian is overdue, the minor owes nothing. */
export async function makeGuardianOverdue(ts: TestServer, site: TestSite, family: { guardian: TestCard; minor: TestCard }): Promise<void> {
  await billOverdue(ts, site, family, family.guardian, 2_000);
}

async function billOverdue(ts: TestServer, site: TestSite, { guardian, minor }: { guardian: TestCard; minor: TestCard }, who: TestCard, amount: number): Promise<void> {
  const bought = await approveFor(ts, who, site, amount, 'Comic');
  await inTransaction(ts.db, (trx) => capture(trx, { approvalNo: bought.approvalNo, actor: 'test' }));
  const d = new Date(`${todayIn(ts.config.billing.timeZone)}T12:00:00Z`);
  d.setUTCDate(d.getUTCDate() - 30);
  if (d.getUTCDate() > 28) d.setUTCDate(28);
  // A ward is billed on its guardian's statement day.
  await ts.db('accounts').whereIn('id', [guardian.accountId, minor.accountId]).update({ statement_day: d.getUTCDate() });
  await billingRun(ledgerOf(ts), { date: d.toISOString().slice(0, 10), cutoff: new Date() });
}
