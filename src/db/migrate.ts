import { readdirSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Knex } from 'knex';
import { lockKey } from './advisory-lock.ts';
import { isEmbedded, type Db } from './knex.ts';

const MIGRATIONS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../migrations');

interface MigrationModule {
  up(knex: Knex): Promise<void>;
  down(knex: Knex): Promise<void>;
}

/**
 * Loads migrations/*.ts by dynamic import: knex's own file loader does not understand
 * TypeScript under ESM, and this keeps one list of migrations for pg and PGlite alike.
 */
class DirectoryMigrationSource implements Knex.MigrationSource<string> {
  async getMigrations(): Promise<string[]> {
    return readdirSync(MIGRATIONS_DIR)
      .filter((f) => /^\d{14}_[a-z0-9_]+\.ts$/.test(f))
      .sort();
  }
  getMigrationName(file: string): string {
    return file.replace(/\.ts$/, '');
  }
  async getMigration(file: string): Promise<MigrationModule> {
    return (await import(pathToFileURL(path.join(MIGRATIONS_DIR, file)).href)) as MigrationModule;
  }
}

/** The session-level advisory lock every migrating start takes on PostgreSQL (migrateLatest). */
const MIGRATIONS_LOCK = 'cybercard:migrations';

/**
 * Applies every pending migration. Several instances (and CLI runs) may start at once on one PostgreSQL database:
 * each takes a session-level advisory lock first, so one migrates while the others wait for it, then find nothing
 * left to do. knex's own lock (knex_migrations_lock) alone refuses a second start outright whenever a migration runs
 * outside a transaction (CREATE INDEX CONCURRENTLY), and a start killed during one leaves it taken, so that no
 * instance could start again until someone ran `knex migrate:unlock`. Holding the advisory lock, no one else is
 * migrating: a knex lock still taken was left by a run that died, and is freed. PostgreSQL lets the advisory lock go
 * with its session, however that ends. The embedded database serves one process (embedded-lock.ts): no advisory lock
 * needed, and a knex lock found taken there was left by a run that died too, so it is freed the same way.
 */
export async function migrateLatest(db: Db): Promise<string[]> {
  if (isEmbedded(db)) {
    await freeLeftLock(db);
    return runPending(db);
  }
  const key = lockKey(MIGRATIONS_LOCK).toString();
  const client = db.client as { acquireConnection(): Promise<unknown>; releaseConnection(conn: unknown): Promise<void> };
  const session = await client.acquireConnection();
  try {
    await waitForLock(db, session, key);
    try {
      await freeLeftLock(db);
      return await runPending(db);
    } finally {
      await db.raw('SELECT pg_advisory_unlock(?::bigint)', [key]).connection(session);
    }
  } finally {
    await client.releaseConnection(session);
  }
}

/**
 * Takes the advisory lock on `session`, trying again every quarter second while another holds it, rather than waiting
 * in pg_advisory_lock: a statement waiting there keeps its snapshot, and a migration that runs CREATE INDEX
 * CONCURRENTLY waits for every older snapshot to go, so the two would wait on each other for ever.
 */
async function waitForLock(db: Db, session: unknown, key: string): Promise<void> {
  for (;;) {
    const { rows } = (await db.raw('SELECT pg_try_advisory_lock(?::bigint) AS got', [key]).connection(session)) as { rows: Array<{ got: boolean }> };
    if (rows[0]?.got) return;
    await sleep(250);
  }
}

/** Frees knex's migration lock when it is taken; call only when nobody else migrates (MIGRATIONS_LOCK held, or embedded). */
async function freeLeftLock(db: Db): Promise<void> {
  if (!(await db.schema.hasTable('knex_migrations_lock'))) return;
  await db('knex_migrations_lock').where({ is_locked: 1 }).update({ is_locked: 0 });
}

async function runPending(db: Db): Promise<string[]> {
  const [, applied] = (await db.migrate.latest({ migrationSource: new DirectoryMigrationSource() })) as [number, string[]];
  return applied;
}
