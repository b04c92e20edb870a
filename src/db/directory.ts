import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { Logger } from '../log.ts';
import type { Conn, Db } from './knex.ts';
import { findMemberSite, findResourceServer, type MemberSite, type ResourceServer } from './member-sites.ts';
import { afterRequestCommit } from './request-scope.ts';

/**
 * The channel the member_sites and resource_servers triggers announce changes on (migration 20261205000001), and
 * `keys rotate` / `keys withdraw` theirs (payload `keys`).
 */
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
 * again), and a change this process commits is forgotten before its response leaves (forgetAllOnceCommitted).
 *
 * A row read while a change was being announced is not kept (the generation moved on meanwhile), and a
 * row read inside a request's transaction is kept only once that transaction commits: a rolled-back
 * request leaves nothing behind. Misses are not kept, so a site registered elsewhere is found at once.
 */
export interface Directory {
  memberSite(conn: Conn, clientId: string): Promise<MemberSite | undefined>;
  resourceServer(conn: Conn, identifier: string): Promise<ResourceServer | undefined>;
  /**
   * For a change this process made: forgets every row kept once the current request commits (never if it
   * rolls back), or at once outside a request.
   */
  forgetAllOnceCommitted(): void;
  /** Whether rows are kept now (listening on the channel). */
  readonly listening: boolean;
  /** Rows kept now (for tests and metrics). */
  readonly size: number;
  /** How many changes to `key` (`site:<client_id>`, `rs:<identifier>`) were heard of: a test waits on it for a change made elsewhere. */
  heardOf(key: string): number;
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
  /** A row kept longer than this is read again, whatever was heard: a backstop for changes no trigger announced. */
  maxAgeMs?: number;
  /** First wait before listening again after the connection dropped; doubles up to 30 s. */
  retryMs?: number;
  /**
   * How often the directory sends itself a notification through the pool, as a writer's would travel; one
   * not heard within the same time means the listening connection hears nothing (a pooler that does not
   * carry LISTEN, a connection silently cut): it is dropped, and nothing is kept until one is heard again.
   */
  heartbeatMs?: number;
  /**
   * Told of every change heard on the channel besides member sites' and resource servers' (`keys`: the signing keys
   * changed; `outbox:<table>`: posts to member sites were queued), and with `*` when it starts hearing, since what changed while nobody listened is unknown.
   */
  onHeard?: (key: string) => void;
}

interface Kept {
  value: MemberSite | ResourceServer;
  at: number;
}

/** Kept rows are shared by every request: frozen, so a caller that changed one would fail loudly, not corrupt the rest. */
function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value as Record<string, unknown>)) deepFreeze(v);
  }
  return value;
}

/** Opens the directory; with `listen`, it starts listening at once and keeps rows once it does. */
export function openDirectory({
  db,
  listen,
  listenUrl,
  log,
  maxEntries = 10_000,
  maxAgeMs = 60_000,
  retryMs = 500,
  heartbeatMs = 5_000,
  onHeard,
}: DirectoryOptions): Directory {
  const entries = new Map<string, Kept>();
  /** Moves on whenever anything is forgotten: a read begun before then is not kept. */
  let generation = 0;
  /** The listening connection, once it has proved it hears (its first heartbeat came back). */
  let listener: pg.Client | undefined;
  /** The connection being set up or proving itself. */
  let candidate: pg.Client | undefined;
  let starting: Promise<void> | undefined;
  let stopped = !listen;
  let retryTimer: NodeJS.Timeout | undefined;
  let heartbeatTimer: NodeJS.Timeout | undefined;
  let nextRetryMs = retryMs;
  const heard = new Map<string, number>();
  const instance = randomBytes(6).toString('hex');
  let pingNo = 0;
  /** The heartbeat sent and not yet heard, with when it was sent. */
  let awaited: { payload: string; sentAt: number } | undefined;

  function forget(key: string): void {
    generation++;
    if (key === '*') entries.clear();
    else entries.delete(key);
  }

  function forgetAll(): void {
    generation++;
    entries.clear();
  }

  function keep(key: string, value: MemberSite | ResourceServer, since: number): void {
    if (!listener || since !== generation) return;
    if (!entries.has(key) && entries.size >= maxEntries) entries.delete(entries.keys().next().value!);
    entries.set(key, { value: deepFreeze(value), at: Date.now() });
  }

  async function lookUp<T extends MemberSite | ResourceServer>(conn: Conn, key: string, load: () => Promise<T | undefined>): Promise<T | undefined> {
    if (listener) {
      const hit = entries.get(key);
      if (hit && Date.now() - hit.at < maxAgeMs) return hit.value as T;
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
    if (client !== listener && client !== candidate) return;
    log.warn(
      { err: why },
      client === listener
        ? 'directory: stopped hearing of member-site changes; reading them from the database until it listens again'
        : 'directory: the listening connection hears nothing (a pooler in transaction mode? set databaseListenUrl); reading member sites from the database',
    );
    listener = undefined;
    candidate = undefined;
    awaited = undefined;
    forgetAll();
    void endQuietly(client);
    scheduleListen();
  }

  /** Ends a connection without waiting on a dead socket for long. */
  async function endQuietly(client: pg.Client): Promise<void> {
    const ended = client.end().catch(() => undefined);
    const timeout = new Promise<void>((resolve) => setTimeout(resolve, 1_000).unref());
    await Promise.race([ended, timeout]);
    (client as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream?.destroy();
  }

  function scheduleListen(): void {
    if (stopped || retryTimer) return;
    retryTimer = setTimeout(() => {
      retryTimer = undefined;
      starting = startListening();
    }, nextRetryMs);
    retryTimer.unref();
    nextRetryMs = Math.min(nextRetryMs * 2, 30_000);
  }

  function onNotification(c: pg.Client, msg: pg.Notification): void {
    if (msg.channel !== DIRECTORY_CHANNEL || (c !== listener && c !== candidate)) return;
    const payload = msg.payload ?? '*';
    if (payload.startsWith('ping:')) {
      if (awaited?.payload !== payload) return;
      awaited = undefined;
      if (c === candidate) {
        // It hears: whatever changed while nobody listened is unknown, so start from nothing.
        forgetAll();
        listener = c;
        candidate = undefined;
        nextRetryMs = retryMs;
        onHeard?.('*');
      }
      return;
    }
    forget(payload);
    heard.set(payload, (heard.get(payload) ?? 0) + 1);
    onHeard?.(payload);
  }

  /** Sends the next heartbeat through the pool; drops a connection whose last one was not heard in time. */
  async function heartbeat(): Promise<void> {
    const c = listener ?? candidate;
    if (!c || stopped) return;
    if (awaited && Date.now() - awaited.sentAt >= heartbeatMs) {
      lost(c, new Error(`no notification heard within ${heartbeatMs} ms of sending one`));
      return;
    }
    if (awaited) return;
    const payload = `ping:${instance}:${++pingNo}`;
    awaited = { payload, sentAt: Date.now() };
    try {
      await db.raw('SELECT pg_notify(?, ?)', [DIRECTORY_CHANNEL, payload]);
    } catch {
      // The database is unreachable from the pool: nothing can be heard either; the deadline decides.
    }
  }

  async function startListening(): Promise<void> {
    let client: pg.Client | undefined;
    try {
      if (listenUrl) {
        client = new pg.Client({ connectionString: listenUrl, keepAlive: true });
        client.on('error', () => undefined); // until it is set up below; connect() rejects meanwhile
        await client.connect();
      } else {
        client = (await db.client.acquireRawConnection()) as pg.Client;
        // pg's keepAlive is a connect-time option: set it on the socket knex opened.
        (client as unknown as { connection?: { stream?: { setKeepAlive?(on: boolean, ms: number): void } } }).connection?.stream?.setKeepAlive?.(true, 10_000);
      }
      const c = client;
      c.on('error', (err) => lost(c, err));
      c.on('end', () => lost(c, new Error('connection ended')));
      c.on('notification', (msg) => onNotification(c, msg));
      // The generation check assumes each statement sees what committed before it (READ COMMITTED).
      const { rows } = (await db.raw('SHOW default_transaction_isolation').connection(c)) as { rows: Array<{ default_transaction_isolation: string }> };
      const isolation = rows[0]?.default_transaction_isolation;
      if (isolation !== 'read committed') {
        log.warn({ isolation }, 'directory: the database does not default to READ COMMITTED; member sites are read on every request');
        stopped = true;
        await endQuietly(c);
        return;
      }
      await db.raw(`LISTEN ${DIRECTORY_CHANNEL}`).connection(c);
      if (stopped) {
        await endQuietly(c);
        return;
      }
      // Rows are kept only once the first heartbeat comes back on it (onNotification).
      candidate = c;
      awaited = undefined;
      void heartbeat();
    } catch (err) {
      log.warn({ err }, 'directory: could not listen for member-site changes; reading them from the database');
      if (client) void endQuietly(client);
      scheduleListen();
    }
  }

  if (listen) {
    starting = startListening();
    heartbeatTimer = setInterval(() => void heartbeat(), Math.max(50, Math.floor(heartbeatMs / 2)));
    heartbeatTimer.unref();
  }

  return {
    memberSite: (conn, clientId) => lookUp(conn, `site:${clientId}`, () => findMemberSite(conn, clientId)),
    resourceServer: (conn, identifier) => lookUp(conn, `rs:${identifier}`, () => findResourceServer(conn, identifier)),
    forgetAllOnceCommitted() {
      if (!afterRequestCommit(forgetAll)) forgetAll();
    },
    get listening() {
      return listener !== undefined;
    },
    get size() {
      return entries.size;
    },
    heardOf(key) {
      return heard.get(key) ?? 0;
    },
    async stop() {
      stopped = true;
      if (retryTimer) clearTimeout(retryTimer);
      if (heartbeatTimer) clearInterval(heartbeatTimer);
      await starting?.catch(() => undefined);
      const clients = [listener, candidate].filter((c): c is pg.Client => c !== undefined);
      listener = undefined;
      candidate = undefined;
      forgetAll();
      await Promise.all(clients.map(endQuietly));
    },
  };
}
