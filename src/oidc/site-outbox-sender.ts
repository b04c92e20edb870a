import type { Db } from '../db/knex.ts';
import { claimDue, markAttemptFailed, markSent, type SiteOutbox } from '../db/outbox-leases.ts';
import type { Logger } from '../log.ts';
import { NonPublicAddressError } from './provider-fetch.ts';

/**
 * What the senders of signed posts to member sites share (Logout Tokens: send-logout-tokens.ts; approval events:
 * send-approval-events.ts): claim one due row under a lease, post it with no transaction or lock held (the site may
 * take timeoutMs to answer), record the outcome, count it, log it by site and outbox id only; drain until none is due;
 * drain periodically.
 */
export type Outcome = 'sent' | 'retry' | 'failed';

/** A post no later attempt can deliver: the site is closed, took its URI away, or refused it for good. */
export class Undeliverable extends Error {}

/**
 * Whether no later attempt could deliver what this attempt failed with: Undeliverable, or a URI the provider's fetch
 * refused to connect to because it is (or its name resolves to) a non-public address. That guard is a decision on
 * where the site's name points, which the site controls, not a passing fault: it is made again, on a fresh lookup,
 * at every attempt, and retries would only repeat the refusal (and hold up the site's later approval events, sent in
 * order) for the backoff's quarter of an hour. Given up at once instead; once the site has moved its name, the operator
 * sends it again (deliveries retry). A lookup that failed (no answer, no such name) is a passing fault and tried again.
 */
function givesUp(err: unknown): boolean {
  return err instanceof Undeliverable || err instanceof NonPublicAddressError;
}

/** How much longer than a post may take a claimed row stays claimed (seconds): the record of its outcome included. */
const LEASE_MARGIN_SECONDS = 60;

export interface SiteOutboxSender<T extends { id: number; attempts: number }> {
  db: Db;
  log: Logger;
  table: SiteOutbox;
  /** The columns a claim returns, and the row they make. */
  columns: readonly string[];
  toItem(row: Record<string, unknown>): T;
  /** Posts one; throws to fail this attempt (Undeliverable, or a non-public address refused: every attempt). */
  deliver(item: T): Promise<void>;
  /** The log line's fields: ids only, never a subject, card or holder. */
  line(item: T): Record<string, unknown>;
  /** What the log lines call one ('back-channel logout'). */
  what: string;
  count(outcome: Outcome): void;
  /** Each site's rows one at a time, in the order they were queued (db/outbox-leases.ts claimDue). */
  inOrderPerSite?: boolean;
  maxAttempts: number;
  timeoutMs: number;
}

export interface SendResult {
  sent: number;
  failed: number;
}

async function sendNext<T extends { id: number; attempts: number }>(s: SiteOutboxSender<T>): Promise<Outcome | undefined> {
  const row = await claimDue(s.db, s.table, s.columns, Math.ceil(s.timeoutMs / 1000) + LEASE_MARGIN_SECONDS, { inOrderPerSite: s.inOrderPerSite ?? false });
  if (!row) return undefined;
  const item = s.toItem(row);
  const line = { ...s.line(item), attempt: item.attempts + 1 };
  let outcome: Outcome = 'sent';
  try {
    await s.deliver(item);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    const giveUp = givesUp(err);
    await markAttemptFailed(s.db, s.table, item.id, message, s.maxAttempts, giveUp);
    outcome = giveUp || item.attempts + 1 >= s.maxAttempts ? 'failed' : 'retry';
    s.log.warn({ ...line, error: message }, outcome === 'failed' ? `${s.what} given up` : `${s.what} not delivered: tried again later`);
  }
  if (outcome === 'sent') {
    await markSent(s.db, s.table, item.id);
    s.log.info(line, `${s.what} delivered`);
  }
  s.count(outcome);
  return outcome;
}

/**
 * Posts at once, per drain: a site that keeps its post waiting (up to timeoutMs) holds up one of them, not every other
 * site's logouts and events behind it. Claims are leases taken with SKIP LOCKED, so the posts never share a row, and no
 * connection is held while a post waits.
 */
export const POSTS_AT_ONCE = 8;

/** Posts due rows until none is due or `limit` were tried; a failed one waits for its backoff, so each is tried once. */
export async function sendDue<T extends { id: number; attempts: number }>(s: SiteOutboxSender<T>, limit: number): Promise<SendResult> {
  const result: SendResult = { sent: 0, failed: 0 };
  let tried = 0;
  async function poster(): Promise<void> {
    while (tried < limit) {
      tried++;
      const outcome = await sendNext(s);
      if (!outcome) return;
      result[outcome === 'sent' ? 'sent' : 'failed']++;
    }
  }
  await Promise.all(Array.from({ length: Math.min(POSTS_AT_ONCE, limit) }, poster));
  return result;
}

/** A sender draining its outbox periodically (startDraining). */
export interface Drainer {
  stop(): void;
  /**
   * Drains now, without waiting for the next pass: rows were just queued (and committed). A drain under way is run
   * once more when it ends, since it may have looked before they were there. Nothing while draining is off or stopped.
   */
  nudge(): void;
}

/**
 * Runs `drain` every `intervalSeconds` (0 turns it off), and when nudged; never two drains of this process at once;
 * other instances may drain too.
 */
export function startDraining(drain: () => Promise<unknown>, log: Logger, what: string, intervalSeconds: number): Drainer {
  if (intervalSeconds <= 0) return { stop() {}, nudge() {} };
  let running = false;
  let again = false;
  let stopped = false;
  function run(): void {
    running = true;
    drain()
      .catch((err: unknown) => log.warn({ err }, `${what} sender failed`))
      .finally(() => {
        running = false;
        if (again && !stopped) {
          again = false;
          run();
        }
      });
  }
  const timer = setInterval(() => {
    if (!running) run();
  }, intervalSeconds * 1000);
  timer.unref();
  return {
    stop() {
      stopped = true;
      clearInterval(timer);
    },
    nudge() {
      if (stopped) return;
      if (running) again = true;
      else run();
    },
  };
}
