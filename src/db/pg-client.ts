import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import pg from 'pg';

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
}
type ClientPgClass = new (config: unknown) => {
  _query(connection: PgConnection, obj: KnexQueryObject): Promise<KnexQueryObject>;
};
type TransactionPgClass = new (...args: unknown[]) => { isolationLevel?: string; readOnly?: boolean; begin(conn: PgConnection): Promise<unknown> };
const ClientPG = require('knex/lib/dialects/postgres/index.js') as ClientPgClass;
const TransactionPG = require('knex/lib/dialects/postgres/execution/pg-transaction.js') as TransactionPgClass;

const BEGIN_PENDING = Symbol('cybercard.beginPending');
const PREPARED = Symbol('cybercard.prepared');
const UNUSABLE = Symbol('cybercard.unusablePrepared');

/**
 * Prepared statements. Sent unnamed, a statement is parsed, analysed and planned by PostgreSQL every time it
 * runs; named, once per connection (and after five runs PostgreSQL may keep a generic plan). A payment flow
 * sends about fifteen statements that no one had named, among them the approval's overdue check (two
 * lateral joins), the velocity count and the ledger insert: naming them all cut PostgreSQL's CPU per flow by
 * about 40% (10-12.6 ms to 5.9-7.8 ms) in A/B runs. So a statement with bindings that has no name of its own
 * gets one from its text, unless:
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
  parsedStatements: Record<string, string>;
  submittedNamedStatements: Record<string, string>;
}

/** pg's Query, with BEGIN sent ahead of it in the same pipeline and BEGIN's completion kept out of its result. */
class BeginThenQuery extends (pg.Query as unknown as new (config: unknown, values: unknown, callback: unknown) => {
  name?: string;
  prepare(connection: PgWire): void;
  handleCommandComplete(msg: unknown, connection: PgWire): void;
  handleError(err: Error, connection: PgWire): void;
}) {
  private beginAnswered = false;
  /** This query sends the Parse of its named statement (not parsed on this connection before). */
  private parsesNamed = false;

  override prepare(connection: PgWire): void {
    this.parsesNamed =
      this.name !== undefined && connection.parsedStatements[this.name] === undefined && connection.submittedNamedStatements[this.name] === undefined;
    connection.parse({ text: 'BEGIN' });
    connection.bind({ values: [] });
    connection.execute({ rows: 0 });
    super.prepare(connection);
  }

  override handleCommandComplete(msg: unknown, connection: PgWire): void {
    if (!this.beginAnswered) {
      this.beginAnswered = true;
      // pg took BEGIN's ParseComplete, the first, for the named statement's and recorded it as parsed. Only the
      // statement's own ParseComplete, which comes next if its Parse succeeds, may record that.
      if (this.parsesNamed) delete connection.parsedStatements[this.name!];
      return;
    }
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

export class PipelinedBeginClient extends ClientPG {
  transaction(...args: unknown[]): unknown {
    return new DeferredBeginTransaction(this, ...args);
  }

  override async _query(connection: PgConnection, obj: KnexQueryObject): Promise<KnexQueryObject> {
    const name = prepareOn(connection, obj);
    try {
      return await this.queryBeginningIfPending(connection, obj);
    } catch (err) {
      if (name && isChangedResultType(err)) (connection[UNUSABLE] ??= new Set()).add(name);
      throw err;
    }
  }

  private async queryBeginningIfPending(connection: PgConnection, obj: KnexQueryObject): Promise<KnexQueryObject> {
    if (!connection[BEGIN_PENDING]) return super._query(connection, obj);
    connection[BEGIN_PENDING] = false;
    if (!obj.bindings?.length || !obj.sql) {
      await super._query(connection, { sql: 'BEGIN;' });
      return super._query(connection, obj);
    }
    const config = { text: obj.sql, values: obj.bindings, ...(obj.options ?? {}) };
    return new Promise((resolve, reject) => {
      connection.query(
        new BeginThenQuery(config, undefined, (err: Error | null, response: unknown) => {
          if (err) return reject(err);
          obj.response = response;
          resolve(obj);
        }),
      );
    });
  }
}
