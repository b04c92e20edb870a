import { expireHolds } from '../approvals/expire.ts';
import type { Logger } from '../log.ts';
import { billingRun } from './billing-run.ts';
import { checkLedger } from './check-ledger.ts';
import { sweepDelinquency } from './delinquency.ts';
import type { LedgerDeps } from './deps.ts';

export interface LedgerJobIntervals {
  /** Seconds between hold-expiry sweeps; 0: off. */
  expireSeconds: number;
  /** Seconds between billing runs (each followed by the delinquency sweep); 0: off. */
  billingSeconds: number;
  /** Seconds between checks that the books add up; 0: off. */
  checkSeconds: number;
}

/** Runs `job` every `seconds` (0: never), one at a time in this process; failures are logged, not thrown. */
function every(seconds: number, log: Logger, name: string, job: () => Promise<void>): () => void {
  if (seconds <= 0) return () => {};
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    job()
      .catch((err: unknown) => log.warn({ err, job: name }, `${name} failed`))
      .finally(() => {
        running = false;
      });
  }, seconds * 1000);
  timer.unref();
  return () => clearInterval(timer);
}

/**
 * The ledger's background jobs inside the server: releasing expired holds, the billing run with
 * the delinquency sweep after it, and the check that the books add up. Every instance may run them: expiry locks with SKIP LOCKED, billing
 * batches take turns on an advisory lock and statements are unique per account and date, the sweep
 * re-checks each account under its row lock. Returns a function that stops them.
 */
export function startLedgerJobs(deps: LedgerDeps, log: Logger, every_: LedgerJobIntervals): () => void {
  const stopExpiry = every(every_.expireSeconds, log, 'hold expiry', async () => {
    // Bounded per tick so one tick never runs long; the rest is picked up by the next.
    const released = await expireHolds(deps, { maxBatches: 10 });
    if (released) log.info({ released }, 'expired holds released');
  });
  const stopBilling = every(every_.billingSeconds, log, 'billing run', async () => {
    let last = 0;
    const run = await billingRun(deps, {
      onProgress: (p) => {
        if (p.seconds - last >= 10) {
          last = p.seconds;
          log.info(p, 'billing run in progress');
        }
      },
    });
    if (run.statements) log.info(run, 'billing run closed statements');
    const flagged = await sweepDelinquency(deps);
    if (flagged) log.info({ flagged }, 'accounts flagged delinquent');
  });
  // Read only: every instance may run it. A finding is an error for whoever watches the logs: money appeared or vanished.
  const stopCheck = every(every_.checkSeconds, log, 'ledger check', async () => {
    const check = await checkLedger(deps.db);
    if (check.ok) log.info({ scope: check.scope }, 'ledger check: the books add up');
    else log.error({ counts: check.counts, findings: check.findings.slice(0, 20) }, 'ledger check: the books do NOT add up (npm run cli -- ledger check)');
  });
  return () => {
    stopExpiry();
    stopBilling();
    stopCheck();
  };
}
