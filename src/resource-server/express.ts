import type { IncomingMessage, ServerResponse } from 'node:http';
import { TokenError } from './errors.ts';
import { sendTokenError } from './node-http.ts';
import type { Requirement } from './requirements.ts';
import type { ResourceServer } from './resource-server.ts';
import type { AccessToken } from './verify.ts';

/** An Express-style request: node's IncomingMessage, to which the middleware adds `accessToken`. */
export type BearerRequest = IncomingMessage & { accessToken?: AccessToken };

/**
 * Express-style (req, res, next) middleware: on success `req.accessToken` holds the verified claims
 * and next() runs; otherwise the RFC 6750 refusal is sent. Other errors go to next(err).
 */
export function expressBearer<R extends BearerRequest>(rs: ResourceServer, ...requirements: Array<Requirement<R>>) {
  return function cybercardBearer(req: R, res: ServerResponse, next: (err?: unknown) => void): void {
    rs.authenticate(req.headers.authorization, req, requirements).then(
      (token) => {
        req.accessToken = token;
        next();
      },
      (err: unknown) => {
        if (err instanceof TokenError) sendTokenError(res, err, rs.realm);
        else next(err);
      },
    );
  };
}
