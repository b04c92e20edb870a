import pg from 'pg';
import type { Logger } from '../log.ts';
import type { Conn, Db } from './knex.ts';
import { findMemberSite, findResourceServer, type MemberSite, type ResourceServer } from './member-sites.ts';
import { afterRequestCommit } from './request-scope.ts';

/** The channel the member_sites and resource_servers triggers announce changes on (migration 20261205000001). */
export const DIRECTORY_CHANNEL = 'cybercard_directory';

/**
 * The member sites and resource servers this instance's requests read, kept in memory between requests.
 *
 * Nearly every provider request reads its member site, and many a resource server: two of a payment
 * flow's statements in six were these reads, each a round trip and about 0.2 ms of the event loop. The
 * rows change seldom (an operator suspends a site, rotates a secret), and when they change every instance
 * must know at once. So an instance keeps rows only while it listens on the channel the tables' triggers
 * announce every committed change on; it forgets a row when it hears of it, forgets everything when it
 * stops hearing (the listening connection dropped: it reads the database for every request until it listens
 * again), and a change this process commits is forgotten before its response leaves (forgetAll).
 *
 * A row read while a change was being announced is not kept (the generation moved on meanwhile), and a
 * row read inside a request's transaction is kept only once that transaction commits: a rolled-back
 * request leaves nothing behind. Misses are not kept, so a site registered elsewhere is found at once.
 */
export interface Directory {
  memberSite(conn: Conn, clientId: string): Promise<MemberSite | undefined>;
  resourceServer(conn: Conn, identifier: string): Promise<ResourceServer | undefined>;
  /** Forgets every row kept: for a change this process made, once it has committed. */
  forgetAll(): void;
  /** Whether rows are kept now (listening on the channel). */
  readonly listening: boolean;
  /** Rows kept now (for tests and metrics). */
  readonly size: number;
  /** Changes heard of on the channel since it opened (a test waits on it for a change made elsewhere). */
  readonly heard: number;
  /** Stops listening and keeps nothing more. */
  stop(): Promise<void>;
}

export interface DirectoryOptions {
  /** The pool whose connection settings the listening connection uses. */
  db: Db;
  /** False on the embedded database (one process, no LISTEN across connections): every read goes to it. */
  listen: boolean;
  /** Where the listening connection goes; absent or null: where the pool's go. */
  listenUrl?: string | null;
  log: Logger;
  maxEntries?: number;
  /** First wait before listening again after the connection dropped; doubles up to 30 s. */
  retryMs?: number;
}

type Entry = MemberSite | ResourceServer;

/** Opens the directory; with `listen`, it starts listening at once and keeps rows once it does. */
export function openDirectory({ db, listen, listenUrl, log, maxEntries = 10_000, retryMs = 500 }: DirectoryOptions): Directory {
  const entries = new Map<string, Entry>();
  /** Moves on whenever anything is forgotten: a read begun before then is not kept. */
  let generation = 0;
  let listener: pg.Client | undefined;
  let stopped = !listen;
  let retryTimer: NodeJS.Timeout | undefined;
  let nextRetryMs = retryMs;
  let heard = 0;

  function forget(key: string): void {
    generation++;
    if (key === '*') entries.clear();
    else entries.delete(key);
  }

  function forgetAll(): void {
    generation++;
    entries.clear();
  }

  function keep(key: string, value: Entry, since: number): void {
    if (!listener || since !== generation) return;
    if (entries.size >= maxEntries) entries.delete(entries.keys().next().value!);
    entries.set(key, value);
  }

  async function lookUp<T extends Entry>(conn: Conn, key: string, load: () => Promise<T | undefined>): Promise<T | undefined> {
    if (listener) {
      const hit = entries.get(key);
      if (hit) return hit as T;
    }
    const since = generation;
    const value = await load();
    if (value && listener) {
      // Inside a request: once it commits. Outside one: now, unless read in a transaction still open.
      const deferred = afterRequestCommit(() => keep(key, value, since));
      if (!deferred && !(conn as { isTransaction?: boolean }).isTransaction) keep(key, value, since);
    }
    return value;
  }

  function lost(client: pg.Client, why: unknown): void {
    if (listener !== client) return;
    listener = undefined;
    forgetAll();
    log.warn({ err: why }, 'directory: stopped hearing of member-site changes; reading them from the database until it listens again');
    client.end().catch(() => undefined);
    scheduleListen();
  }

  function scheduleListen(): void {
    if (stopped || retryTimer) return;
    retryTimer = setTimeout(() => {
      retryTimer = undefined;
      void startListening();
    }, nextRetryMs);
    retryTimer.unref();
    nextRetryMs = Math.min(nextRetryMs * 2, 30_000);
  }

  async function startListening(): Promise<void> {
    let client: pg.Client | undefined;
    try {
      if (listenUrl) {
        client = new pg.Client({ connectionString: listenUrl });
        client.on('error', () => undefined); // until it is ours (lost() below); connect() rejects meanwhile
        await client.connect();
      } else client = (await db.client.acquireRawConnection()) as pg.Client;
      const c = client;
      c.on('error', (err) => lost(c, err));
      c.on('end', () => lost(c, new Error('connection ended')));
      c.on('notification', (msg) => {
        if (msg.channel !== DIRECTORY_CHANNEL || listener !== c) return;
        forget(msg.payload ?? '*');
        heard++;
      });
      await db.raw(`LISTEN ${DIRECTORY_CHANNEL}`).connection(c);
      if (stopped) {
        await c.end();
        return;
      }
      // Whatever changed while nobody listened is unknown: start from nothing.
      forgetAll();
      listener = c;
      nextRetryMs = retryMs;
    } catch (err) {
      log.warn({ err }, 'directory: could not listen for member-site changes; reading them from the database');
      client?.end().catch(() => undefined);
      scheduleListen();
    }
  }

  if (listen) void startListening();

  return {
    memberSite: (conn, clientId) => lookUp(conn, `site:${clientId}`, () => findMemberSite(conn, clientId)),
    resourceServer: (conn, identifier) => lookUp(conn, `rs:${identifier}`, () => findResourceServer(conn, identifier)),
    forgetAll,
    get listening() {
      return listener !== undefined;
    },
    get size() {
      return entries.size;
    },
    get heard() {
      return heard;
    },
    async stop() {
      stopped = true;
      if (retryTimer) clearTimeout(retryTimer);
      const client = listener;
      listener = undefined;
      forgetAll();
      await client?.end().catch(() => undefined);
    },
  };
}
