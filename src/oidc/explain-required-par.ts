import type { Context, Next } from 'koa';
import { rewriteRedirectedError } from './rewrite-redirected-error.ts';

/** What oidc-provider says (actions/authorization/process_request_object.js) when a site that must use PAR did not. */
const PROVIDER_DESCRIPTION = 'Pushed Authorization Request must be used';

/** Ours, still under invalid_request (RFC 9126 §6 names no error of its own): what to do, in the README's words. */
export const SITE_PAR_REFUSAL =
  'this member site must push every authorization request through PAR (RFC 9126): send it to the pushed authorization request endpoint, then open the request_uri it answers';

const HTML_PROVIDER = `name="error_description" value="${PROVIDER_DESCRIPTION}"`;
// No character of SITE_PAR_REFUSAL needs HTML escaping (& < > " '), checked by the test's exact match.
const HTML_OURS = `name="error_description" value="${SITE_PAR_REFUSAL}"`;

function explained(params: URLSearchParams): boolean {
  if (params.get('error') !== 'invalid_request' || params.get('error_description') !== PROVIDER_DESCRIPTION) return false;
  params.set('error_description', SITE_PAR_REFUSAL);
  return true;
}

/**
 * A member site registered with require_pushed_authorization_requests (by the operator or itself) whose browser comes
 * with a request not pushed is sent back invalid_request: this gives that refusal the card manager's own description,
 * in whichever response mode carries it (query, fragment, form_post). Only that refusal, only at /auth: the provider's
 * check has no hook, so its answer is rewritten on the way out, as explainSuspendedSite does. Mount it in the provider.
 */
export async function explainRequiredPar(ctx: Context, next: Next): Promise<void> {
  await next();
  const oidc = (ctx as Context & { oidc?: { route?: string; client?: { requirePushedAuthorizationRequests?: boolean } } }).oidc;
  if (oidc?.route !== 'authorization' || oidc.client?.requirePushedAuthorizationRequests !== true) return;
  if (typeof ctx.body === 'string' && ctx.body.includes(HTML_PROVIDER) && ctx.body.includes('name="error" value="invalid_request"')) {
    ctx.body = ctx.body.replace(HTML_PROVIDER, HTML_OURS);
    return;
  }
  rewriteRedirectedError(ctx, explained);
}
