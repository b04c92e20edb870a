/**
 * The resource-server kit (cybercard/resource-server), each figure beside a baseline in the same run:
 *
 * (c) verifications per second in process: the kit's ResourceServer.verify (discovery and the remote
 *     JWKS fetched once, then cached; iss, aud, exp/nbf, typ, algorithm allowlist, RFC 9068 claims)
 *     against raw jose.jwtVerify with a local key set and no claim checks. Target ≥ 0.9×.
 * (k) the same check through Koa (koaBearer) against a bare Koa app calling jose.jwtVerify itself,
 *     both over HTTP on 127.0.0.1 with keep-alive. Target ≥ 0.9×.
 * (s) strict-mode status checks per second at the card manager (GET /api/approvals/:no, HTTP Basic
 *     as the member site, no cache, one approval per lane), with p99 latency, beside /healthz on the
 *     same server (the HTTP ceiling without the database), both driven from a worker thread.
 *     Target ≥ 2,000/s on this 2-core machine, i.e. ≥ 1,000/s per core.
 *
 * The token is a real RFC 9068 access token the card manager issued after a full login. In-process
 * sides run sequentially in short alternating slices (a verify is ~0.1 ms, so machine noise would
 * otherwise decide the ratio); HTTP sides alternate too: for (k) the load generator shares this
 * thread, for (s) it runs in a worker thread (load.ts) so the card manager has its event loop to itself.
 */
import Koa from 'koa';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createLocalJWKSet, decodeJwt, jwtVerify, type JSONWebKeySet } from 'jose';
import { createResourceServer, koaBearer, type AccessToken } from 'cybercard/resource-server';
import { approve } from '../../src/approvals/approve.ts';
import { close } from '../../src/server.ts';
import { connectSite, fullLogin, setUpSite } from './flow.ts';
import { BENCH_ROUNDS, BENCH_SECONDS, emitFigures, figure, progress, runFor, Tally } from './harness.ts';
import { LoadGenerator } from './load.ts';
import type { LoadJob } from './load-worker.ts';
import { withBenchCardManager } from './server.ts';

/** Slices of about 0.25 s per side, alternating which side goes first. */
const SLICES = Math.max(BENCH_ROUNDS, Math.round(BENCH_SECONDS * 4));
const HTTP_CONCURRENCY = 16;

async function serve(app: Koa): Promise<{ url: string; server: Server }> {
  const server = createServer(app.callback());
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, server };
}

/** Runs two sides in alternating slices; returns their tallies. */
async function alternate(
  slices: number,
  seconds: number,
  concurrency: number,
  a: (lane: number) => Promise<void>,
  b: (lane: number) => Promise<void>,
  between?: () => Promise<void>,
) {
  const ta = new Tally();
  const tb = new Tally();
  for (let i = 0; i < slices; i++) {
    await between?.();
    const order: Array<[Tally, (lane: number) => Promise<void>]> = i % 2 === 0 ? [[tb, b], [ta, a]] : [[ta, a], [tb, b]];
    for (const [t, op] of order) t.add(await runFor(seconds / slices, concurrency, op));
  }
  return [ta, tb] as const;
}

/** Like alternate(), but each side is a job the load generator's worker thread runs. */
async function alternateInWorker(load: LoadGenerator, slices: number, seconds: number, concurrency: number, a: LoadJob, b: LoadJob) {
  const ta = new Tally();
  const tb = new Tally();
  for (let i = 0; i < slices; i++) {
    const order: Array<[Tally, LoadJob]> = i % 2 === 0 ? [[tb, b], [ta, a]] : [[ta, a], [tb, b]];
    for (const [t, job] of order) t.add(await load.run(job, seconds / slices, concurrency));
  }
  return [ta, tb] as const;
}

await withBenchCardManager(async (ts) => {
  const b = await connectSite(await setUpSite(ts));
  const rs = createResourceServer({ issuer: ts.url, audience: b.site.resource });
  const jwks = (await (await fetch(`${ts.url}/jwks`)).json()) as JSONWebKeySet;
  const local = createLocalJWKSet(jwks);
  const rawOptions = { issuer: ts.url, audience: b.site.resource, typ: 'at+jwt', algorithms: ['ES256'] };

  async function freshToken(): Promise<{ token: string; exp: number }> {
    const token = (await fullLogin(b)).access_token;
    const claims = await rs.verify(token); // the first call fetches discovery and the JWKS
    if (claims.aud !== b.site.resource || claims.client_id !== b.site.clientId) throw new Error('unexpected claims');
    await jwtVerify(token, local, rawOptions);
    return { token, exp: decodeJwt(token).exp! };
  }
  let { token, exp } = await freshToken();
  const renew = async () => {
    if (exp - Date.now() / 1000 < 30) ({ token, exp } = await freshToken()); // outside the timed slices
  };

  // (c) in process
  let fetches = 0;
  const realFetch = globalThis.fetch;
  globalThis.fetch = (input, init) => {
    fetches++;
    return realFetch(input, init);
  };
  const kitOp = async () => void (await rs.verify(token));
  const rawOp = async () => void (await jwtVerify(token, local));
  progress('(c) warming up');
  await runFor(0.5, 1, kitOp);
  await runFor(0.5, 1, rawOp);
  progress(`(c) ${SLICES} alternating slices of ${(BENCH_SECONDS / SLICES).toFixed(2)} s per side, sequential`);
  const before = fetches;
  const [kit, raw] = await alternate(SLICES, BENCH_SECONDS, 1, kitOp, rawOp, async () => {
    globalThis.fetch = realFetch;
    await renew();
    globalThis.fetch = (input, init) => {
      fetches++;
      return realFetch(input, init);
    };
  });
  globalThis.fetch = realFetch;
  const fetchesWhileTimed = fetches - before;

  // (k) through Koa
  const kitApp = new Koa();
  kitApp.use(koaBearer(rs));
  kitApp.use((ctx) => {
    ctx.body = { sub: (ctx.state.accessToken as AccessToken).sub };
  });
  const bareApp = new Koa();
  bareApp.use(async (ctx) => {
    const m = /^Bearer (.+)$/.exec(ctx.get('authorization'));
    try {
      if (!m) throw new Error('no token');
      const { payload } = await jwtVerify(m[1]!, local, rawOptions);
      ctx.body = { sub: payload.sub };
    } catch {
      ctx.status = 401;
    }
  });
  const kitServer = await serve(kitApp);
  const bareServer = await serve(bareApp);
  const httpOp = (url: string) => async () => {
    const res = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
    await res.arrayBuffer();
    if (res.status !== 200) throw new Error(`HTTP ${res.status}`);
  };
  progress(`(k) warming up; then ${BENCH_ROUNDS * 4} alternating slices, ${HTTP_CONCURRENCY} requests in flight`);
  await runFor(0.5, HTTP_CONCURRENCY, httpOp(kitServer.url));
  await runFor(0.5, HTTP_CONCURRENCY, httpOp(bareServer.url));
  const [koaKit, koaBare] = await alternate(BENCH_ROUNDS * 4, BENCH_SECONDS, HTTP_CONCURRENCY, httpOp(kitServer.url), httpOp(bareServer.url), renew);
  for (const s of [kitServer, bareServer]) {
    s.server.closeAllConnections();
    await close(s.server);
  }

  // (s) strict-mode status checks at the card manager
  await ts.db('accounts').where({ id: b.card.accountId }).update({ credit_limit: 1_000_000 });
  // One approval per lane: concurrent checks of one approval share a request (strict.ts), which would flatter the figure.
  const approvalNos: string[] = [];
  for (let i = 0; i < HTTP_CONCURRENCY; i++) {
    const approval = await approve(
      { db: ts.db, policy: { currency: ts.config.currency, holdSeconds: 3600 } },
      { accountId: b.card.accountId, cardId: b.card.cardId, clientId: b.site.clientId, amount: 1000, currency: ts.config.currency, description: 'bench', contentRef: null, rating: 0 },
    );
    approvalNos.push(approval.approvalNo);
  }
  // The strict-mode client runs in a worker thread (load.ts), as a member site's server would run apart
  // from ours: the card manager keeps its event loop, and its CPU is told apart from the client's.
  const load = LoadGenerator.start();
  let status: Tally, health: Tally;
  let statusRequests = 0;
  const countStatus = (req: { url?: string }) => {
    if (req.url?.startsWith('/api/approvals/')) statusRequests++;
  };
  try {
    const statusJob: LoadJob = {
      kind: 'statusCheck',
      issuer: ts.url,
      clientId: b.site.clientId,
      clientSecret: b.site.clientSecret,
      approvalNos,
    };
    const healthJob: LoadJob = { kind: 'get', url: `${ts.url}/healthz` };
    progress(`(s) warming up; then ${BENCH_ROUNDS * 2} alternating slices, ${HTTP_CONCURRENCY} checks in flight from a worker thread`);
    await load.run(statusJob, 0.5, HTTP_CONCURRENCY);
    await load.run(healthJob, 0.5, HTTP_CONCURRENCY);
    ts.server.on('request', countStatus);
    [status, health] = await alternateInWorker(load, BENCH_ROUNDS * 2, BENCH_SECONDS, HTTP_CONCURRENCY, statusJob, healthJob);
    ts.server.off('request', countStatus);
  } finally {
    await load.stop();
  }

  emitFigures([
    figure({
      id: 'c',
      title: 'kit verifications, in process',
      unit: 'verifies/s',
      measured: kit.side('ResourceServer.verify (remote JWKS, cached)', 1),
      baseline: raw.side('raw jose.jwtVerify (local JWKS)', 1),
      target: { ratio: 0.9 },
      serverCpu: false,
      notes: [`ES256 token from the card manager; sequential; network fetches during the timed slices: ${fetchesWhileTimed}`],
    }),
    figure({
      id: 'k',
      title: 'kit verifications through Koa',
      unit: 'req/s',
      measured: koaKit.side('Koa + koaBearer', HTTP_CONCURRENCY),
      baseline: koaBare.side('bare Koa + jose.jwtVerify', HTTP_CONCURRENCY),
      target: { ratio: 0.9 },
      serverCpu: false,
      notes: ['servers and load generator share this process and its event loop'],
    }),
    figure({
      id: 's',
      title: 'strict-mode status checks at the card manager',
      unit: 'checks/s',
      measured: status.side('GET /api/approvals/:no (Basic, no cache)', HTTP_CONCURRENCY),
      baseline: health.side('GET /healthz (same server, no database)', HTTP_CONCURRENCY),
      target: { perCore: 1000 },
      serverCpu: true,
      notes: [
        `p99 ${status.side('', HTTP_CONCURRENCY).latencyMs.p99} ms (/healthz p99 ${health.side('', HTTP_CONCURRENCY).latencyMs.p99} ms); ${statusRequests} status requests reached the card manager for ${status.side('', HTTP_CONCURRENCY).ops} checks`,
        'the strict-mode client runs in a worker thread of this process; PostgreSQL on the same machine',
      ],
    }),
  ]);
});
