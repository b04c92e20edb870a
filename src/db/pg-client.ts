import { createRequire } from 'node:module';
import pg from 'pg';

/**
 * knex's PostgreSQL client, but a transaction's BEGIN travels with its first statement.
 *
 * Every request's transaction began with a round trip of its own (BEGIN), and a round trip costs the
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
}
type ClientPgClass = new (config: unknown) => {
  _query(connection: PgConnection, obj: KnexQueryObject): Promise<KnexQueryObject>;
};
type TransactionPgClass = new (...args: unknown[]) => { isolationLevel?: string; readOnly?: boolean; begin(conn: PgConnection): Promise<unknown> };
const ClientPG = require('knex/lib/dialects/postgres/index.js') as ClientPgClass;
const TransactionPG = require('knex/lib/dialects/postgres/execution/pg-transaction.js') as TransactionPgClass;

const BEGIN_PENDING = Symbol('cybercard.beginPending');

interface PgWire {
  parse(q: { text: string; name?: string }): void;
  bind(c: { portal?: string; statement?: string; values: unknown[] }): void;
  execute(c: { portal?: string; rows?: number }): void;
  parsedStatements: Record<string, string>;
}

/** pg's Query, with BEGIN sent ahead of it in the same pipeline and BEGIN's completion kept out of its result. */
class BeginThenQuery extends (pg.Query as unknown as new (config: unknown, values: unknown, callback: unknown) => {
  name?: string;
  prepare(connection: PgWire): void;
  handleCommandComplete(msg: unknown, connection: PgWire): void;
  handleError(err: Error, connection: PgWire): void;
}) {
  private beginAnswered = false;

  override prepare(connection: PgWire): void {
    connection.parse({ text: 'BEGIN' });
    connection.bind({ values: [] });
    connection.execute({ rows: 0 });
    super.prepare(connection);
  }

  override handleCommandComplete(msg: unknown, connection: PgWire): void {
    if (!this.beginAnswered) {
      this.beginAnswered = true;
      return;
    }
    super.handleCommandComplete(msg, connection);
  }

  override handleError(err: Error, connection: PgWire): void {
    // pg records a named statement as parsed at the first ParseComplete, which here was BEGIN's.
    if (this.name && connection) delete connection.parsedStatements[this.name];
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
