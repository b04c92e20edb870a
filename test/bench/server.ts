import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { buildApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config/load.ts';
import { openDb } from '../../src/db/knex.ts';
import { createLogger } from '../../src/log.ts';
import { close } from '../../src/server.ts';
import { createTestDatabase, dropTestDatabase } from '../helpers/db.ts';
import { benchDatabaseTransport, POSTGRES_SOCKET_DIR } from './harness.ts';
// Type only (erased at run time): test/helpers/server.ts imports global.ts, which needs mocha's hooks.
import type { TestServer } from '../helpers/server.ts';

/** Production argon2id cost (OWASP: m=19 MiB, t=2, p=1): benchmarks never use the cheap test cost. */
export const PRODUCTION_ARGON2 = { memoryCost: 19456, timeCost: 2, parallelism: 1 } as const;

/**
 * The real card manager on an ephemeral port of 127.0.0.1, like test/helpers/server.ts, but on the
 * database and data directory it is given and with production argon2 parameters.
 */
export async function startBenchCardManager(databaseUrl: string, dataDir: string, overrides: Record<string, unknown> = {}): Promise<TestServer> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  const config = loadConfig({
    env: { NODE_ENV: 'test' },
    overrides: { ...overrides, issuer: url, port, databaseUrl, dataDir, argon2: { ...PRODUCTION_ARGON2 }, logLevel: 'silent' },
  });
  const db = openDb(config);
  const cm = await buildApp({ config, db, log: createLogger(config.logLevel) });
  server.on('request', cm.app.callback());
  return {
    url,
    config,
    db,
    cm,
    server,
    async stop() {
      await cm.stop();
      server.closeAllConnections();
      await close(server);
      await db.destroy();
    },
  };
}

/** The database's URL over the transport the benchmarks use (benchDatabaseTransport). */
function overTransport(databaseUrl: string): string {
  if (benchDatabaseTransport() === 'tcp') return databaseUrl;
  const u = new URL(databaseUrl);
  const auth = u.username ? `${u.username}${u.password ? `:${u.password}` : ''}@` : '';
  return `${u.protocol}//${auth}${encodeURIComponent(POSTGRES_SOCKET_DIR)}${u.pathname}`;
}

/**
 * Runs `work` against a card manager on a fresh database and data directory of its own (with config
 * `overrides`, if any), then stops it and drops both (KEEP_BENCH_DB=1 keeps the database for a look afterwards).
 */
export async function withBenchCardManager<T>(work: (ts: TestServer) => Promise<T>, overrides: Record<string, unknown> = {}): Promise<T> {
  const databaseUrl = await createTestDatabase('cybercard_bench');
  const dataDir = mkdtempSync(path.join(tmpdir(), 'cybercard-bench-'));
  try {
    const ts = await startBenchCardManager(overTransport(databaseUrl), dataDir, overrides);
    try {
      return await work(ts);
    } finally {
      await ts.stop();
    }
  } finally {
    if (process.env.KEEP_BENCH_DB !== '1') await dropTestDatabase(databaseUrl);
    rmSync(dataDir, { recursive: true, force: true });
  }
}
