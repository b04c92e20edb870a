import { Counter, type Registry } from 'prom-client';
import { SITE_DESCRIPTIONS } from '../approvals/site-descriptions.ts';
import type { EventCounts, Guessable } from '../lib/event-counts.ts';

/** A counter's children by label values, made once each (prom-client's labels() allocates at every call). */
function children(counter: Counter<string>): (...values: string[]) => Counter.Internal {
  const made = new Map<string, Counter.Internal>();
  return (...values) => {
    const key = values.join('\u0000');
    let child = made.get(key);
    if (!child) made.set(key, (child = counter.labels(...values)));
    return child;
  };
}

const CHECKS: readonly Guessable[] = ['password', 'second_factor', 'one_time_code', 'operator_token'];
const OUTCOMES = ['sent', 'retry', 'failed'] as const;

/**
 * The domain events (lib/event-counts.ts) as Prometheus counters. Every label value known ahead starts
 * at 0, so each series exists before its first event (rate() and increase() lose a series' first one).
 */
export function eventCounters(registry: Registry): EventCounts {
  const registers = [registry];
  const approvals = children(
    new Counter({
      name: 'cybercard_approvals_total',
      help: 'Payment approvals decided on the hosted pages: outcome approved, or the refusal code (over_limit, under_age, card_locked, …).',
      labelNames: ['outcome'],
      registers,
    }),
  );
  const failedChecks = children(
    new Counter({
      name: 'cybercard_failed_checks_total',
      help: 'Failed guessable checks, by what was checked: a card password, a second-factor code, a one-time code, an operator token (console sign-in).',
      labelNames: ['check'],
      registers,
    }),
  );
  const lockouts = new Counter({
    name: 'cybercard_card_lockouts_total',
    help: 'Card numbers locked by the wrong password or code that reached the lockout limit.',
    registers,
  });
  const throttled = children(
    new Counter({
      name: 'cybercard_throttled_attempts_total',
      help: 'Attempts refused with 429 because their source must wait, by the source throttle that refused (ip, device; both when both did).',
      labelNames: ['scope'],
      registers,
    }),
  );
  const notifications = children(
    new Counter({
      name: 'cybercard_notifications_total',
      help: 'Outbox delivery attempts by channel and outcome: sent, retry (failed, tried again later), failed (the last attempt failed).',
      labelNames: ['channel', 'outcome'],
      registers,
    }),
  );
  const logouts = children(
    new Counter({
      name: 'cybercard_backchannel_logouts_total',
      help: 'Logout Tokens posted to member sites for sessions the card manager ended (a card blocked, lost, closed, reissued, a password changed or reset), by outcome: sent, retry, failed (the last attempt failed).',
      labelNames: ['outcome'],
      registers,
    }),
  );
  for (const outcome of OUTCOMES) logouts(outcome).inc(0);
  const approvalEvents = children(
    new Counter({
      name: 'cybercard_approval_events_total',
      help: 'Approval events (Security Event Tokens) pushed to member sites (a hold revoked or expired, a report opened or decided), by outcome: sent, retry, failed (the last attempt failed, or the site refused it with 400).',
      labelNames: ['outcome'],
      registers,
    }),
  );
  for (const outcome of OUTCOMES) approvalEvents(outcome).inc(0);
  for (const outcome of ['approved', ...Object.keys(SITE_DESCRIPTIONS)]) approvals(outcome).inc(0);
  for (const check of CHECKS) failedChecks(check).inc(0);
  for (const scope of ['ip', 'device']) throttled(scope).inc(0);
  for (const channel of ['email', 'sms']) for (const outcome of OUTCOMES) notifications(channel, outcome).inc(0);

  return {
    approval: (outcome) => approvals(outcome).inc(),
    failedCheck: (check) => failedChecks(check).inc(),
    lockout: () => lockouts.inc(),
    throttled: (scope) => throttled(scope).inc(),
    notification: (channel, outcome) => notifications(channel, outcome).inc(),
    backchannelLogout: (outcome) => logouts(outcome).inc(),
    approvalEvent: (outcome) => approvalEvents(outcome).inc(),
  };
}
