import { z } from 'zod';
import { MAX_OVERLAP_SECONDS } from '../member-sites/rotate-secret.ts';

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
};

const BACK: Record<string, string> = Object.fromEntries(
  Object.entries(FIELDS).filter(([snake]) => !['client_name', 'client_uri'].includes(snake)).map(([snake, camel]) => [camel, snake]),
);

/** The body in the domain's field names; unknown fields keep their name so the strict schema names them. */
export function toDomainFields(body: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(body).map(([k, v]) => [FIELDS[k] ?? k, v]));
}

/** Field errors back in the API's names. */
export function toApiFields(fields: Record<string, string> | undefined): Record<string, string> | undefined {
  if (!fields) return undefined;
  return Object.fromEntries(Object.entries(fields).map(([k, v]) => [BACK[k.split('.')[0]!] ?? k, v]));
}

export const clientIdParam = z.object({ clientId: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'Not a client id.') });

export const reasonInput = z.object({ reason: z.string().trim().min(1, 'Give a reason.').max(500) }).strict();

export const rotateInput = z
  .object({ overlap_seconds: z.number().int().min(0).max(MAX_OVERLAP_SECONDS).optional() })
  .strict();

export const listQuery = z.object({ status: z.enum(['active', 'suspended', 'closed']).optional() }).strict();
