import type { Db } from '../db/knex.ts';
import { claimDueMessages, markAttemptFailed, markSent, redactOutboxData, type OutboxMessage } from '../db/outbox.ts';
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
 * Claims one due message (SKIP LOCKED: a message another sender holds is skipped, never sent twice),
 * delivers it and records the outcome in the same transaction. Secrets in its data go once it is settled.
 */
async function sendNext(deps: SenderDeps): Promise<Outcome> {
  const attempt = await inTransaction(deps.db, async (trx): Promise<Attempt | undefined> => {
    const [m] = await claimDueMessages(trx, 1);
    if (!m) return undefined;
    const line = { outboxId: m.id, channel: m.channel, template: m.template, attempt: m.attempts + 1 };
    try {
      await deliver(deps, m);
      await markSent(trx, m.id);
      await redactOutboxData(trx, m.id, templateSecrets(m.template));
      deps.log.info(line, 'notification sent');
      return { channel: m.channel, outcome: 'sent' };
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      await markAttemptFailed(trx, m.id, message, deps.maxAttempts);
      const last = m.attempts + 1 >= deps.maxAttempts;
      if (last) await redactOutboxData(trx, m.id, templateSecrets(m.template));
      deps.log.warn({ ...line, error: message }, 'notification not sent');
      return { channel: m.channel, outcome: last ? 'failed' : 'retry' };
    }
  });
  if (!attempt) return 'none';
  // Counted once its record is committed: a message delivered whose record then failed to commit is sent
  // again (at least once) and counted when that attempt's record commits.
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
