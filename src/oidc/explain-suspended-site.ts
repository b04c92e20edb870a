import type { Context, Next } from 'koa';
import { rewriteRedirectedError } from './rewrite-redirected-error.ts';

// The code first, as every refusal's error_description has it (approvals/site-descriptions.ts): sites branch on it.
const DESCRIPTION = 'site_suspended: this member site is suspended by the card manager; ask the card manager for the reason.';
/** What the provider answers a suspended site (no response type or code grant left) when it tries a flow. */
const REFUSALS = new Set(['unauthorized_client', 'invalid_request', 'unsupported_response_type', 'unsupported_grant_type']);

function explained(params: URLSearchParams): boolean {
  const error = params.get('error');
  if (!error || !REFUSALS.has(error)) return false;
  params.set('error_description', DESCRIPTION);
  return true;
}

/**
 * A suspended site can no longer start a flow (see member-sites/client-metadata.ts); the provider then
 * answers with its own words ("requested response_type is not allowed for this client"), which send the
 * site's developers looking for a bug. This says why instead: in a JSON error (PAR, token) and in an error
 * redirected to the site (query or fragment). Mount it in the provider.
 */
export async function explainSuspendedSite(ctx: Context, next: Next): Promise<void> {
  await next();
  const client = (ctx as Context & { oidc?: { client?: Record<string, unknown> } }).oidc?.client;
  if (client?.['urn:cybercard:status'] !== 'suspended') return;
  const body = ctx.body as { error?: unknown; error_description?: unknown } | null | undefined;
  if (body && typeof body === 'object' && typeof body.error === 'string' && REFUSALS.has(body.error)) {
    body.error_description = DESCRIPTION;
    return;
  }
  rewriteRedirectedError(ctx, explained);
}
