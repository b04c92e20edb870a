import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import pg from 'pg';
import type { Trx } from './knex.ts';

/**
 * knex's PostgreSQL client, but a transaction's BEGIN travels with its first statement, and statements with
 * bindings are prepared once per connection (see "Prepared statements" below).
 *
 * BEGIN: every request's transaction began with a round trip of its own (BEGIN), and a round trip costs the
 * event loop and PostgreSQL a system call each way: a payment flow spent five of its 42 statements on
 * BEGIN. Here `begin()` only marks the connection; the transaction's first statement then sends BEGIN
 * ahead of itself in the same extended-protocol pipeline (Parse/Bind/Execute of BEGIN, then the
 * statement's own messages, one Sync), and PostgreSQL answers both with one ReadyForQuery. A BEGIN inside
 * the pipeline turns its implicit transaction into a real one, so the transaction goes on after the Sync
 * exactly as if BEGIN had been sent alone. A first statement without bindings (sent with the simple
 * protocol, perhaps several statements in one) gets BEGIN sent alone first, as before; so does a
 * transaction with an isolation level or read-only mode.
 */

const require = createRequire(import.meta.url);
// knex's dialect classes are CommonJS with no types: the parts used here, typed by hand.
interface KnexQueryObject {
  sql: string;
  bindings?: unknown[];
  options?: Record<string, unknown>;
  response?: unknown;
}
interface PgConnection {
  query: (query: unknown, callback?: unknown) => unknown;
  [BEGIN_PENDING]?: boolean;
  [PREPARED]?: Set<string>;
  [UNUSABLE]?: Set<string>;
  [COMMIT_NEXT]?: boolean;
  [COMMIT_SENT]?: boolean;
}
type ClientPgClass = new (config: unknown) => {
  _query(connection: PgConnection, obj: KnexQueryObject): Promise<KnexQueryObject>;
};
type TransactionPgClass = new (...args: unknown[]) => { isolationLevel?: string; readOnly?: boolean; begin(conn: PgConnection): Promise<unknown> };
const ClientPG = require('knex/lib/dialects/postgres/index.js') as ClientPgClass;
const TransactionPG = require('knex/lib/dialects/postgres/execution/pg-transaction.js') as TransactionPgClass;

const BEGIN_PENDING = Symbol('cybercard.beginPending');
/** The transaction's next statement is its last: COMMIT goes with it (commitWithNextStatement). */
const COMMIT_NEXT = Symbol('cybercard.commitNext');
/** COMMIT went with the last statement and succeeded: the COMMIT knex sends next is answered at once. */
const COMMIT_SENT = Symbol('cybercard.commitSent');
const PREPARED = Symbol('cybercard.prepared');
const UNUSABLE = Symbol('cybercard.unusablePrepared');

/**
 * Prepared statements. Sent unnamed, a statement is parsed, analysed and planned by PostgreSQL every time it
 * runs; named, once per connection (and after five runs PostgreSQL may keep a generic plan). A payment flow
 * sends about fifteen statements that no one had named, among them the approval's overdue check (two
 * lateral joins), the velocity count and the ledger insert. Prepared as below (with the payment path's reads
 * naming their columns, db/cards.ts), PostgreSQL's CPU per flow fell from 8.5-12.4 ms to 5.2-5.8 ms in A/B
 * runs. So a statement with bindings that has no name of its own gets one from its text, unless:
 * - its result columns are `*` (`select *`, `a.*`, `returning *`): a migration that adds a column would
 *   change a prepared statement's result type, which PostgreSQL refuses ("cached plan must not change result
 *   type") on every instance still running the old code;
 * - the connection already holds MAX_PREPARED_PER_CONNECTION of them (statements whose text varies, such as
 *   IN lists of any length, would otherwise accumulate): later ones run unnamed;
 * - it failed on this connection with a changed result type all the same (a column's type altered): that name
 *   is not used on this connection again, and the statement runs unnamed there.
 * Behind a transaction-mode pooler this needs one that keeps prepared statements (PgBouncer 1.21 or later,
 * max_prepared_statements), as the statements named in db/ already do.
 */
export const MAX_PREPARED_PER_CONNECTION = 200;
const STAR_COLUMNS = /\.\*|\bselect\s+\*|\breturning\s+\*/i;
/** Each statement text seen, with the name it is prepared under, or null if never (`*` results). */
const names = new Map<string, string | null>();
const MAX_REMEMBERED_NAMES = 2000;

/** The name a statement is prepared under: from its text, the same on every connection and instance. */
export function preparedNameFor(sql: string): string {
  return `cc_${createHash('sha1').update(sql).digest('base64url')}`;
}

/** preparedNameFor(sql), or null for a statement never prepared by text; worked out once per text. */
function preparableName(sql: string): string | null {
  let name = names.get(sql);
  if (name === undefined) {
    name = STAR_COLUMNS.test(sql) ? null : preparedNameFor(sql);
    if (names.size >= MAX_REMEMBERED_NAMES) names.clear();
    names.set(sql, name);
  }
  return name;
}

/** Names `obj` for preparing on `connection`, where the rules above allow it; the name given, if any. */
function prepareOn(connection: PgConnection, obj: KnexQueryObject): string | undefined {
  if (!obj.sql || !obj.bindings?.length || obj.options?.name !== undefined) return undefined;
  const name = preparableName(obj.sql);
  if (name === null || connection[UNUSABLE]?.has(name)) return undefined;
  const prepared = (connection[PREPARED] ??= new Set());
  if (!prepared.has(name)) {
    if (prepared.size >= MAX_PREPARED_PER_CONNECTION) return undefined;
    prepared.add(name);
  }
  obj.options = { ...obj.options, name };
  return name;
}

/** PostgreSQL's refusal to run a prepared statement whose result type a migration changed. */
const isChangedResultType = (err: unknown) =>
  (err as { code?: unknown } | null)?.code === '0A000' && /cached plan must not change result type/.test(String((err as Error).message));

interface PgWire {
  parse(q: { text: string; name?: string }): void;
  bind(c: { portal?: string; statement?: string; values: unknown[] }): void;
  execute(c: { portal?: string; rows?: number }): void;
  sync(): void;
  parsedStatements: Record<string, string>;
  submittedNamedStatements: Record<string, string>;
}

/**
 * pg's Query with the transaction's BEGIN sent ahead of it, or its COMMIT after it, or both, in the same
 * pipeline (one Sync): their completions are kept out of its result.
 */
class PipelinedQuery extends (pg.Query as unknown as new (config: unknown, values: unknown, callback: unknown) => {
  name?: string;
  prepare(connection: PgWire): void;
  _getRows(connection: PgWire, rows?: number): void;
  handleCommandComplete(msg: unknown, connection: PgWire): void;
  handleError(err: Error, connection: PgWire): void;
}) {
  private beginAnswered: boolean;
  private ownAnswered = false;
  /** This query sends the Parse of its named statement (not parsed on this connection before). */
  private parsesNamed = false;

  constructor(
    config: unknown,
    private readonly begin: boolean,
    private readonly commit: boolean,
    callback: (err: Error | null, response: unknown) => void,
  ) {
    super(config, undefined, callback);
    this.beginAnswered = !begin;
  }

  override prepare(connection: PgWire): void {
    this.parsesNamed =
      this.name !== undefined && connection.parsedStatements[this.name] === undefined && connection.submittedNamedStatements[this.name] === undefined;
    if (this.begin) {
      connection.parse({ text: 'BEGIN' });
      connection.bind({ values: [] });
      connection.execute({ rows: 0 });
    }
    super.prepare(connection);
  }

  /** pg's last step of prepare: Execute, then Sync; COMMIT goes between them. */
  override _getRows(connection: PgWire, rows?: number): void {
    if (!this.commit || rows) return super._getRows(connection, rows);
    connection.execute({ rows: 0 });
    connection.parse({ text: 'COMMIT' });
    connection.bind({ values: [] });
    connection.execute({ rows: 0 });
    connection.sync();
  }

  override handleCommandComplete(msg: unknown, connection: PgWire): void {
    if (!this.beginAnswered) {
      this.beginAnswered = true;
      // pg took BEGIN's ParseComplete, the first, for the named statement's and recorded it as parsed. Only the
      // statement's own ParseComplete, which comes next if its Parse succeeds, may record that.
      if (this.parsesNamed) delete connection.parsedStatements[this.name!];
      return;
    }
    if (this.ownAnswered) return; // COMMIT's
    this.ownAnswered = true;
    super.handleCommandComplete(msg, connection);
  }

  override handleError(err: Error, connection: PgWire): void {
    // Failed before BEGIN's completion: the statement's Parse never ran, though pg recorded it as parsed.
    // (After it, a failed Parse left nothing recorded, and a failed Bind or Execute a statement truly prepared.)
    if (this.parsesNamed && !this.beginAnswered && connection) delete connection.parsedStatements[this.name!];
    super.handleError(err, connection);
  }
}

class DeferredBeginTransaction extends TransactionPG {
  override begin(conn: PgConnection): Promise<unknown> {
    if (this.isolationLevel || this.readOnly) return super.begin(conn);
    conn[BEGIN_PENDING] = true;
    return Promise.resolve();
  }
}

/**
 * COMMIT with the transaction's last statement: the caller promises that the next statement it sends in
 * `trx` is the transaction's last before `trx.commit()` (or none, or one without bindings: then COMMIT goes
 * alone, as before). That statement carries COMMIT in its pipeline, and `trx.commit()` is answered without a
 * round trip. If the statement fails, COMMIT is never run and the transaction stays open for the caller's
 * ROLLBACK; if COMMIT fails (a deferred constraint), the statement's caller gets COMMIT's error. Nothing on
 * another client (the embedded PGlite): there COMMIT goes alone.
 */
export async function commitWithNextStatement(trx: Trx): Promise<void> {
  const client = trx.client as unknown as { acquireConnection(): Promise<PgConnection> };
  if (!(client instanceof PipelinedBeginClient)) return;
  (await client.acquireConnection())[COMMIT_NEXT] = true;
}

const COMMITTED: KnexQueryObject['response'] = { command: 'COMMIT', rowCount: null, rows: [], fields: [] };

export class PipelinedBeginClient extends ClientPG {
  transaction(...args: unknown[]): unknown {
    return new DeferredBeginTransaction(this, ...args);
  }

  override async _query(connection: PgConnection, obj: KnexQueryObject): Promise<KnexQueryObject> {
    if (connection[COMMIT_SENT] && /^COMMIT;?$/i.test(obj.sql)) {
      // Run already, with the transaction's last statement.
      connection[COMMIT_SENT] = false;
      obj.response = COMMITTED;
      return obj;
    }
    const name = prepareOn(connection, obj);
    try {
      return await this.queryPipelined(connection, obj);
    } catch (err) {
      if (name && isChangedResultType(err)) (connection[UNUSABLE] ??= new Set()).add(name);
      throw err;
    }
  }

  private async queryPipelined(connection: PgConnection, obj: KnexQueryObject): Promise<KnexQueryObject> {
    const begin = connection[BEGIN_PENDING] === true;
    const commit = connection[COMMIT_NEXT] === true;
    connection[BEGIN_PENDING] = false;
    connection[COMMIT_NEXT] = false;
    if (!obj.bindings?.length || !obj.sql) {
      // The simple protocol (no bindings, perhaps several statements): BEGIN alone before, COMMIT alone after.
      if (begin) await super._query(connection, { sql: 'BEGIN;' });
      return super._query(connection, obj);
    }
    if (!begin && !commit) return super._query(connection, obj);
    const config = { text: obj.sql, values: obj.bindings, ...(obj.options ?? {}) };
    return new Promise((resolve, reject) => {
      connection.query(
        new PipelinedQuery(config, begin, commit, (err: Error | null, response: unknown) => {
          if (err) return reject(err);
          if (commit) connection[COMMIT_SENT] = true;
          obj.response = response;
          resolve(obj);
        }),
      );
    });
  }
}
