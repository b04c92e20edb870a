import type { Db } from '../db/knex.ts';
import { releaseAttempt, takeQuota, type ThrottleKey } from '../db/throttles.ts';
import { AppError } from '../errors.ts';
import { secondsUntil } from './guard-attempt.ts';

/** How many uses of what (a throttle row) a window of how long allows. */
export interface Quota {
  key: ThrottleKey;
  max: number;
  windowSeconds: number;
}

/** An action refused because its quota is spent for now: 429, with Retry-After. */
export class QuotaSpentError extends AppError {
  readonly retryAfterSeconds: number;
  constructor(code: string, message: string, retryAfterSeconds: number) {
    super(code, message, { status: 429 });
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/**
 * Runs `action` with one use of the quota taken on `db` (the throttles' own pool, committed whatever the request's
 * outcome, so every instance sees it at once). While the quota is spent, `action` never runs: `refuse(windowEnds)`
 * says what to throw (and may record the refusal). An action that throws gives its use back, so only what was done
 * counts (a wrong password counts towards the lockout instead).
 */
export async function withinQuota<T>(db: Db, quota: Quota, refuse: (windowEnds: Date, retryAfterSeconds: number) => Promise<Error>, action: () => Promise<T>): Promise<T> {
  const use = await takeQuota(db, quota.key, quota.max, quota.windowSeconds);
  if (!use.taken) throw await refuse(use.windowEnds, secondsUntil(use.windowEnds));
  try {
    return await action();
  } catch (err) {
    await releaseAttempt(db, [quota.key]);
    throw err;
  }
}
