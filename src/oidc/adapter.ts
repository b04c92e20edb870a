import { errors, type Adapter, type AdapterPayload } from 'oidc-provider';
import type { Conn, Db } from '../db/knex.ts';
import {
  consumePayload,
  destroyPayload,
  findPayload,
  findPayloadByUid,
  findPayloadByUserCode,
  findPayloadWithRelated,
  insertPayloadOnce,
  relatedKey,
  revokePayloadsByGrantId,
  upsertPayload,
  writePayloads,
  type Payload,
  type PayloadWrite,
  type RelatedPayload,
} from '../db/oidc-payloads.ts';
import { findClientMetadata } from '../member-sites/client-metadata.ts';
import type { MemberSiteDeps } from '../member-sites/client-metadata.ts';
import type { MetadataRules } from '../member-sites/site-metadata.ts';
import type { Directory } from '../db/directory.ts';
import { findMemberSite } from '../db/member-sites.ts';
import { atCommit, beginRequestTransaction, forgetInRequest, memoInRequest, rememberInRequest, requestLocal } from '../db/request-scope.ts';
import { BUSY } from '../http/error-handler.ts';
import { cloneJson } from '../lib/clone-json.ts';
import { closeRegisteredClient, saveRegisteredClient } from './registration-store.ts';
import { grantWithinSiteScope } from './withdrawn-scopes.ts';

const byId = (model: string, id: string) => `oidc:${model}:${id}`;
const byUid = (model: string, uid: string) => `oidc:${model}#uid:${uid}`;

/**
 * What the provider goes on to read after a payload of these models, read in the same statement: at /token,
 * the code's (or refresh token's) grant and session. Every other model is read alone. (An interaction's
 * pushed request, read with it for the resume, cost PostgreSQL more CPU per payment flow than the round
 * trip it saved, in A/B runs: left out.)
 */
const GRANT_AND_SESSION: readonly RelatedPayload[] = [
  { model: 'Grant', by: 'id', path: ['grantId'] },
  { model: 'Session', by: 'uid', path: ['sessionUid'] },
];
const RELATED: Readonly<Record<string, readonly RelatedPayload[]>> = {
  AuthorizationCode: GRANT_AND_SESSION,
  RefreshToken: GRANT_AND_SESSION,
};

/**
 * A request's reads are remembered for the rest of it (the provider reads one session, interaction and
 * client several times in a request); every write through this adapter forgets what it changes. The
 * caller gets its own copy: the provider builds models on what it is given.
 */
async function remembered(key: string, load: () => Promise<AdapterPayload | undefined>): Promise<AdapterPayload | undefined> {
  const payload = await memoInRequest(key, load);
  return payload === undefined ? undefined : cloneJson(payload);
}

/**
 * A request's payload writes, made as one statement when it commits (a resume wrote four rows one round trip
 * each: the interaction deleted, the pushed request consumed, the code and the session saved). Nobody else
 * could see them before the commit anyway. Inside the request, reads see them: an upsert is remembered as
 * the read of its row would return it (by id, and by uid); a consumption or deletion makes everything
 * pending before the next database read of that model by id (`dirty`), and any pending write of a model
 * before a database read of it by uid or user code (`written`).
 *
 * The request's transaction still begins with the first write (unless a read began it before), so that a
 * busy pool fails the write where oidc-provider answers it (a redirect to the member site with
 * temporarily_unavailable), not at the commit. A pushed authorization request is the exception: a
 * back-channel call whose only statement is its write, answered 503 from the commit all the same, and
 * one autocommitted statement instead of three.
 */
interface PendingWrites {
  writes: Map<string, PayloadWrite>;
  dirty: Set<string>;
  written: Set<string>;
}

const PENDING_WRITES = 'oidc-payload-writes';
const writeKey = (model: string, id: string) => `${model}\u0000${id}`;

async function writePending(pending: PendingWrites, conn: Conn): Promise<void> {
  const writes = [...pending.writes.values()];
  pending.writes.clear();
  pending.dirty.clear();
  pending.written.clear();
  await writePayloads(conn, writes);
}

/**
 * No free database connection came in time (knex's acquire timeout): the provider answers 503
 * temporarily_unavailable (a member site's redirect carries it from /auth), as our own routes do, rather
 * than 500 server_error. Anything else is passed on as it is.
 */
/** The longest a private_key_jwt client assertion may be meant to live. */
const MAX_ASSERTION_SECONDS = 3600;

function busyAsUnavailable(err: unknown): never {
  if ((err as { name?: unknown } | null)?.name === 'KnexTimeoutError') {
    const busy = new errors.TemporarilyUnavailable(BUSY);
    Object.assign(busy, { status: 503, statusCode: 503 });
    throw busy;
  }
  throw err;
}

/**
 * Builds oidc-provider's adapter class: PostgreSQL for every model, our member_sites table for Client.
 * Clients are written only by Dynamic Client Registration (`registration`, when enabled), through
 * the member-site domain and its validation.
 */
export function createAdapterClass(
  db: Db,
  siteDeps: MemberSiteDeps,
  directory: Directory,
  registration?: MetadataRules,
): new (name: string) => Adapter {
  /**
   * A registration written here is forgotten by this instance's directory once it commits (others hear of
   * it); until then this request reads member sites from the database, where its own write is.
   */
  const CLIENT_WRITTEN = 'client-written-in-request';
  const forgetSitesAtCommit = () => {
    requestLocal(CLIENT_WRITTEN, () => true);
    directory.forgetAllOnceCommitted();
  };
  const findSite = (conn: Conn, clientId: string) =>
    (requestLocal<boolean>(CLIENT_WRITTEN) ? findMemberSite : directory.memberSite)(conn, clientId);
  /** This request's pending writes (outside a live request: none, and every write is made at once). */
  const pendingWrites = () =>
    requestLocal<PendingWrites>(PENDING_WRITES, () => {
      const pending: PendingWrites = { writes: new Map(), dirty: new Set(), written: new Set() };
      // writePayloads sends one statement at most.
      void atCommit(db, (conn) => writePending(pending, conn), { oneStatement: true });
      return pending;
    });
  /** Makes the pending writes before a database read that they could change: of `model` by id, by another key, or any. */
  const settleWritesFor = async (model: string | undefined, by: 'id' | 'other' = 'id') => {
    const pending = requestLocal<PendingWrites>(PENDING_WRITES);
    if (!pending) return;
    const needed = model === undefined ? pending.writes.size > 0 : (by === 'id' ? pending.dirty : pending.written).has(model);
    if (needed) await writePending(pending, db);
  };
  /** Records a pending write, and begins the request's transaction (see PendingWrites). */
  const pend = async (pending: PendingWrites, write: PayloadWrite) => {
    const key = writeKey(write.model, write.id);
    const earlier = pending.writes.get(key);
    if (write.kind === 'consume' && earlier?.kind === 'upsert') earlier.consumed = true;
    else if (write.kind === 'upsert' && earlier?.kind === 'consume') pending.writes.set(key, { ...write, consumed: true });
    else if (!(write.kind === 'consume' && earlier?.kind === 'destroy')) pending.writes.set(key, write);
    pending.written.add(write.model);
    if (write.kind !== 'upsert') pending.dirty.add(write.model);
    if (write.model !== 'PushedAuthorizationRequest') await beginRequestTransaction(db);
  };
  /**
   * Keeps the payloads a read brought along for the request's own later reads of them, found or not;
   * never over what the request already holds, nor for a model it has writes of pending (read before them).
   */
  const rememberRelated = (payload: Payload, related: readonly RelatedPayload[], rows: Array<Payload | undefined>) => {
    const pending = requestLocal<PendingWrites>(PENDING_WRITES);
    related.forEach((r, i) => {
      const key = relatedKey(payload, r);
      if (key === undefined || pending?.written.has(r.model)) return;
      void memoInRequest((r.by === 'id' ? byId : byUid)(r.model, key), () => Promise.resolve(rows[i]));
    });
  };
  /** A member site as client metadata, read once per request (the provider reads its client several times). */
  const findClient = (id: string) => remembered(byId('Client', id), () => findClientMetadata(db, siteDeps, id, findSite) as Promise<AdapterPayload | undefined>);
  const Adapter = class KnexAdapter implements Adapter {
    readonly model: string;

    constructor(model: string) {
      this.model = model;
    }

    async upsert(id: string, payload: AdapterPayload, expiresIn: number): Promise<void> {
      if (this.model === 'Client') {
        if (!registration) throw new Error('member sites are registered through cybercard, not the provider');
        forgetInRequest(byId('Client', id));
        await saveRegisteredClient({ db, ...registration }, id, payload as Record<string, unknown>);
        forgetSitesAtCommit();
        return;
      }
      const json = JSON.stringify(payload);
      // PostgreSQL's jsonb holds no NUL character: a parameter carrying one (state=a%00b) is the client's error.
      if (json.includes('\\u0000')) throw new errors.InvalidRequest('request parameters must not contain NUL characters');
      forgetInRequest(byId(this.model, id), byUid(this.model, '*'));
      if (this.model === 'ReplayDetection') {
        // Kept as long as the assertion lives: one meant to last longer than an hour is refused (RFC 7523 asks
        // for short-lived assertions; a long one is a long replay window and a row kept for years).
        if (expiresIn > MAX_ASSERTION_SECONDS) throw new errors.InvalidClientAuth('client assertion expires too far in the future (at most an hour)');
        // A client assertion's jti, stored at once rather than with the request's writes at commit: oidc-provider
        // looks it up, then saves it, so two requests racing with one assertion would both find it unused.
        if (!(await insertPayloadOnce(db, this.model, id, payload as Record<string, unknown>, expiresIn))) {
          throw new errors.InvalidClientAuth('client assertion tokens must only be used once');
        }
        return;
      }
      const pending = pendingWrites();
      if (!pending) return upsertPayload(db, this.model, id, payload as Record<string, unknown>, expiresIn);
      // As a read of the row would return it (JSON, as stored).
      const saved = JSON.parse(json) as Record<string, unknown>;
      rememberInRequest(byId(this.model, id), saved);
      if (typeof saved.uid === 'string') rememberInRequest(byUid(this.model, saved.uid), saved);
      await pend(pending, { kind: 'upsert', model: this.model, id, payload: saved, expiresIn, consumed: false });
    }

    async find(id: string): Promise<AdapterPayload | undefined> {
      // A key PostgreSQL's text cannot hold (a NUL from a client's token or code) is found nowhere.
      if (id.includes('\u0000')) return undefined;
      if (this.model === 'Client') return findClient(id);
      const found = await remembered(byId(this.model, id), async () => {
        await settleWritesFor(this.model);
        const related = RELATED[this.model];
        if (!related) return findPayload(db, this.model, id) as Promise<AdapterPayload | undefined>;
        const found = await findPayloadWithRelated(db, this.model, id, related);
        if (found.payload) rememberRelated(found.payload, related, found.related);
        return found.payload as AdapterPayload | undefined;
      });
      if (this.model !== 'Grant' || typeof found?.clientId !== 'string') return found;
      const site = await findClient(found.clientId);
      return grantWithinSiteScope(found, typeof site?.scope === 'string' ? site.scope : undefined);
    }

    async findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
      if (userCode.includes('\u0000')) return undefined;
      await settleWritesFor(this.model, 'other');
      return findPayloadByUserCode(db, this.model, userCode) as Promise<AdapterPayload | undefined>;
    }

    async findByUid(uid: string): Promise<AdapterPayload | undefined> {
      if (uid.includes('\u0000')) return undefined;
      return remembered(byUid(this.model, uid), async () => {
        await settleWritesFor(this.model, 'other');
        return findPayloadByUid(db, this.model, uid) as Promise<AdapterPayload | undefined>;
      });
    }

    async consume(id: string): Promise<void> {
      forgetInRequest(byId(this.model, id), byUid(this.model, '*'));
      const pending = pendingWrites();
      if (!pending) return consumePayload(db, this.model, id);
      await pend(pending, { kind: 'consume', model: this.model, id });
    }

    async destroy(id: string): Promise<void> {
      forgetInRequest(byId(this.model, id), byUid(this.model, '*'));
      if (this.model === 'Client') {
        await closeRegisteredClient(db, id);
        forgetSitesAtCommit();
        return;
      }
      const pending = pendingWrites();
      if (!pending) return destroyPayload(db, this.model, id);
      await pend(pending, { kind: 'destroy', model: this.model, id });
    }

    async revokeByGrantId(grantId: string): Promise<void> {
      forgetInRequest('oidc:*');
      await settleWritesFor(undefined);
      await revokePayloadsByGrantId(db, grantId);
    }
  };
  for (const method of ['upsert', 'find', 'findByUserCode', 'findByUid', 'consume', 'destroy', 'revokeByGrantId'] as const) {
    const call = Adapter.prototype[method] as (...args: unknown[]) => Promise<unknown>;
    (Adapter.prototype as unknown as Record<string, unknown>)[method] = function (this: unknown, ...args: unknown[]) {
      return call.apply(this, args).catch(busyAsUnavailable);
    };
  }
  return Adapter;
}
