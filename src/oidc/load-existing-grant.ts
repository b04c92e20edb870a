import type { Grant, KoaContextWithOIDC } from 'oidc-provider';

/**
 * The grant an authorization request continues. A payment request (authorization_details) always
 * starts a grant of its own, so the holder approves every payment and a grant's rar holds exactly
 * one approval; plain logins reuse the session's grant for the member site (SSO).
 */
export async function loadExistingGrant(ctx: KoaContextWithOIDC): Promise<Grant | undefined> {
  const fromConsent = (ctx.oidc.result as { consent?: { grantId?: string } } | undefined)?.consent?.grantId;
  const grantId =
    fromConsent ?? (ctx.oidc.params?.authorization_details ? undefined : ctx.oidc.session?.grantIdFor(ctx.oidc.client!.clientId));
  return grantId ? ctx.oidc.provider.Grant.find(grantId) : undefined;
}
