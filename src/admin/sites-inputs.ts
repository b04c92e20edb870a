import { z } from 'zod';
import { reasonField } from '../cards/input-fields.ts';
import { AppError, ValidationError } from '../errors.ts';
import { MAX_OVERLAP_SECONDS } from '../member-sites/rotate-secret.ts';
import { refuseUnknownFields, sentence, SOME_FIELDS } from './operator-input.ts';

/**
 * The operator API speaks snake_case JSON, with RFC 7591 names where one exists; the member-sites
 * domain takes camelCase. Shared by the operator API and the CLI.
 */
const FIELDS: Record<string, string> = {
  client_id: 'clientId',
  name: 'name',
  client_name: 'name',
  homepage_uri: 'homepageUri',
  client_uri: 'homepageUri',
  logo_uri: 'logoUri',
  redirect_uris: 'redirectUris',
  post_logout_redirect_uris: 'postLogoutRedirectUris',
  token_endpoint_auth_method: 'tokenEndpointAuthMethod',
  jwks: 'jwks',
  jwks_uri: 'jwksUri',
  resource_servers: 'resourceServers',
  content_rating: 'contentRating',
  scope: 'scope',
  max_amount: 'maxAmount',
  access_token_ttl: 'accessTokenTtl',
  id_token_ttl: 'idTokenTtl',
  refresh_token_ttl: 'refreshTokenTtl',
  auto_capture: 'autoCapture',
  backchannel_logout_uri: 'backchannelLogoutUri',
  backchannel_logout_session_required: 'backchannelLogoutSessionRequired',
  approval_events_uri: 'approvalEventsUri',
  allowed_claims: 'allowedClaims',
  require_pushed_authorization_requests: 'requirePushedAuthorizationRequests',
};

const KNOWN = new Set(Object.keys(FIELDS));

/** The body in the domain's field names; a field the API does not know (a domain name too) is refused, each named. */
export function toDomainFields(body: Record<string, unknown>): Record<string, unknown> {
  refuseUnknownFields(body, KNOWN);
  return Object.fromEntries(Object.entries(body).map(([k, v]) => [FIELDS[k]!, v]));
}

/** A domain field (redirectUris, or redirectUris.0 for an item) under the API's name: redirect_uris. */
function apiName(field: string): string {
  return field.split('.')[0]!.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

/**
 * A refusal of the member-sites domain in the operator's language: fields under the API's names, each message a
 * sentence ("must not contain wildcards (item 0)" → "Must not contain wildcards (item 0)."), a refused field set
 * as a whole said once. The domain's own words serve /reg too, after RFC 7591's field names.
 */
function operatorSiteError(err: unknown): unknown {
  if (!(err instanceof AppError) || !err.expose) return err;
  const fields: Record<string, string> = {};
  let whole: string | undefined;
  for (const [field, message] of Object.entries(err.fields ?? {})) {
    // An issue of the input as a whole (nothing to change) is the answer's sentence, not a field's.
    if (field === 'input') whole = sentence(message);
    else fields[apiName(field)] ??= sentence(message);
  }
  const named = Object.keys(fields).length > 0;
  const message = whole ?? (err instanceof ValidationError && named ? SOME_FIELDS : sentence(err.message));
  return new AppError(err.code, message, { status: err.status, cause: err, ...(named ? { fields } : {}) });
}

export const clientIdParam = z.strictObject({ client_id: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'Not a client id.') });

export const reasonInput = z.strictObject({ reason: reasonField });

const OVERLAP = `A whole number of seconds from 0 to ${MAX_OVERLAP_SECONDS} (0 stops the old secret now).`;

export const rotateInput = z.strictObject({ overlap_seconds: z.number({ error: OVERLAP }).int(OVERLAP).min(0, OVERLAP).max(MAX_OVERLAP_SECONDS, OVERLAP).optional() });

export const listQuery = z.strictObject({ status: z.enum(['active', 'suspended', 'closed']).optional() });

/** A call into the member-sites domain, its refusal in the operator's language (operatorSiteError). */
export async function siteCall<T>(work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (err) {
    throw operatorSiteError(err);
  }
}
