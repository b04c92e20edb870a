import { randomUUID } from 'node:crypto';
import type Provider from 'oidc-provider';
import { claimDueLogout, markLogoutAttemptFailed, markLogoutSent, type QueuedLogout } from '../db/backchannel-logouts.ts';
import type { Db } from '../db/knex.ts';
import { NO_COUNTS, type EventCounts } from '../lib/event-counts.ts';
import type { Logger } from '../log.ts';

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

export interface LogoutSendResult {
  sent: number;
  failed: number;
}

/** How much longer than a post may take a claimed logout stays claimed (seconds): the record of its outcome included. */
const LEASE_MARGIN_SECONDS = 60;

/** A logout no attempt can deliver: the site is closed or no longer takes Logout Tokens. */
class Undeliverable extends Error {}

/**
 * The Logout Token for one queued logout, built as oidc-provider builds the one it posts at RP-initiated logout
 * (models/client.js backchannelLogout): typ logout+jwt, iss, aud the client_id, iat, a two-minute exp, jti, the event,
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

/** Posts one logout (§2.5: a form POST of logout_token); any 2xx answer delivers it, redirects are not followed. */
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
  if (res.status < 200 || res.status > 299) throw new Error(`the site answered ${res.status}`);
}

type Outcome = 'sent' | 'retry' | 'failed';

/**
 * Claims one due logout (db/backchannel-logouts.ts claimDueLogout: leased, so another sender never posts it too), posts
 * it with no transaction or lock held (the site may take timeoutMs to answer), and records the outcome. Logged by site
 * and outbox id only: no subject, card or holder in the lines.
 */
async function sendNext(deps: LogoutSenderDeps): Promise<Outcome | undefined> {
  const logout = await claimDueLogout(deps.db, Math.ceil(deps.timeoutMs / 1000) + LEASE_MARGIN_SECONDS);
  if (!logout) return undefined;
  const line = { logoutId: logout.id, clientId: logout.clientId, reason: logout.reason, attempt: logout.attempts + 1 };
  let outcome: Outcome = 'sent';
  try {
    await deliver(deps, logout);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    const giveUp = err instanceof Undeliverable;
    await markLogoutAttemptFailed(deps.db, logout.id, message, deps.maxAttempts, giveUp);
    outcome = giveUp || logout.attempts + 1 >= deps.maxAttempts ? 'failed' : 'retry';
    deps.log.warn({ ...line, error: message }, outcome === 'failed' ? 'back-channel logout given up' : 'back-channel logout not delivered: tried again later');
  }
  if (outcome === 'sent') {
    await markLogoutSent(deps.db, logout.id);
    deps.log.info(line, 'back-channel logout delivered');
  }
  (deps.counts ?? NO_COUNTS).backchannelLogout(outcome);
  return outcome;
}

/** Posts due logouts until none is due or `limit` were tried; a failed one waits for its backoff, so each is tried once. */
export async function sendDueLogouts(deps: LogoutSenderDeps, limit = 1000): Promise<LogoutSendResult> {
  const result: LogoutSendResult = { sent: 0, failed: 0 };
  for (let i = 0; i < limit; i++) {
    const outcome = await sendNext(deps);
    if (!outcome) break;
    result[outcome === 'sent' ? 'sent' : 'failed']++;
  }
  return result;
}

/**
 * Drains the logouts every `intervalSeconds` (0 turns it off), never two drains of this process at once; other
 * instances may drain too. Returns a function that stops it.
 */
export function startLogoutSender(deps: LogoutSenderDeps, intervalSeconds: number, batch: number): () => void {
  if (intervalSeconds <= 0) return () => {};
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    sendDueLogouts(deps, batch)
      .catch((err: unknown) => deps.log.warn({ err }, 'back-channel logout sender failed'))
      .finally(() => {
        running = false;
      });
  }, intervalSeconds * 1000);
  timer.unref();
  return () => clearInterval(timer);
}
