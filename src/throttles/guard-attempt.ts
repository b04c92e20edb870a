import { appendAudit } from '../db/audit-log.ts';
import { findCardByNumberHmac } from '../db/cards.ts';
import type { Db } from '../db/knex.ts';
import {
  recordCardFailure,
  releaseAttempt,
  reserveAttempt,
  type CardFailure,
  type CardLimits,
  type SourceLimits,
  type ThrottleKey,
  type ThrottleRow,
} from '../db/throttles.ts';
import { atCommit } from '../db/request-scope.ts';
import { inTransaction } from '../db/tx.ts';
import { NO_COUNTS, type EventCounts, type Guessable } from '../lib/event-counts.ts';
import { hmacSha256 } from '../lib/hmac.ts';
import { ipKey } from '../lib/ip-key.ts';
import { formatLocalTime, localTime } from '../lib/local-time.ts';
import { notifyHolder } from '../notifications/notify.ts';

/** What the throttles need from the composition root. */
export interface ThrottleDeps {
  db: Db;
  limits: { card: CardLimits; source: SourceLimits };
  /** Keys device ids (as known_devices does) so the table never holds a replayable cookie value. */
  cardHmacKey: Buffer;
  /** Where failed checks, lockouts and throttled attempts are counted (metrics); absent: nowhere. */
  counts?: EventCounts;
  /** The time zone the end of a lock is told in, on pages and in the notice (config billing.timeZone). */
  timeZone: string;
}

/** Where an attempt comes from: the client address and the browser's device cookie id, if it has one. */
export interface AttemptSource {
  ip: string;
  deviceId?: string | undefined;
  requestId?: string | undefined;
}

export type Guarded<T> =
  | { kind: 'ok'; value: T }
  | { kind: 'failed'; error: unknown }
  /** The source (network or browser) must wait: nothing was checked, no card counter moved. */
  | { kind: 'throttled'; retryAfterSeconds: number }
  /** The card is locked (or has just been locked by this failure). */
  | { kind: 'locked'; until: Date | null };

/** The source rows an attempt counts against. */
export function sourceKeys(deps: ThrottleDeps, source: AttemptSource): ThrottleKey[] {
  const keys: ThrottleKey[] = [{ scope: 'ip', key: ipKey(source.ip) }];
  if (source.deviceId) keys.push({ scope: 'device', key: hmacSha256(deps.cardHmacKey, `device:${source.deviceId}`).toString('hex') });
  return keys;
}

/** Whole seconds until `until` (at least 1). */
export function secondsUntil(until: Date | null, now = Date.now()): number {
  return until ? Math.max(1, Math.ceil((until.getTime() - now) / 1000)) : 1;
}

/**
 * Runs one guessable check (a password, a second-factor code) under the per-source throttle and the
 * per-card lockout. The attempt is reserved first (one statement), so parallel guesses cannot slip past
 * a limit; `attempt` runs only if neither source nor card refuses. When it throws an error `isFailure`
 * recognises, the card keeps the failure, and the failure that reaches the limit locks the card: that
 * lock is audited and the holder notified in one transaction. Any other outcome gives the reservation back:
 * a success as the request commits (in its transaction, so it costs no commit of its own; a request that
 * fails with a server error keeps it counted), an unexpected error at once.
 *
 * `who.check` says what is guessed, for the counts (deps.counts) of failed checks; lockouts and throttled
 * attempts are counted too. Each is counted once its row is written on deps.db, the throttles' own pool
 * outside the request (app.ts), committed whatever the request's outcome: no count precedes a rollback.
 */
export async function guardAttempt<T>(
  deps: ThrottleDeps,
  who: { source: AttemptSource; cardKey: string | undefined; check: Guessable },
  attempt: () => Promise<T>,
  isFailure: (err: unknown) => boolean,
): Promise<Guarded<T>> {
  const sources = sourceKeys(deps, who.source);
  const rows = await reserveAttempt(deps.db, sources, who.cardKey, deps.limits);
  const wait = sourceWait(deps, rows);
  if (wait !== undefined) return { kind: 'throttled', retryAfterSeconds: wait };
  const card = rows.find((r) => r.scope === 'card');
  // An attempt at a locked card still counts against its source: probing locked cards is guessing too.
  if (card?.refused) return { kind: 'locked', until: card.blockedUntil };
  const reserved: ThrottleKey[] = [...sources, ...(who.cardKey ? [{ scope: 'card' as const, key: who.cardKey }] : [])];
  let value: T;
  try {
    value = await attempt();
  } catch (err) {
    if (!isFailure(err)) {
      await releaseAttempt(deps.db, reserved);
      throw err;
    }
    const counts = deps.counts ?? NO_COUNTS;
    counts.failedCheck(who.check);
    if (!who.cardKey) return { kind: 'failed', error: err };
    const failure = await lockIfDue(deps, who.cardKey, who.source.requestId);
    if (!failure?.locked) return { kind: 'failed', error: err };
    counts.lockout();
    return { kind: 'locked', until: failure.blockedUntil };
  }
  // releaseAttempt sends one statement at most.
  await atCommit(deps.db, (conn) => releaseAttempt(conn, reserved), { oneStatement: true });
  return { kind: 'ok', value };
}

/** Seconds the refusing sources among `rows` say to wait, each refusing source counted; undefined when none refused. */
function sourceWait(deps: ThrottleDeps, rows: readonly ThrottleRow[]): number | undefined {
  const blocked = rows.filter((r) => r.scope !== 'card' && r.refused);
  if (!blocked.length) return undefined;
  for (const r of blocked) (deps.counts ?? NO_COUNTS).throttled(r.scope);
  return secondsUntil(new Date(Math.max(...blocked.map((r) => r.blockedUntil?.getTime() ?? 0))));
}

/**
 * Counts a request that makes the card manager message a holder (a one-time code) against its source, as a
 * failed guess counts, and answers how long the source must wait first (undefined: go ahead). One network or
 * browser cannot have many holders messaged, nor time the answers to learn which card numbers exist.
 */
export async function countAgainstSource(deps: ThrottleDeps, source: AttemptSource): Promise<number | undefined> {
  return sourceWait(deps, await reserveAttempt(deps.db, sourceKeys(deps, source), undefined, deps.limits));
}

/** Records the card failure; when it locks the card, audits it and tells the holder. The failure as recorded. */
async function lockIfDue(deps: ThrottleDeps, cardKey: string, requestId: string | undefined): Promise<CardFailure | undefined> {
  return inTransaction(deps.db, async (trx) => {
    const failure = await recordCardFailure(trx, cardKey, deps.limits.card);
    if (!failure?.locked) return failure;
    const card = await findCardByNumberHmac(trx, Buffer.from(cardKey, 'hex'));
    if (!card) return failure; // a number no card has: locked all the same, so it reads like a real one
    await appendAudit(trx, {
      actor: 'system',
      action: 'card.locked',
      subjectType: 'card',
      subjectId: card.id,
      details: { accountId: card.accountId, until: failure.blockedUntil?.toISOString(), strikes: failure.strikes },
      requestId,
    });
    // The notice tells the holder to reset the password or block the card: of a card in use. One replaced, reported
    // lost, closed or blocked works no more whatever is guessed; its lock is audited (the activity shows it) and no more.
    if (card.status !== 'active') return failure;
    await notifyHolder(trx, card.accountId, 'card_locked', {
      last4: card.last4,
      until: failure.blockedUntil ? localTime(failure.blockedUntil, deps.timeZone) : '',
    });
    return failure;
  });
}

/** The holder's words for a card lock, on every page that can meet one; its end in `timeZone` (formatLocalTime). */
export function lockedMessage(until: Date | null, timeZone: string): string {
  return (
    'This card is locked after too many wrong passwords or codes' +
    (until ? `, until ${formatLocalTime(until, timeZone)}.` : '.') +
    ' You can unlock it now by resetting your password.'
  );
}

/**
 * The holder's words for a wrong card number or password, with the lockout policy (public), so that a holder who
 * mistypes knows to stop. Never the count a card has reached: that row also counts other people's failures (the
 * holder's own typos, someone else's guesses), which whoever types only a number must not learn, nor tell a real
 * card by them from a number no card has.
 */
export function wrongPasswordMessage(maxFailures: number): string {
  return `The card number or password is not correct. ${maxFailures} wrong passwords lock the card for a while.`;
}

/** The holder's words for a source that must wait. */
export function throttledMessage(retryAfterSeconds: number): string {
  const wait = retryAfterSeconds === 1 ? '1 second' : `${retryAfterSeconds} seconds`;
  return `Too many attempts from this network or device. Wait ${wait}, then try again.`;
}
