import type { EventEmitter } from 'node:events';
import type Provider from 'oidc-provider';
import type { KoaContextWithOIDC } from 'oidc-provider';
import type { Logger } from '../log.ts';

/** The provider's events for a refused request at the endpoints member sites and their browsers use. */
const REFUSALS = [
  'authorization.error',
  'pushed_authorization_request.error',
  'grant.error',
  'introspection.error',
  'revocation.error',
  'userinfo.error',
  'end_session.error',
  'end_session_confirm.error',
  'registration_create.error',
  'registration_read.error',
  'registration_update.error',
  'registration_delete.error',
] as const;

interface ProviderError {
  error?: string;
  error_description?: string;
  /** oidc-provider's own reason, kept out of the response ("PKCE verification failed", "… redirect_uri mismatch"). */
  error_detail?: string;
}

/**
 * Logs why the provider refused a request, with the request id and the member site. oidc-provider answers
 * its own errors inside each route, out of reach of our error handler, and keeps the real reason out of the
 * response: a wrong code_verifier, a redirect_uri other than the authorization request's, a code used twice
 * or expired all answer "grant request is invalid". Without this the reason was written nowhere, and a
 * provider server error (a bug in one of our callbacks) left no stack either.
 */
export function logProviderRefusals(provider: Provider, log: Logger): void {
  const about = (ctx: KoaContextWithOIDC) => ({
    requestId: ctx.res.getHeader('x-request-id'),
    route: ctx.oidc?.route,
    clientId: ctx.oidc?.client?.clientId,
  });
  // The provider's typings overload on() per event name; these listeners all take the same (ctx, err).
  const events: EventEmitter = provider;
  for (const event of REFUSALS) {
    events.on(event, (ctx: KoaContextWithOIDC, err: ProviderError) => {
      log.info({ ...about(ctx), error: err.error, detail: err.error_detail ?? err.error_description }, 'provider refused the request');
    });
  }
  provider.on('server_error', (ctx: KoaContextWithOIDC, err: unknown) => {
    log.error({ ...about(ctx), err }, 'provider server error');
  });
}
