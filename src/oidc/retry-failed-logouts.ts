import type Provider from 'oidc-provider';
import type { Client, KoaContextWithOIDC } from 'oidc-provider';
import { queueFailedLogout } from '../db/backchannel-logouts.ts';
import type { Db } from '../db/knex.ts';
import type { Logger } from '../log.ts';

/**
 * oidc-provider posts a Logout Token to each site once, at RP-initiated logout, and only emits `backchannel.error`
 * when the site does not take it. Such a logout is queued in the back-channel outbox, to be tried again as the card
 * manager's own are (send-logout-tokens.ts). Written on `db` outside the request (the provider does not wait for
 * listeners): the holder's sign-out stands whether the site heard of it or not.
 */
export function retryFailedLogouts(provider: Provider, db: Db, log: Logger): void {
  provider.on('backchannel.error', (_ctx: KoaContextWithOIDC, err: Error, client: Client, accountId: string, sid: string) => {
    const line = { clientId: client.clientId, error: err.message };
    queueFailedLogout(db, {
      clientId: client.clientId,
      accountId,
      sid: client.backchannelLogoutSessionRequired ? sid : null,
      reason: 'signed out at the card manager',
      error: err.message,
    }).then(
      () => log.warn(line, 'back-channel logout at sign-out not delivered: tried again later'),
      (e: unknown) => log.error({ ...line, err: e }, 'back-channel logout at sign-out not delivered, and not queued again'),
    );
  });
}
