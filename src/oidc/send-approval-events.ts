import { importJWK, SignJWT } from 'jose';
import { APPROVAL_EVENT_COLUMNS, approvalEventFromRow, type QueuedApprovalEvent } from '../db/approval-events.ts';
import type { Db } from '../db/knex.ts';
import { findMemberSite } from '../db/member-sites.ts';
import { NO_COUNTS, type EventCounts } from '../lib/event-counts.ts';
import type { Logger } from '../log.ts';
import type { KeyRing } from './key-ring.ts';
import { SIGNING_ALG } from './keys.ts';
import { sendDue, startDraining, Undeliverable, type Drainer, type SendResult, type SiteOutboxSender } from './site-outbox-sender.ts';

export interface ApprovalEventSenderDeps {
  db: Db;
  /** The provider's signing keys as they are now: each event is signed with the one ID tokens are signed with. */
  keys: Pick<KeyRing, 'jwks' | 'signingKid'>;
  /** Our issuer: the tokens' iss. */
  issuer: string;
  /** How posts reach the sites: the provider's fetch (public addresses only unless oidc.allowPrivateFetch). */
  fetch: (url: string, init: RequestInit) => Promise<Response>;
  log: Logger;
  /** Attempts before an event is marked failed (config approvalEvents.maxAttempts). */
  maxAttempts: number;
  /** How long a site has to answer one post (config approvalEvents.timeoutMs). */
  timeoutMs: number;
  counts?: EventCounts;
}

/** The most of a site's error answer read: RFC 8935 §2.3's {"err", "description"} is a few hundred bytes. */
const ERROR_BODY_LIMIT = 4096;

/**
 * The Security Event Token (RFC 8417) for one queued event: typ secevent+jwt (§2.3), iss, aud the site's client_id,
 * iat (this attempt), jti (the event's own, the same at every attempt so the site can drop a repeat), toe (when the
 * change was made), and `events` with the one event and its payload. No sub, no exp: RFC 8417 §2.2 leaves them out
 * of a SET, and the event's subject is the approval named in the payload. Signed with the provider's current key.
 */
async function securityEventToken(deps: ApprovalEventSenderDeps, e: QueuedApprovalEvent): Promise<string> {
  const kid = deps.keys.signingKid;
  const jwk = deps.keys.jwks.keys.find((k) => k.kid === kid);
  // An event waits (tried again later) rather than go out signed with a key no one publishes.
  if (!kid || !jwk) throw new Error('no signing key signs now');
  const alg = typeof jwk.alg === 'string' ? jwk.alg : SIGNING_ALG;
  return new SignJWT({ jti: e.jti, toe: Math.floor(e.createdAt.getTime() / 1000), events: { [e.event]: e.payload } })
    .setProtectedHeader({ alg, kid, typ: 'secevent+jwt' })
    .setIssuer(deps.issuer)
    .setAudience(e.clientId)
    .setIssuedAt()
    .sign(await importJWK(jwk, alg));
}

/** The start of a response body, read no further than `limit` bytes. */
async function bodyStart(res: Response, limit: number): Promise<string> {
  const reader = res.body?.getReader();
  if (!reader) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  while (size < limit) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    size += value.byteLength;
  }
  await reader.cancel();
  return Buffer.concat(chunks).subarray(0, limit).toString('utf8');
}

/** RFC 8935 §2.3's error code in a 400's body, if it is one (a short code, never the site's free text). */
function errorCode(text: string): string | undefined {
  try {
    const err = (JSON.parse(text) as { err?: unknown }).err;
    return typeof err === 'string' && /^[a-z_]{1,64}$/.test(err) ? err : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Pushes one event (RFC 8935 §2.1: the token as the body, application/secevent+jwt). A 2xx answer (202 Accepted,
 * §2.2) delivers it; a 400 with an RFC 8935 error body (§2.3) says the site will never take it, so it is given up, the
 * site's err code logged, but for invalid_key (a site may hold our keys from before a rotation); anything else is tried
 * again. Redirects are not followed.
 */
async function deliver(deps: ApprovalEventSenderDeps, e: QueuedApprovalEvent): Promise<void> {
  const site = await findMemberSite(deps.db, e.clientId);
  const uri = site?.approvalEventsUri;
  if (!site || !uri || site.status === 'closed') throw new Undeliverable('the site is closed or has no approval_events_uri now');
  const res = await deps.fetch(uri, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/secevent+jwt', accept: 'application/json' },
    body: await securityEventToken(deps, e),
    signal: AbortSignal.timeout(deps.timeoutMs),
  });
  if (res.status !== 400) {
    await res.body?.cancel();
    if (res.status >= 200 && res.status <= 299) return;
    throw new Error(`the site answered ${res.status}`);
  }
  const err = errorCode(await bodyStart(res, ERROR_BODY_LIMIT));
  // A key refused may be one the site has not fetched yet (ours rotate): tried again, within maxAttempts.
  if (err === 'invalid_key') throw new Error('the site refused its key: invalid_key (tried again)');
  if (err) throw new Undeliverable(`the site refused it: ${err}`);
  throw new Error('the site answered 400 without an RFC 8935 error');
}

/** The approval events outbox as a site outbox sender drains it (site-outbox-sender.ts). */
function approvalEventOutbox(deps: ApprovalEventSenderDeps): SiteOutboxSender<QueuedApprovalEvent> {
  return {
    db: deps.db,
    log: deps.log,
    table: 'approval_events',
    columns: APPROVAL_EVENT_COLUMNS,
    toItem: approvalEventFromRow,
    deliver: (e) => deliver(deps, e),
    line: (e) => ({ eventId: e.id, clientId: e.clientId, event: e.event, approvalNo: e.approvalNo, jti: e.jti }),
    what: 'approval event',
    count: (outcome) => (deps.counts ?? NO_COUNTS).approvalEvent(outcome),
    // An approval's events must reach its site in the order they happened (a report opened before it is decided).
    inOrderPerSite: true,
    maxAttempts: deps.maxAttempts,
    timeoutMs: deps.timeoutMs,
  };
}

/** Pushes due events until none is due or `limit` were tried; a failed one waits for its backoff, so each is tried once. */
export function sendDueApprovalEvents(deps: ApprovalEventSenderDeps, limit = 1000): Promise<SendResult> {
  return sendDue(approvalEventOutbox(deps), limit);
}

/** Drains the events every `intervalSeconds` (0 turns it off), and when nudged. */
export function startApprovalEventSender(deps: ApprovalEventSenderDeps, intervalSeconds: number, batch: number): Drainer {
  return startDraining(() => sendDueApprovalEvents(deps, batch), deps.log, 'approval event', intervalSeconds);
}
