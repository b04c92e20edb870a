/**
 * (a) Full login flows per second against the raw argon2id verify rate at the same cost.
 *
 * A flow is what a new browser and the member site do together, over real HTTP: GET /auth →
 * login page → POST card number and password (answered with the consent page) → POST confirm →
 * /auth resume → code on the redirect → POST /token (client_secret_basic + PKCE). The load generator runs in a worker
 * thread. The baseline is argon2.verify alone with the production parameters and a pepper, at the
 * same concurrency, in this process; the server does exactly one such verify per flow, so the
 * ratio is the share of the hash rate the rest of the flow leaves. Target (issue 2): ≥ 0.5×.
 */
import argon2 from 'argon2';
import { randomBytes } from 'node:crypto';
import { setUpSite } from './flow.ts';
import { BENCH_ROUNDS, CORES, emitFigures, figure, progress, runFor, sliceSeconds, Tally } from './harness.ts';
import { LoadGenerator } from './load.ts';
import { PRODUCTION_ARGON2, withBenchCardManager } from './server.ts';

const CONCURRENCY = Number(process.env.BENCH_LOGIN_CONCURRENCY ?? 4);

await withBenchCardManager(async (ts) => {
  const load = LoadGenerator.start();
  try {
    await load.connect(await setUpSite(ts), 1);

    const pepper = randomBytes(32);
    const password = 'abcd-efgh-jkmn';
    const hash = await argon2.hash(password, { type: argon2.argon2id, ...PRODUCTION_ARGON2, secret: pepper });
    async function verifyOnce(): Promise<void> {
      if (!(await argon2.verify(hash, password, { secret: pepper }))) throw new Error('argon2 verify said no');
    }

    progress('warming up');
    await runFor(0.5, CONCURRENCY, verifyOnce);
    await load.run({ kind: 'login' }, 1, CONCURRENCY);

    const flows = new Tally();
    const hashes = new Tally();
    for (let r = 0; r < BENCH_ROUNDS; r++) {
      progress(`round ${r + 1}/${BENCH_ROUNDS}: argon2id verify and full login flows, ${sliceSeconds()} s each at concurrency ${CONCURRENCY}`);
      hashes.add(await runFor(sliceSeconds(), CONCURRENCY, verifyOnce));
      flows.add(await load.run({ kind: 'login' }, sliceSeconds(), CONCURRENCY));
    }

    emitFigures([
      figure({
        id: 'a',
        title: 'full login flows',
        unit: 'flows/s',
        measured: flows.side('login flow incl. /token', CONCURRENCY),
        baseline: hashes.side('argon2id verify', CONCURRENCY),
        target: { ratio: 0.5 },
        serverCpu: true,
        notes: [
          `argon2id m=${PRODUCTION_ARGON2.memoryCost} KiB t=${PRODUCTION_ARGON2.timeCost} p=${PRODUCTION_ARGON2.parallelism} with a 32-byte pepper; ` +
            `per core = total / ${CORES} cores shared by server, load generator (worker thread) and PostgreSQL`,
        ],
      }),
    ]);
  } finally {
    await load.stop();
  }
});
