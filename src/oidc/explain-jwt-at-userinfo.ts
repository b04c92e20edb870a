import type { Context, Next } from 'koa';

const DESCRIPTION =
  'this is a JWT access token for your resource server (the request named a resource): check it there; userinfo takes the opaque access token of a request without resource, or read name from the ID token';

/** Whether `token` is a compact JWS whose header says it is an RFC 9068 access token (typ at+jwt). */
function isJwtAccessToken(token: string): boolean {
  const parts = token.split('.');
  if (parts.length !== 3) return false;
  try {
    const header = JSON.parse(Buffer.from(parts[0]!, 'base64url').toString('utf8')) as { typ?: unknown };
    return typeof header.typ === 'string' && header.typ.toLowerCase() === 'at+jwt';
  } catch {
    return false;
  }
}

/**
 * The access token of a request that named a resource is a JWT for that resource server (RFC 9068), which the
 * provider's userinfo does not take: it answered 'invalid token provided', which sends a site's developers looking for
 * a fault in a good token. This says why instead, in the body and the challenge. Only the token's unverified header is
 * read, and nothing from it is echoed. Mount it in the provider.
 */
export async function explainJwtAtUserinfo(ctx: Context, next: Next): Promise<void> {
  await next();
  const route = (ctx as Context & { oidc?: { route?: string } }).oidc?.route;
  if (route !== 'userinfo' || ctx.status !== 401) return;
  const body = ctx.body as { error?: unknown; error_description?: unknown } | null | undefined;
  if (!body || typeof body !== 'object' || body.error !== 'invalid_token') return;
  const token = /^Bearer +(\S+)$/i.exec(ctx.get('authorization'))?.[1];
  if (!token || !isJwtAccessToken(token)) return;
  body.error_description = DESCRIPTION;
  const challenge = ctx.response.get('www-authenticate');
  if (challenge) ctx.set('www-authenticate', challenge.replace(/error_description="[^"]*"/, `error_description="${DESCRIPTION}"`));
}
