import type { IncomingMessage, ServerResponse } from 'node:http';
import { challenge, errorBody, TokenError } from './errors.ts';
import type { Requirement } from './requirements.ts';
import type { ResourceServer } from './resource-server.ts';
import type { AccessToken } from './verify.ts';

/** Sends the RFC 6750 refusal for `err` on a node:http (or Express) response. */
export function sendTokenError(res: ServerResponse, err: TokenError, realm: string): void {
  const body = JSON.stringify(errorBody(err));
  res.statusCode = err.status;
  if (err.status !== 503) res.setHeader('WWW-Authenticate', challenge(err, realm));
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Content-Length', Buffer.byteLength(body));
  res.end(body);
}

/**
 * Plain node:http: the verified token, or undefined after the refusal has been sent.
 *
 *   const token = await authenticateRequest(rs, req, res, requireAge(19));
 *   if (!token) return;
 */
export async function authenticateRequest<R extends IncomingMessage>(
  rs: ResourceServer,
  req: R,
  res: ServerResponse,
  ...requirements: Array<Requirement<R>>
): Promise<AccessToken | undefined> {
  try {
    return await rs.authenticate(req.headers.authorization, req, requirements);
  } catch (err) {
    if (!(err instanceof TokenError)) throw err;
    sendTokenError(res, err, rs.realm);
    return undefined;
  }
}
