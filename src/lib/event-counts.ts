/** A secret someone may try to guess, checked under the throttles (throttles/guard-attempt.ts). */
export type Guessable = 'password' | 'second_factor' | 'one_time_code' | 'operator_token';

/**
 * Events an operator counts and alerts on. The parts that see an event report it here, through the deps
 * object they already take; the composition root decides where the counts go (src/metrics), so no
 * domain knows the metrics library. Report an event once, where its outcome is certain.
 */
export interface EventCounts {
  /** A payment's approval decided (and committed): `approved`, or the refusal's code (approvals/errors.ts). */
  approval(outcome: string): void;
  /** A guessable check that failed: a wrong card password, second-factor code or one-time code. */
  failedCheck(check: Guessable): void;
  /** A card number locked by the wrong guess that reached the lockout limit. */
  lockout(): void;
  /** An attempt refused unchecked because its source (`ip`, `device`) must wait. */
  throttled(scope: string): void;
  /** An outbox message's delivery attempt: sent, failed and to be tried again, or failed for good. */
  notification(channel: string, outcome: 'sent' | 'retry' | 'failed'): void;
  /** A Logout Token's post to a member site (Back-Channel Logout): delivered, failed to be tried again, or failed for good. */
  backchannelLogout(outcome: 'sent' | 'retry' | 'failed'): void;
  /** An approval event's push to a member site (RFC 8935): delivered, failed to be tried again, or failed for good. */
  approvalEvent(outcome: 'sent' | 'retry' | 'failed'): void;
}

/** Counts nothing: the default wherever no counts are given (the CLI, metrics off). */
export const NO_COUNTS: EventCounts = {
  approval() {},
  failedCheck() {},
  lockout() {},
  throttled() {},
  notification() {},
  backchannelLogout() {},
  approvalEvent() {},
};
