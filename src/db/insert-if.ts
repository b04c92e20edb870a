import type { Knex } from 'knex';
import type { Conn } from './knex.ts';

/**
 * Pieces of one multi-table INSERT statement (data-modifying CTEs) whose rows are written only when a
 * guard CTE, named `guard`, returned a row: a write that may be skipped (ON CONFLICT DO NOTHING) decides
 * whether the rest happens, in the same round trip. Foreign keys are checked at the end of the whole
 * statement, so the rows may refer to each other in any order.
 */

/** `INSERT INTO table (columns) SELECT values FROM guard`: each value a binding typed by its column, or a knex.raw expression. */
export function insertRowIf(conn: Conn, guard: string, table: string, row: Record<string, unknown>): Knex.Raw {
  const columns = Object.keys(row);
  return conn.raw(`INSERT INTO ?? (??) SELECT ${columns.map(() => '?').join(', ')} FROM ??`, [
    table,
    columns,
    ...columns.map((c) => row[c]),
    guard,
  ] as Knex.RawBinding[]);
}

/**
 * `rows` (same columns, plain JSON values) into `table` in the order given, when `guard` has a row. They
 * travel as one JSON array read back with the table's own row type, so each value takes its column's
 * type (a multi-row VALUES list would type parameters as text).
 */
export function insertRowsIf(conn: Conn, guard: string, table: string, rows: ReadonlyArray<Record<string, unknown>>): Knex.Raw {
  const columns = Object.keys(rows[0] ?? {});
  return conn.raw(
    'INSERT INTO ?? (??) SELECT ?? FROM ??, jsonb_populate_recordset(CAST(NULL AS ??), ?) WITH ORDINALITY AS r ORDER BY r.ordinality',
    [table, columns, columns.map((c) => `r.${c}`), guard, table, JSON.stringify(rows)],
  );
}
