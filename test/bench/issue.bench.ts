/**
 * (i) Card issuances per second through the real application path against the raw argon2id hash
 * rate at the same cost, measured in the same run.
 *
 * An issuance is what an applicant's browser or app does: POST /api/applications over real HTTP,
 * with a new email and mobile each time, answered 201 with the card number. The server validates,
 * checks the daily limits, age, deny list and duplicates, hashes the chosen password once
 * (argon2id, production parameters, with the pepper), then in one transaction under advisory locks
 * opens the account, draws and inserts the card, records the application, the audit entries and the
 * notifications in one statement — six round trips to PostgreSQL in all (BEGIN, a first unlocked look at
 * limits and duplicates, the locks, the exact look under them, the inserts, COMMIT), counted during the
 * warm-up and shown in the notes. The applicants run in a worker thread. The
 * baseline is argon2.hash alone with the production parameters and a pepper, at the same concurrency,
 * in this process: the ratio is the share of the hash rate the rest of the issuance leaves.
 * Target (issue 3): ≥ 0.7×.
 */
import argon2 from 'argon2';
import { randomBytes } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import { BENCH_ROUNDS, CORES, emitFigures, figure, progress, runFor, sliceSeconds, Tally, threadCpuMeter, type Sample } from './harness.ts';
import type { IssueReply, IssueRun } from './issue-worker.ts';
import { PRODUCTION_ARGON2, withBenchCardManager } from './server.ts';

/**
 * Twice libuv's 4 threads (which run argon2): while some issuances wait on PostgreSQL, others' hashes
 * keep the pool busy, as on a server with many applicants at once. The baseline at the same
 * concurrency is pool-bound, so it is the full hash rate either way.
 */
const CONCURRENCY = Number(process.env.BENCH_ISSUE_CONCURRENCY ?? 8);

/** The applicants' worker; run() also measures what this (the server's) thread spent meanwhile. */
function startApplicants() {
  const worker = new Worker(new URL('./issue-worker.ts', import.meta.url), { workerData: { offset: 0 } });
  return {
    run(r: IssueRun): Promise<Sample> {
      const mainCpu = threadCpuMeter();
      return new Promise((resolve, reject) => {
        worker.once('message', (reply: IssueReply) => {
          if (!reply.ok) return reject(new Error(`applicants: ${reply.error}`));
          reply.sample.cpu.main = mainCpu();
          resolve(reply.sample);
        });
        worker.once('error', reject);
        worker.postMessage(r);
      });
    },
    stop: () => worker.terminate(),
  };
}

await withBenchCardManager(
  async (ts) => {
    const applicants = startApplicants();
    try {
      const pepper = randomBytes(32);
      const password = 'Violet harbor lamps';
      async function hashOnce(): Promise<void> {
        await argon2.hash(password, { type: argon2.argon2id, ...PRODUCTION_ARGON2, secret: pepper });
      }

      progress('warming up');
      await runFor(0.5, CONCURRENCY, hashOnce);
      const cards = async () => Number((await ts.db('cards').count({ n: '*' }).first())?.n ?? 0);
      let statements = 0;
      const countStatement = () => void statements++;
      const before = await cards();
      ts.db.on('query', countStatement);
      await applicants.run({ url: ts.url, seconds: 0.5, concurrency: CONCURRENCY });
      ts.db.off('query', countStatement);
      const statementsPerIssuance = statements / ((await cards()) - before);

      const issuances = new Tally();
      const hashes = new Tally();
      for (let r = 0; r < BENCH_ROUNDS; r++) {
        progress(`round ${r + 1}/${BENCH_ROUNDS}: argon2id hash and issuances, ${sliceSeconds()} s each at concurrency ${CONCURRENCY}`);
        hashes.add(await runFor(sliceSeconds(), CONCURRENCY, hashOnce));
        issuances.add(await applicants.run({ url: ts.url, seconds: sliceSeconds(), concurrency: CONCURRENCY }));
      }
      const issued = await cards();

      emitFigures([
        figure({
          id: 'i',
          title: 'card issuances (POST /api/applications)',
          unit: 'issuances/s',
          measured: issuances.side('application → active card', CONCURRENCY),
          baseline: hashes.side('argon2id hash', CONCURRENCY),
          target: { ratio: 0.7 },
          serverCpu: true,
          notes: [
            `argon2id m=${PRODUCTION_ARGON2.memoryCost} KiB t=${PRODUCTION_ARGON2.timeCost} p=${PRODUCTION_ARGON2.parallelism} with a 32-byte pepper; ` +
              `one hash per issuance; ${statementsPerIssuance.toFixed(1)} SQL statements per issuance (BEGIN and COMMIT included); ` +
              `${issued} cards issued in all (warm-up included); ` +
              `per core = total / ${CORES} cores shared by server, applicants (worker thread) and PostgreSQL`,
          ],
        }),
      ]);
    } finally {
      await applicants.stop();
    }
  },
  // One client IP sends every application: the per-IP daily limit is lifted for the benchmark.
  { cards: { applicationLimits: { perIpPerDay: 100_000_000, perEmailPerDay: 3 } } },
);
