import { mkdirSync } from 'node:fs';
import path from 'node:path';
import knexFactory, { type Knex } from 'knex';
import ClientPgLite from 'knex-pglite';
import pg from 'pg';
import type { Logger } from '../log.ts';
import { claimEmbedded } from './embedded-lock.ts';
import { PipelinedBeginClient } from './pg-client.ts';

// Return BIGINT (int8) as a JS number when safe: money is in minor units well inside 2^53.
pg.types.setTypeParser(20, (v: string) => {
  const n = Number(v);
  if (!Number.isSafeInteger(n)) throw new Error(`int8 value out of safe range: ${v}`);
  return n;
});
// DATE stays a 'YYYY-MM-DD' string: birthdates and statement days are calendar dates, not instants.
pg.types.setTypeParser(1082, (v: string) => v);

export type Db = Knex;
export type Trx = Knex.Transaction;
/** Anything that runs queries: the pool or an open transaction. */
export type Conn = Knex | Knex.Transaction;

export interface DbOptions {
  databaseUrl: string | null;
  dataDir: string;
  poolMax?: number;
  /** Each connection gives up waiting for a row lock after this long (PostgreSQL's lock_timeout). */
  lockTimeoutMs?: number;
  /**
   * PostgreSQL ends a transaction left idle this long (idle_in_transaction_session_timeout), freeing its row locks: a
   * request stalled mid-transaction cannot keep a card's account locked. Unset or 0: never (PostgreSQL's default).
   */
  idleInTransactionSeconds?: number;
  /**
   * How long a query waits for a free connection before failing (knex's acquireConnectionTimeout, 60 s by
   * default): a request holds its connection for its whole transaction, so under overload a quick "busy"
   * (503, error-handler.ts) serves the holder better than a minute's wait.
   */
  acquireTimeoutMs?: number;
  /** Where knex's own warnings go (a connection that could not be made); without it, knex prints them to stdout. */
  log?: Logger;
}

/**
 * knex's warnings, each one JSON line of the process's log: its default logger prints coloured text with a stack
 * to stdout, in the middle of the JSON lines, at every failed connection while the database is away.
 */
function knexLog(log: Logger): Knex.Config['log'] {
  const line = (level: 'warn' | 'error') => (message: unknown) =>
    log[level]({ detail: String(message instanceof Error ? message.message : message).split('\n')[0] }, 'database client warning');
  return { warn: line('warn'), error: line('error'), deprecate: line('warn'), debug: () => undefined };
}

/**
 * knex-pglite (0.14) names a result's command after knex's method, upper-cased: `.del()` comes back as "DEL" where
 * PostgreSQL says "DELETE", so knex handed back the whole result instead of the count of rows deleted. The minute's
 * cleanup of expired payloads deletes in batches until one is short, compared an object with a number, and never
 * stopped: `npm start` froze a minute after it started. Here a delete is called one.
 */
class EmbeddedClient extends (ClientPgLite as unknown as new (config: Knex.Config) => { processResponse(obj: { method?: string }, runner: unknown): unknown }) {
  override processResponse(obj: { method?: string }, runner: unknown): unknown {
    return super.processResponse(obj.method === 'del' ? { ...obj, method: 'delete' } : obj, runner);
  }
}

/** Whether `db` is the embedded PGlite (one process, one session) rather than PostgreSQL through pg. */
export function isEmbedded(db: Db): boolean {
  return db.client instanceof EmbeddedClient;
}

/** Opens PostgreSQL through pg when a URL is given, otherwise the embedded PGlite under <dataDir>/pgdata. */
export function openDb({ databaseUrl, dataDir, poolMax = 10, lockTimeoutMs, idleInTransactionSeconds, acquireTimeoutMs = 10_000, log }: DbOptions): Db {
  if (databaseUrl) {
    const settings = [
      ...(lockTimeoutMs ? [`SET lock_timeout = ${Math.floor(lockTimeoutMs)}`] : []),
      ...(idleInTransactionSeconds ? [`SET idle_in_transaction_session_timeout = ${Math.floor(idleInTransactionSeconds * 1000)}`] : []),
    ];
    return knexFactory({
      ...(log ? { log: knexLog(log) } : {}),
      // knex's pg client, with each transaction's BEGIN sent along with its first statement (pg-client.ts).
      client: PipelinedBeginClient as unknown as typeof knexFactory.Client,
      connection: databaseUrl,
      acquireConnectionTimeout: acquireTimeoutMs,
      pool: {
        min: 0,
        max: poolMax,
        ...(settings.length > 0
          ? {
              afterCreate(conn: pg.Client, done: (err: Error | null, conn: pg.Client) => void) {
                conn.query(settings.join('; '), (err: Error | null) => done(err, conn));
              },
            }
          : {}),
      },
    });
  }
  const dir = path.join(dataDir, 'pgdata');
  mkdirSync(dir, { recursive: true });
  claimEmbedded(path.join(dataDir, 'pgdata.lock'), dir);
  return knexFactory({
    ...(log ? { log: knexLog(log) } : {}),
    client: EmbeddedClient as unknown as typeof knexFactory.Client,
    dialect: 'postgres',
    connection: { filename: dir } as Knex.StaticConnectionConfig,
  });
}
