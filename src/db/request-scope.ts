import { AsyncLocalStorage } from 'node:async_hooks';
import type { Conn, Db, Trx } from './knex.ts';
import { commitWithNextStatement } from './pg-client.ts';

/**
 * One database transaction per HTTP request.
 *
 * A hosted-page request used to autocommit each of its statements, and every commit is a WAL flush and
 * a round trip: a payment flow made about sixty. Inside a request scope every query made through the
 * scoped handle runs in the request's own transaction, and `inTransaction` becomes a savepoint inside
 * it, so a request commits once, and what it wrote is either all there or (on a 5xx) none of it.
 *
 * The HTTP edge opens and settles scopes (http/request-transaction.ts) so that the commit happens before
 * the response leaves: the next request of the same browser, perhaps on another instance, always sees
 * what this one wrote. Work that must outlive the request whatever its outcome (the password throttles)
 * is given the unscoped pool instead. This module knows no Koa.
 */
interface Scope {
  /** The request's transaction, once its first query began it. */
  trx?: Trx;
  began?: Promise<Trx>;
  done: boolean;
  /** Reads remembered for the rest of this request (memoInRequest). */
  memo: Map<string, Promise<unknown>>;
  settled?: Promise<void>;
  /** Settles when the request's last query handed to the connection has (inTurn). */
  tail: Promise<void>;
  /** Work to run as the transaction's last statements, just before COMMIT (atCommit). */
  atCommit: Array<{ work: (conn: Conn) => Promise<unknown>; fallback: Conn; oneStatement: boolean }>;
  /** Run once the request has committed (afterRequestCommit). */
  afterCommit: Array<() => void>;
  /** State kept for the rest of the request (requestLocal). */
  locals: Map<string, unknown>;
}

const current = new AsyncLocalStorage<Scope>();

/**
 * The transaction begins with the request's first query, not with the request: a client trickling its
 * body in holds no connection (bodies are read before any query), and a request that never touches the
 * database (discovery, JWKS) costs no round trip.
 */
function begin(pool: Db, scope: Scope): Promise<Trx> {
  scope.began ??= pool.transaction().then((trx) => (scope.trx = trx));
  return scope.began;
}

interface Deferrable {
  then: (...args: unknown[]) => unknown;
  transacting: (trx: Trx) => unknown;
}

function isDeferrable(value: unknown): value is Deferrable {
  if (value === null || (typeof value !== 'object' && typeof value !== 'function')) return false;
  const v = value as Partial<Deferrable>;
  return typeof v.then === 'function' && typeof v.transacting === 'function';
}

/**
 * Runs `run` once the request's previous query has settled. A request's queries share one connection,
 * and oidc-provider reads several models at once (Promise.all): pg queues such calls today but pg@9
 * refuses a query on a busy client, so the request hands them over one at a time itself. This covers the
 * queries made through the scoped handle; a savepoint's own statements (inTransaction), joined work and
 * work left for the commit run on the transaction directly, awaited by their callers one after another
 * (queuing a savepoint whole would deadlock on the scoped queries its work awaits).
 */
function inTurn<T>(scope: Scope, run: () => Promise<T>): Promise<T> {
  const ran = scope.tail.then(run);
  scope.tail = ran.then(
    () => undefined,
    () => undefined,
  );
  return ran;
}

/** A query on the request's transaction that runs in its turn (inTurn) when awaited. */
function queued<T>(scope: Scope, query: T): T {
  if (!isDeferrable(query)) return query;
  const run = query.then;
  query.then = function (this: Deferrable, onFulfilled?: unknown, onRejected?: unknown) {
    return inTurn(scope, () => run.call(this) as Promise<unknown>).then(onFulfilled as undefined, onRejected as undefined);
  };
  return query;
}

/**
 * A query built on the pool before the request's transaction exists: when it runs (knex runs a builder
 * when it is awaited; catch and finally go through then), it first begins the transaction and joins it.
 * Run after the request settled (work the request left behind), it runs on the pool.
 */
function joinWhenRun<T>(pool: Db, scope: Scope, query: T): T {
  if (!isDeferrable(query)) return query;
  const run = query.then;
  query.then = function (this: Deferrable, onFulfilled?: unknown, onRejected?: unknown) {
    const ran = scope.done
      ? (run.call(this) as Promise<unknown>)
      : begin(pool, scope).then((trx) => {
          this.transacting(trx);
          return inTurn(scope, () => run.call(this) as Promise<unknown>);
        });
    return ran.then(onFulfilled as undefined, onRejected as undefined);
  };
  return query;
}

/** The pool behind each scoped handle (joinRequestTransaction begins the request's transaction on it). */
const pools = new WeakMap<object, Db>();

/** A handle on `db` that, inside a request scope, runs everything in that request's transaction. */
export function requestScopedDb(db: Db): Db {
  const handle = scopedHandle(db);
  pools.set(handle, db);
  return handle;
}

/** The scope the caller runs in, unless it has settled already (work a request left behind). */
function liveScope(): Scope | undefined {
  const scope = current.getStore();
  return scope && !scope.done ? scope : undefined;
}

function scopedHandle(db: Db): Db {
  return new Proxy(db, {
    apply(_target, thisArg, args: unknown[]) {
      const scope = liveScope();
      if (scope?.trx) return queued(scope, Reflect.apply(scope.trx as unknown as (...a: unknown[]) => unknown, thisArg, args));
      const query = Reflect.apply(db as unknown as (...a: unknown[]) => unknown, thisArg, args);
      return scope ? joinWhenRun(db, scope, query) : query;
    },
    get(_target, prop) {
      const scope = liveScope();
      const target: Db = scope?.trx ? (scope.trx as unknown as Db) : db;
      const value: unknown = Reflect.get(target, prop, target);
      if (typeof value !== 'function') return value;
      if (!scope) return (value as (...a: unknown[]) => unknown).bind(target);
      if (scope.trx) return (...args: unknown[]) => queued(scope, (value as (...a: unknown[]) => unknown).apply(target, args));
      if (prop === 'transaction') {
        // inTransaction: a savepoint in the request's transaction, begun first if need be.
        return (work: (trx: Trx) => Promise<unknown>) => begin(db, scope).then((trx) => trx.transaction(work));
      }
      return (...args: unknown[]) => joinWhenRun(db, scope, (value as (...a: unknown[]) => unknown).apply(db, args));
    },
  });
}

/**
 * Runs `work` in the current request's own transaction, without a savepoint, when `db` is a scoped
 * handle inside a live request scope: whatever fails fails the request, which rolls it all back. Elsewhere
 * (no scope, an unscoped pool) in a transaction of its own. For work that must be atomic but that no
 * caller recovers from, so a savepoint's two round trips buy nothing.
 */
export function joinRequestTransaction<T>(db: Db, work: (trx: Trx) => Promise<T>): Promise<T> {
  const scope = liveScope();
  const pool = pools.get(db);
  if (!scope || !pool) return db.transaction(work);
  return begin(pool, scope).then(work);
}

/**
 * Begins the current request's transaction now, if `db` is a scoped handle inside a live request scope and
 * it has not begun yet; otherwise nothing. For work left for the commit whose failure to find a connection
 * must surface now, where the caller still answers it (a busy pool), rather than at the commit.
 */
export async function beginRequestTransaction(db: Db): Promise<void> {
  const scope = liveScope();
  const pool = pools.get(db);
  if (scope && pool) await begin(pool, scope);
}

export class AbortedTransactionError extends Error {
  constructor() {
    super('the request transaction was aborted by a failed statement and rolled back');
  }
}

function committed(scope: Scope): void {
  for (const then of scope.afterCommit) then();
}

function settle(scope: Scope, commit: boolean): Promise<void> {
  if (scope.settled) return scope.settled;
  scope.done = true;
  scope.settled = (async () => {
    if (!scope.began) {
      // No query began a transaction: work left for the commit runs on its own connection.
      if (commit) {
        for (const { work, fallback } of scope.atCommit) await work(fallback);
        committed(scope);
      }
      return;
    }
    // A transaction that never began (no connection came in time) has nothing to settle: the request's
    // own error handling has answered already.
    const trx = await scope.began.catch(() => undefined);
    if (!trx) return;
    // Queries already handed over go first (inTurn): a COMMIT must not overtake them.
    await scope.tail;
    if (!commit) {
      await trx.rollback();
      return;
    }
    let result: { response?: { command?: string } } | undefined;
    try {
      const last = scope.atCommit.length - 1;
      for (const [i, { work, oneStatement }] of scope.atCommit.entries()) {
        // The last work, if it sends at most one statement, carries COMMIT with it (db/pg-client.ts).
        if (i === last && oneStatement) await commitWithNextStatement(trx);
        await work(trx);
      }
      // COMMIT on a transaction a swallowed error aborted answers ROLLBACK rather than failing.
      result = (await trx.commit()) as typeof result;
    } catch (err) {
      // Work left for the commit failed (or COMMIT itself did): end the transaction, never leave it open.
      if (!trx.isCompleted()) await trx.rollback().catch(() => undefined);
      throw err;
    }
    if (result?.response?.command === 'ROLLBACK') throw new AbortedTransactionError();
    committed(scope);
  })();
  return scope.settled;
}

/** A request scope, opened by the HTTP edge (http/request-transaction.ts) around one request. */
export interface RequestScope {
  /** Runs `work` (the rest of the request) inside this scope. */
  run<T>(work: () => Promise<T>): Promise<T>;
  /** Ends the scope: commits its transaction (if a query began one), or rolls it back. Once; later calls wait on the first. */
  settle(commit: boolean): Promise<void>;
}

function handle(scope: Scope): RequestScope {
  return { run: (work) => current.run(scope, work), settle: (commit) => settle(scope, commit) };
}

export function openRequestScope(): RequestScope {
  return handle({ done: false, memo: new Map(), atCommit: [], afterCommit: [], locals: new Map(), tail: Promise.resolve() });
}

/** The scope the caller runs in, if any: a handler that writes its own response settles it first. */
export function currentRequestScope(): RequestScope | undefined {
  const scope = current.getStore();
  return scope ? handle(scope) : undefined;
}

/**
 * Runs `work` as the last statements of the current request's transaction, just before its COMMIT, and
 * not at all if the request rolls back; outside a live request scope, at once on `conn`. For an update of
 * a row many requests share (a password throttle's per-source counter): made at commit, its row lock is
 * held for one round trip rather than for the rest of the request, and it costs no commit of its own.
 * `oneStatement`: the work sends at most one statement. Run last, that statement carries the COMMIT, one
 * round trip instead of two; a work that sent a second one would run it after the COMMIT, so only promise
 * what the work's code guarantees.
 */
export async function atCommit(conn: Conn, work: (conn: Conn) => Promise<unknown>, opts: { oneStatement?: boolean } = {}): Promise<void> {
  const scope = liveScope();
  if (!scope) {
    await work(conn);
    return;
  }
  scope.atCommit.push({ work, fallback: conn, oneStatement: opts.oneStatement === true });
}

/**
 * Runs `then` (synchronous, and it must not throw) once the current request has committed, and never if
 * it rolls back. Returns false, and runs nothing, outside a live request scope: the caller decides.
 */
export function afterRequestCommit(then: () => void): boolean {
  const scope = liveScope();
  if (!scope) return false;
  scope.afterCommit.push(then);
  return true;
}

/**
 * The value kept under `key` for the rest of the current live request, made by `create()` the first time
 * it is asked for (without `create`, only if it was made already); undefined outside a live request scope
 * (the caller then works at once).
 */
export function requestLocal<T>(key: string, create?: () => T): T | undefined {
  const scope = liveScope();
  if (!scope) return undefined;
  if (!scope.locals.has(key)) {
    if (!create) return undefined;
    scope.locals.set(key, create());
  }
  return scope.locals.get(key) as T;
}

/** Sets what the current request remembers under `key` (memoInRequest), as a write that is not yet made would read. */
export function rememberInRequest<T>(key: string, value: T): void {
  liveScope()?.memo.set(key, Promise.resolve(value));
}

/**
 * `load()`, remembered under `key` for the rest of the current request (a request reads its member
 * site, its session and its interaction several times over; inside its transaction they change only
 * by its own writes, which must `forgetInRequest` what they change). Outside a request: `load()`.
 */
export function memoInRequest<T>(key: string, load: () => Promise<T>): Promise<T> {
  const scope = liveScope();
  if (!scope) return load();
  const hit = scope.memo.get(key) as Promise<T> | undefined;
  if (hit) return hit;
  const loading = load();
  scope.memo.set(key, loading);
  // A failed read is not remembered.
  loading.catch(() => {
    if (scope.memo.get(key) === loading) scope.memo.delete(key);
  });
  return loading;
}

/** Forgets what the current request remembered under these keys, or every key starting with `prefix*`. */
export function forgetInRequest(...keys: string[]): void {
  const scope = current.getStore();
  if (!scope) return;
  for (const key of keys) {
    if (key.endsWith('*')) {
      const prefix = key.slice(0, -1);
      for (const k of scope.memo.keys()) if (k.startsWith(prefix)) scope.memo.delete(k);
    } else scope.memo.delete(key);
  }
}
