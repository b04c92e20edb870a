import type { Grant, KoaContextWithOIDC } from 'oidc-provider';

/**
 * The grant an authorization request continues. A payment request (authorization_details) always
 * starts a grant of its own, so the holder approves every payment and a grant's rar holds exactly
 * one approval; plain logins reuse the session's grant for the member site (SSO), unless that is a
 * payment's: its approval is spent once, so a plain login starts afresh (and asks for consent) rather
 * than give the site new tokens carrying that approval.
 */
export async function loadExistingGrant(ctx: KoaContextWithOIDC): Promise<Grant | undefined> {
  const fromConsent = (ctx.oidc.result as { consent?: { grantId?: string } } | undefined)?.consent?.grantId;
  if (fromConsent) return ctx.oidc.provider.Grant.find(fromConsent);
  if (ctx.oidc.params?.authorization_details) return undefined;
  const grantId = ctx.oidc.session?.grantIdFor(ctx.oidc.client!.clientId);
  const grant = grantId ? await ctx.oidc.provider.Grant.find(grantId) : undefined;
  return grant?.rar?.length ? undefined : grant;
}
