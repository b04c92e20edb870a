import type { Db } from '../db/knex.ts';
import { claimDueMessage, markAttemptFailed, markSent, redactOutboxData, type OutboxMessage } from '../db/outbox.ts';
import { inTransaction } from '../db/tx.ts';
import { NO_COUNTS, type EventCounts } from '../lib/event-counts.ts';
import type { Logger } from '../log.ts';
import { renderMessage, templateSecrets } from './templates.ts';
import type { Transports } from './transport.ts';

export interface SenderDeps {
  db: Db;
  log: Logger;
  transports: Transports;
  /** Public address of the card manager, for links in messages. */
  baseUrl: string;
  /** Attempts before a message is marked failed. */
  maxAttempts: number;
  /** Where delivery attempts are counted (metrics); absent: nowhere. */
  counts?: EventCounts;
}

export interface SendResult {
  sent: number;
  failed: number;
}

type Outcome = 'sent' | 'failed' | 'none';

/** One message's attempt as counted: sent, failed with attempts left (retry), or failed for good. */
interface Attempt {
  channel: OutboxMessage['channel'];
  outcome: 'sent' | 'retry' | 'failed';
}

async function deliver(deps: SenderDeps, m: OutboxMessage): Promise<void> {
  const { subject, text } = renderMessage(m.template, m.data, deps.baseUrl, m.locale, m.channel);
  await deps.transports[m.channel].send({ id: m.id, channel: m.channel, to: m.recipient, subject, text, template: m.template });
}

/**
 * How long a claimed message stays claimed (seconds): longer than either transport may take to give up, the record of
 * the outcome included. The SMS webhook gives up after 10 s; SMTP (email-transport.ts) after 10 s to connect and 10 s
 * to greet, and 30 s without a word at each of the few commands a message takes, some 4 minutes at the very worst. A
 * sender that dies mid-send leaves its message to be sent again after it.
 */
export const SEND_LEASE_SECONDS = 300;

/**
 * Claims one due message under a lease (SKIP LOCKED: a message another sender holds is skipped, never sent twice),
 * delivers it with no transaction open (a gateway slower than the database lets a transaction idle would otherwise
 * lose the claim to another sender while it waits), then records the outcome in one transaction. Secrets in its data
 * go once it is settled.
 */
async function sendNext(deps: SenderDeps): Promise<Outcome> {
  const m = await claimDueMessage(deps.db, SEND_LEASE_SECONDS);
  if (!m) return 'none';
  const line = { outboxId: m.id, channel: m.channel, template: m.template, attempt: m.attempts + 1 };
  let error: string | undefined;
  try {
    await deliver(deps, m);
  } catch (err) {
    error = err instanceof Error ? err.message : String(err);
  }
  const last = m.attempts + 1 >= deps.maxAttempts;
  await inTransaction(deps.db, async (trx) => {
    if (error === undefined) await markSent(trx, m.id);
    else await markAttemptFailed(trx, m.id, error, deps.maxAttempts);
    if (error === undefined || last) await redactOutboxData(trx, m.id, templateSecrets(m.template));
  });
  if (error === undefined) deps.log.info(line, 'notification sent');
  else deps.log.warn({ ...line, error }, 'notification not sent');
  const attempt: Attempt = { channel: m.channel, outcome: error === undefined ? 'sent' : last ? 'failed' : 'retry' };
  // Counted once its record is committed: a message delivered whose record then failed to commit is sent again when
  // its lease ends (at least once), and counted when that attempt's record commits.
  (deps.counts ?? NO_COUNTS).notification(attempt.channel, attempt.outcome);
  return attempt.outcome === 'sent' ? 'sent' : 'failed';
}

/**
 * Sends due messages until none is due or `limit` have been tried. A failed message waits for its
 * backoff, so one drain tries each message at most once.
 */
export async function sendDueNotifications(deps: SenderDeps, limit = 1000): Promise<SendResult> {
  const result: SendResult = { sent: 0, failed: 0 };
  for (let i = 0; i < limit; i++) {
    const outcome = await sendNext(deps);
    if (outcome === 'none') break;
    result[outcome]++;
  }
  return result;
}
