/**
 * (c) JWT access-token verifications per second in the resource server's check, against raw
 * jose.jwtVerify with a local key set, on the same real token.
 *
 * The token is an RFC 9068 access token the running card manager issued to a member site after a
 * full login. The measured side is createTokenVerifier (src/resource-server/verify.ts) as the demo
 * site uses it: discovery and the JWKS fetched once, then cached. The baseline is jwtVerify with
 * createLocalJWKSet over the same JWKS JSON and no claim checks. Both run on this thread, one call
 * after another, for the same total time, in short alternating slices (a verify is ~0.1 ms, so
 * machine noise would otherwise decide the ratio). Target (issue 2): ≥ 0.9× raw jose.
 */
import { createLocalJWKSet, decodeJwt, jwtVerify, type JSONWebKeySet } from 'jose';
import { createTokenVerifier } from '../../src/resource-server/verify.ts';
import { connectSite, fullLogin, setUpSite } from './flow.ts';
import { BENCH_ROUNDS, BENCH_SECONDS, emitFigures, figure, progress, runFor, Tally } from './harness.ts';
import { withBenchCardManager } from './server.ts';

/** Slices of about 0.25 s per side, alternating which side goes first. */
const SLICES = Math.max(BENCH_ROUNDS, Math.round(BENCH_SECONDS * 4));

await withBenchCardManager(async (ts) => {
  const b = await connectSite(await setUpSite(ts));
  const verify = createTokenVerifier({ issuer: ts.url, audience: b.site.resource });
  const jwks = (await (await fetch(`${ts.url}/jwks`)).json()) as JSONWebKeySet;
  const local = createLocalJWKSet(jwks);

  async function freshToken(): Promise<{ token: string; exp: number }> {
    const token = (await fullLogin(b)).access_token;
    const claims = await verify(token); // the first call fetches discovery and the JWKS
    if (claims.aud !== b.site.resource || claims.client_id !== b.site.clientId) throw new Error('unexpected claims');
    await jwtVerify(token, local);
    return { token, exp: decodeJwt(token).exp! };
  }
  let { token, exp } = await freshToken();

  // Counts fetches from here on: once warm, a verification must not touch the network.
  let fetches = 0;
  const realFetch = globalThis.fetch;
  globalThis.fetch = (input, init) => {
    fetches++;
    return realFetch(input, init);
  };
  const checkedOp = async () => void (await verify(token));
  const rawOp = async () => void (await jwtVerify(token, local));

  progress('warming up');
  await runFor(0.5, 1, checkedOp);
  await runFor(0.5, 1, rawOp);

  const checked = new Tally();
  const raw = new Tally();
  let fetchesWhileTimed = 0;
  progress(`${SLICES} alternating slices of ${(BENCH_SECONDS / SLICES).toFixed(2)} s per side, sequential`);
  for (let i = 0; i < SLICES; i++) {
    if (exp - Date.now() / 1000 < 30) {
      globalThis.fetch = realFetch;
      ({ token, exp } = await freshToken()); // outside the timed slices
      globalThis.fetch = (input, init) => {
        fetches++;
        return realFetch(input, init);
      };
    }
    const before = fetches;
    const order = i % 2 === 0 ? [raw, checked] : [checked, raw];
    for (const t of order) t.add(await runFor(BENCH_SECONDS / SLICES, 1, t === raw ? rawOp : checkedOp));
    fetchesWhileTimed += fetches - before;
  }
  globalThis.fetch = realFetch;

  emitFigures([
    figure({
      id: 'c',
      title: 'JWT access-token verifications',
      unit: 'verifies/s',
      measured: checked.side('createTokenVerifier (remote JWKS, cached)', 1),
      baseline: raw.side('raw jose.jwtVerify (local JWKS)', 1),
      target: { ratio: 0.9 },
      serverCpu: false,
      notes: [
        `ES256 token from the card manager; in-process and sequential; network fetches during the timed slices: ${fetchesWhileTimed}`,
        'per core = total / cores is shown for symmetry only: a sequential loop uses one core',
      ],
    }),
  ]);
});
