/**
 * (b) Authorization-code exchanges per second at POST /token, against a bare oidc-provider on
 * its default memory adapter answering client_credentials at the same concurrency.
 *
 * Codes are made beforehand, untimed, with the request the demo site makes (openid profile
 * offline_access, prompt=consent, resource, PKCE) by browsers that logged in once, so a code
 * costs a consent round rather than an argon2 verify. Only the exchanges are timed:
 * client_secret_basic, code, redirect_uri, code_verifier. The load generator runs in a worker
 * thread; both servers run on this thread. Target (issue 2): ≥ 1,000/s per core (total / cores).
 */
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider from 'oidc-provider';
import { close } from '../../src/server.ts';
import { basicAuth, setUpSite } from './flow.ts';
import { BENCH_ROUNDS, CORES, emitFigures, figure, progress, sliceSeconds, Tally } from './harness.ts';
import { LoadGenerator } from './load.ts';
import { withBenchCardManager } from './server.ts';

const CONCURRENCY = 8;
/** Codes live 60 s (oidc.ttl.authorizationCode); never make more than this for one slice. */
const MAX_CODES = 8_000;

/** oidc-provider with nothing of ours: default memory adapter, one client_credentials client. */
async function startBareProvider(): Promise<{ url: string; authorization: string; server: Server }> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const clientId = 'bench-client';
  const clientSecret = randomBytes(24).toString('base64url');
  const provider = new Provider(url, {
    clients: [{ client_id: clientId, client_secret: clientSecret, grant_types: ['client_credentials'], redirect_uris: [], response_types: [] }],
    features: { clientCredentials: { enabled: true } },
  });
  server.on('request', provider.callback());
  return { url, authorization: basicAuth(clientId, clientSecret), server };
}

await withBenchCardManager(async (ts) => {
  const bare = await startBareProvider();
  const load = LoadGenerator.start();
  try {
    const clientCredentials = { kind: 'clientCredentials', url: bare.url, authorization: bare.authorization } as const;
    progress(`logging ${CONCURRENCY} browsers in (one argon2 verify each)`);
    await load.connect(await setUpSite(ts), CONCURRENCY);

    progress('warming up and estimating the exchange rate');
    await load.makeCodes(150);
    const warm = await load.run({ kind: 'exchange' }, 30, CONCURRENCY);
    if (warm.errors) throw new Error(`warm-up exchanges failed: ${warm.firstError}`);
    await load.run(clientCredentials, 1, CONCURRENCY);
    let estimate = warm.ops / warm.seconds;

    const exchanges = new Tally();
    const baseline = new Tally();
    const notes: string[] = [];
    for (let r = 0; r < BENCH_ROUNDS; r++) {
      const want = Math.min(MAX_CODES, Math.ceil(estimate * sliceSeconds() * 1.5) + 50);
      const t0 = performance.now();
      await load.makeCodes(want);
      const made = (performance.now() - t0) / 1000;
      progress(`round ${r + 1}/${BENCH_ROUNDS}: made ${want} codes in ${made.toFixed(1)} s (untimed); exchanges and client_credentials, ${sliceSeconds()} s each at concurrency ${CONCURRENCY}`);
      if (made > 40) notes.push(`making ${want} codes took ${made.toFixed(0)} s: the oldest were close to their 60 s lifetime`);
      const s = exchanges.add(await load.run({ kind: 'exchange' }, sliceSeconds(), CONCURRENCY));
      estimate = Math.max(estimate, s.ops / s.seconds);
      baseline.add(await load.run(clientCredentials, sliceSeconds(), CONCURRENCY));
    }

    emitFigures([
      figure({
        id: 'b',
        title: 'code exchanges at /token',
        unit: 'exchanges/s',
        measured: exchanges.side('authorization_code exchange', CONCURRENCY),
        baseline: baseline.side('bare oidc-provider client_credentials', CONCURRENCY),
        target: { perCore: 1000 },
        serverCpu: true,
        notes: [
          ...notes,
          `per core = total / ${CORES} cores shared by server, load generator (worker thread) and PostgreSQL`,
          'each exchange issues an ES256 ID token, an ES256 JWT access token (resource indicator) and a refresh token',
        ],
      }),
    ]);
  } finally {
    await load.stop();
    bare.server.closeAllConnections();
    await close(bare.server);
  }
});
