import { ConfigError } from '../errors.ts';

/** Network failures of the connection itself, and PostgreSQL's refusals to open a session (SQLSTATE 08, 28, 3D). */
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH']);

function isConnectionFailure(err: unknown): err is Error {
  const code = (err as { code?: unknown } | null)?.code;
  return err instanceof Error && typeof code === 'string' && (NETWORK_CODES.has(code) || /^(08|28|3D)/.test(code));
}

/** Where DATABASE_URL points, without its user or password: host, port and database. */
export function databaseWhere(databaseUrl: string): string {
  try {
    const u = new URL(databaseUrl);
    return `${decodeURIComponent(u.host)}${u.pathname}`;
  } catch {
    return 'DATABASE_URL';
  }
}

/**
 * A start that cannot reach or open its database says so in one sentence (and never with the URL's password);
 * anything else is passed on as it came.
 */
export function explainUnreachable(err: unknown, databaseUrl: string | null): unknown {
  if (!databaseUrl || !isConnectionFailure(err)) return err;
  return new ConfigError(`cannot reach or open the database at ${databaseWhere(databaseUrl)}: ${err.message}`);
}
