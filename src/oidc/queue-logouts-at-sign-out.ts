import type Provider from 'oidc-provider';
import type { Client, KoaContextWithOIDC } from 'oidc-provider';
import { queueLogout } from '../db/backchannel-logouts.ts';
import type { Db } from '../db/knex.ts';
import { afterRequestCommit } from '../db/request-scope.ts';
import type { Logger } from '../log.ts';

/** Why a logout queued at sign-out was sent: what the outbox, the log and the operator's deliveries show. */
export const SIGNED_OUT_REASON = 'signed out at the card manager';

/** oidc-provider's Client method end_session calls once per site to tell (models/client.js, v9; untyped there). */
interface BackchannelLogoutMethod {
  backchannelLogout(this: Client, accountId: string, sid: string): Promise<void>;
}

/**
 * Hands the Logout Tokens of RP-initiated logout to the back-channel outbox instead of posting them in the request.
 *
 * oidc-provider v9 posts them itself, inside the sign-out (actions/end_session.js awaits
 * `client.backchannelLogout(accountId, sid)` for each site before it answers): up to 2.5 s per slow site, and once
 * only, a site that is down never told. It offers no supported way to defer them: features.backchannelLogout takes
 * only `enabled`, and its events (backchannel.success, backchannel.error) come after the post. Turning the feature off
 * would drop backchannel_logout_uri from the client metadata it accepts and from discovery. So the one method it calls
 * per site is replaced, on this provider's own Client class: it queues the logout (sid only for a site that asked for
 * it, as the provider's method did) in the request's transaction, and send-logout-tokens.ts builds and posts the token
 * as the provider's method built it (pairwise sub, sid), with retries. test/oidc/backchannel-logout.test.ts fails if an
 * upgrade posts from the sign-out again (the site is told before any drain) or no longer calls this (no row).
 * `queued` is called once the sign-out has committed (the sender's nudge: healthy sites hear of it at once, as before).
 */
export function queueLogoutsAtSignOut(provider: Provider, db: Db, log: Logger, queued: () => void = () => {}): void {
  const prototype = provider.Client.prototype as unknown as Partial<BackchannelLogoutMethod>;
  if (typeof prototype.backchannelLogout !== 'function') {
    throw new Error('oidc-provider has no Client#backchannelLogout: RP-initiated logout would not reach the back-channel outbox (see oidc/queue-logouts-at-sign-out.ts)');
  }
  prototype.backchannelLogout = async function backchannelLogout(this: Client, accountId: string, sid: string): Promise<void> {
    await queueLogout(db, { clientId: this.clientId, accountId, sid: this.backchannelLogoutSessionRequired ? sid : null, reason: SIGNED_OUT_REASON });
    if (!afterRequestCommit(queued)) queued();
  };
  // The provider takes a failed queueing as a failed post and goes on; on PostgreSQL the failed write aborted the
  // request's transaction, so the sign-out fails with it (nothing changed) and the holder may try again.
  provider.on('backchannel.error', (_ctx: KoaContextWithOIDC, err: Error, client: Client) => {
    log.error({ clientId: client.clientId, err }, 'back-channel logout at sign-out not queued');
  });
}
