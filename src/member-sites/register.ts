import { z } from 'zod';
import type { Db } from '../db/knex.ts';
import { appendAudit } from '../db/audit-log.ts';
import { findMemberSite, findResourceServer, insertMemberSite, type ClientAuthMethod } from '../db/member-sites.ts';
import { inTransaction } from '../db/tx.ts';
import { ConflictError, ValidationError } from '../errors.ts';
import { sha256Hex } from '../lib/hmac.ts';
import { randomToken } from '../lib/ids.ts';

export interface RegisterDeps {
  db: Db;
  /** Production: redirect URIs must be https. */
  requireHttps: boolean;
}

const redirectUri = z
  .string()
  .max(2000)
  .refine((s) => URL.canParse(s), 'must be an absolute URL')
  .refine((s) => !s.includes('#'), 'must not contain a fragment')
  .refine((s) => !s.includes('*'), 'must not contain wildcards');

export const registerInput = z.object({
  clientId: z
    .string()
    .regex(/^[a-z0-9][a-z0-9._-]{2,63}$/, 'lowercase letters, digits, dot, dash, underscore; 3–64 characters')
    .optional(),
  name: z.string().trim().min(1).max(100),
  redirectUris: z.array(redirectUri).min(1).max(20),
  postLogoutRedirectUris: z.array(redirectUri).max(20).default([]),
  tokenEndpointAuthMethod: z.enum(['client_secret_basic', 'client_secret_post', 'private_key_jwt']),
  jwks: z.object({ keys: z.array(z.record(z.string(), z.unknown())).min(1) }).optional(),
  resourceServers: z.array(z.string()).default([]),
  contentRating: z.number().int().min(0).max(99).default(0),
  homepageUri: z.url().optional(),
  logoUri: z.url().optional(),
});

export type RegisterInput = z.input<typeof registerInput>;

export interface Registered {
  clientId: string;
  /** Shown once; only its hash is stored. Absent for private_key_jwt sites. */
  clientSecret?: string;
}

function fieldErrors(error: z.ZodError): Record<string, string> {
  const out: Record<string, string> = {};
  for (const issue of error.issues) out[issue.path.join('.') || 'input'] ??= issue.message;
  return out;
}

/** Registers a member site (an OIDC client) after validating its metadata. */
export async function registerMemberSite(deps: RegisterDeps, input: RegisterInput, actor = 'operator'): Promise<Registered> {
  const parsed = registerInput.safeParse(input);
  if (!parsed.success) throw new ValidationError('Invalid member site', fieldErrors(parsed.error));
  const v = parsed.data;
  const uris = [...v.redirectUris, ...v.postLogoutRedirectUris];
  if (deps.requireHttps && uris.some((u) => new URL(u).protocol !== 'https:')) {
    throw new ValidationError('Redirect URIs must be https in production', { redirectUris: 'must be https' });
  }
  if (v.tokenEndpointAuthMethod === 'private_key_jwt' && !v.jwks) {
    throw new ValidationError('private_key_jwt needs the site’s public keys', { jwks: 'Required' });
  }
  for (const rs of v.resourceServers) {
    if (!(await findResourceServer(deps.db, rs))) {
      throw new ValidationError(`Unknown resource server ${rs}`, { resourceServers: `unknown: ${rs}` });
    }
  }
  const clientId = v.clientId ?? `site_${randomToken(12)}`;
  const method = v.tokenEndpointAuthMethod as ClientAuthMethod;
  const clientSecret = method === 'private_key_jwt' ? undefined : randomToken(32);

  await inTransaction(deps.db, async (trx) => {
    if (await findMemberSite(trx, clientId)) throw new ConflictError(`A member site ${clientId} already exists`);
    await insertMemberSite(trx, {
      clientId,
      name: v.name,
      status: 'active',
      tokenEndpointAuthMethod: method,
      clientSecretHash: clientSecret ? sha256Hex(clientSecret) : null,
      redirectUris: v.redirectUris,
      postLogoutRedirectUris: v.postLogoutRedirectUris,
      jwks: v.jwks ? { keys: v.jwks.keys } : null,
      jwksUri: null,
      scope: 'openid profile offline_access',
      resourceServers: v.resourceServers,
      contentRating: v.contentRating,
      homepageUri: v.homepageUri ?? null,
      logoUri: v.logoUri ?? null,
    });
    await appendAudit(trx, {
      actor,
      action: 'member_site.registered',
      subjectType: 'member_site',
      subjectId: clientId,
      details: { name: v.name, tokenEndpointAuthMethod: method },
    });
  });
  return clientSecret ? { clientId, clientSecret } : { clientId };
}
