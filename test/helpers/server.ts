import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { DestinationStream } from 'pino';
import { buildApp, type CardManager } from '../../src/app.ts';
import { loadConfig } from '../../src/config/load.ts';
import type { Config } from '../../src/config/schema.ts';
import { openDb, type Db } from '../../src/db/knex.ts';
import { migrateLatest } from '../../src/db/migrate.ts';
import { createLogger } from '../../src/log.ts';
import { close } from '../../src/server.ts';
import { testEnv } from './global.ts';

export interface TestServer {
  url: string;
  config: Config;
  db: Db;
  cm: CardManager;
  server: Server;
  stop(): Promise<void>;
}

/**
 * The real card manager on an ephemeral port of 127.0.0.1, on the run's PostgreSQL database.
 * The socket is bound first so the issuer can name the port it got.
 */
export async function startCardManager(
  overrides: Record<string, unknown> = {},
  opts: {
    logStream?: DestinationStream;
    pool?: { poolMax: number; acquireTimeoutMs: number };
    /** Environment beside NODE_ENV=test, or instead of it (a production configuration's secrets). */
    env?: NodeJS.ProcessEnv;
    /** The clock a change of statement day is made by (src/app.ts AppDeps.now). */
    now?: () => Date;
  } = {},
): Promise<TestServer> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  const config = loadConfig({
    env: { NODE_ENV: 'test', ...opts.env },
    overrides: { issuer: url, port, databaseUrl: testEnv.databaseUrl, dataDir: testEnv.dataDir, ...overrides },
  });
  const log = createLogger(process.env.TEST_LOG_LEVEL ?? config.logLevel, opts.logStream);
  // knex's warnings (a connection lost) go to the log as main.ts sends them, not to the test output with a stack.
  const db = openDb({ ...config, idleInTransactionSeconds: config.databaseIdleInTransactionSeconds, ...opts.pool, log });
  // The embedded database (no databaseUrl) is migrated at start, as main.ts does; the run's PostgreSQL already is.
  if (!config.databaseUrl) await migrateLatest(db);
  const cm = await buildApp({
    config,
    db,
    log,
    ...(opts.now ? { now: opts.now } : {}),
  });
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
