import pg from 'pg';
import { openDb, type Db } from '../../src/db/knex.ts';
import { migrateLatest } from '../../src/db/migrate.ts';

/** The PostgreSQL server tests run against; each run makes its own database on it. */
export const ADMIN_URL = process.env.TEST_DATABASE_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

function urlFor(name: string): string {
  const u = new URL(ADMIN_URL);
  u.pathname = `/${name}`;
  return u.href;
}

/** Work on the PostgreSQL server as its superuser, outside any test database (create, drop, close one to connections). */
export async function admin<T>(work: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: ADMIN_URL });
  await c.connect();
  try {
    return await work(c);
  } finally {
    await c.end();
  }
}

/** Creates an empty, migrated database with a unique name and returns its URL. */
export async function createTestDatabase(prefix = 'cybercard_test'): Promise<string> {
  const name = `${prefix}_${process.pid}_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 6)}`;
  await admin((c) => c.query(`CREATE DATABASE "${name}"`));
  const url = urlFor(name);
  const db = openDb({ databaseUrl: url, dataDir: '/nonexistent' });
  try {
    await migrateLatest(db);
  } finally {
    await db.destroy();
  }
  return url;
}

export async function dropTestDatabase(url: string): Promise<void> {
  const name = new URL(url).pathname.slice(1);
  await admin((c) => c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
}

/** A knex handle on a test database (the caller destroys it). */
export function connect(url: string, poolMax = 10): Db {
  return openDb({ databaseUrl: url, dataDir: '/nonexistent', poolMax });
}

/** The SQL `db` sent while `work` ran (knex's 'query' events), in order. */
export async function sqlDuring(db: Db, work: () => Promise<unknown>): Promise<string[]> {
  const seen: string[] = [];
  // The member-site directory's heartbeat (SELECT pg_notify, every 5 s through the same pool) is no query of `work`.
  const listen = (q: { sql: string; bindings?: unknown[] }) => {
    const heartbeat = /\bpg_notify\(/.test(q.sql) && String(q.bindings?.[1]).startsWith('ping:');
    if (!heartbeat) seen.push(q.sql);
  };
  db.on('query', listen);
  try {
    await work();
  } finally {
    db.off('query', listen);
  }
  return seen;
}
