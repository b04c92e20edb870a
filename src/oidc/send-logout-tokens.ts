import { randomUUID } from 'node:crypto';
import type Provider from 'oidc-provider';
import { LOGOUT_COLUMNS, logoutFromRow, type QueuedLogout } from '../db/backchannel-logouts.ts';
import type { Db } from '../db/knex.ts';
import { NO_COUNTS, type EventCounts } from '../lib/event-counts.ts';
import type { Logger } from '../log.ts';
import { sendDue, startDraining, Undeliverable, type Drainer, type SendResult, type SiteOutboxSender } from './site-outbox-sender.ts';

/** The event a Logout Token carries (Back-Channel Logout 1.0 §2.4). */
export const BACKCHANNEL_LOGOUT_EVENT = 'http://schemas.openid.net/event/backchannel-logout';

export interface LogoutSenderDeps {
  db: Db;
  /** Signs the tokens with its current key and gives each site the subject its ID tokens carry. */
  provider: Provider;
  /** How posts reach the sites: the provider's fetch (public addresses only unless oidc.allowPrivateFetch). */
  fetch: (url: string, init: RequestInit) => Promise<Response>;
  log: Logger;
  /** Attempts before a logout is marked failed (config backchannelLogout.maxAttempts). */
  maxAttempts: number;
  /** How long a site has to answer one post (config backchannelLogout.timeoutMs). */
  timeoutMs: number;
  counts?: EventCounts;
}

/**
 * The Logout Token for one queued logout, built as oidc-provider's own Client#backchannelLogout builds it
 * (models/client.js; RP-initiated logout queues here instead, oidc/queue-logouts-at-sign-out.ts): typ logout+jwt, iss, aud the client_id, iat, a two-minute exp, jti, the event,
 * the subject as the site knows it (pairwise, from the account), and sid when the site asked for it. Signed at each
 * attempt, with the key the provider signs ID tokens with now.
 */
async function logoutToken(provider: Provider, client: InstanceType<Provider['Client']>, logout: QueuedLogout): Promise<string> {
  const token = new provider.IdToken({ sub: logout.accountId }, { client });
  // The only claim taken from the account is its (pairwise) subject; mask is how oidc-provider names it (untyped).
  (token as unknown as { mask: Record<string, null> }).mask = { sub: null };
  token.set('events', { [BACKCHANNEL_LOGOUT_EVENT]: {} });
  token.set('jti', randomUUID());
  if (logout.sid) token.set('sid', logout.sid);
  return token.issue({ use: 'logout' });
}

/**
 * Posts one logout (§2.5: a form POST of logout_token); redirects are not followed. 200 or 204 delivers it (§2.8), as
 * oidc-provider's own post took them: sites written against it see the same answer taken.
 */
async function deliver(deps: LogoutSenderDeps, logout: QueuedLogout): Promise<void> {
  const client = await deps.provider.Client.find(logout.clientId);
  const uri = client?.backchannelLogoutUri;
  if (!client || !uri) throw new Undeliverable('the site is closed or has no backchannel_logout_uri now');
  const res = await deps.fetch(uri, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ logout_token: await logoutToken(deps.provider, client, logout) }),
    signal: AbortSignal.timeout(deps.timeoutMs),
  });
  await res.body?.cancel();
  if (res.status !== 200 && res.status !== 204) throw new Error(`the site answered ${res.status}`);
}

/** The logout outbox as a site outbox sender drains it (site-outbox-sender.ts). */
function logoutOutbox(deps: LogoutSenderDeps): SiteOutboxSender<QueuedLogout> {
  return {
    db: deps.db,
    log: deps.log,
    table: 'backchannel_logouts',
    columns: LOGOUT_COLUMNS,
    toItem: logoutFromRow,
    deliver: (logout) => deliver(deps, logout),
    line: (logout) => ({ logoutId: logout.id, clientId: logout.clientId, reason: logout.reason }),
    what: 'back-channel logout',
    count: (outcome) => (deps.counts ?? NO_COUNTS).backchannelLogout(outcome),
    maxAttempts: deps.maxAttempts,
    timeoutMs: deps.timeoutMs,
  };
}

/** Posts due logouts until none is due or `limit` were tried; a failed one waits for its backoff, so each is tried once. */
export function sendDueLogouts(deps: LogoutSenderDeps, limit = 1000): Promise<SendResult> {
  return sendDue(logoutOutbox(deps), limit);
}

/** Drains the logouts every `intervalSeconds` (0 turns it off), and when nudged. */
export function startLogoutSender(deps: LogoutSenderDeps, intervalSeconds: number, batch: number): Drainer {
  return startDraining(() => sendDueLogouts(deps, batch), deps.log, 'back-channel logout', intervalSeconds);
}
