import type { PagePosition } from '../db/approvals.ts';
import { hmacSha256 } from '../lib/hmac.ts';
import { timingSafeEqual } from 'node:crypto';

/**
 * The `next` cursor of GET /api/approvals: where the page ended, signed with a server key over the site and the
 * filters it was listed under. Opaque to the site; one it forged, altered or took from another site's listing (or
 * from another filter's: its position would skip rows) fails the check and is refused, and never reaches SQL.
 */
export function encodeCursor(key: Buffer, scope: string, at: PagePosition): string {
  const payload = Buffer.from(JSON.stringify({ t: at.createdAt, i: at.id })).toString('base64url');
  return `${payload}.${tag(key, scope, payload).toString('base64url')}`;
}

/** The position a cursor names, or undefined when it is not one this server gave for `scope`. */
export function decodeCursor(key: Buffer, scope: string, cursor: string): PagePosition | undefined {
  const m = /^([A-Za-z0-9_-]{1,200})\.([A-Za-z0-9_-]{43})$/.exec(cursor);
  if (!m) return undefined;
  const given = Buffer.from(m[2]!, 'base64url');
  if (given.length !== 32 || !timingSafeEqual(given, tag(key, scope, m[1]!))) return undefined;
  const at = JSON.parse(Buffer.from(m[1]!, 'base64url').toString('utf8')) as { t?: unknown; i?: unknown };
  return typeof at.t === 'string' && typeof at.i === 'string' ? { createdAt: at.t, id: at.i } : undefined;
}

function tag(key: Buffer, scope: string, payload: string): Buffer {
  return hmacSha256(key, `approvals-page\n${scope}\n${payload}`);
}
