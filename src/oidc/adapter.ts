import { errors, type Adapter, type AdapterPayload } from 'oidc-provider';
import type { Db } from '../db/knex.ts';
import {
  consumePayload,
  destroyPayload,
  findPayload,
  findPayloadByUid,
  findPayloadByUserCode,
  revokePayloadsByGrantId,
  upsertPayload,
} from '../db/oidc-payloads.ts';
import { findClientMetadata } from '../member-sites/client-metadata.ts';
import type { MemberSiteDeps } from '../member-sites/client-metadata.ts';
import type { Directory } from '../db/directory.ts';
import { afterRequestCommit, forgetInRequest, memoInRequest } from '../db/request-scope.ts';
import { BUSY } from '../http/error-handler.ts';
import { closeRegisteredClient, saveRegisteredClient } from './registration-store.ts';

const byId = (model: string, id: string) => `oidc:${model}:${id}`;
const byUid = (model: string, uid: string) => `oidc:${model}#uid:${uid}`;

/**
 * A request's reads are remembered for the rest of it (the provider reads one session, interaction and
 * client several times in a request); every write through this adapter forgets what it changes. The
 * caller gets its own copy: the provider builds models on what it is given.
 */
async function remembered(key: string, load: () => Promise<AdapterPayload | undefined>): Promise<AdapterPayload | undefined> {
  const payload = await memoInRequest(key, load);
  return payload === undefined ? undefined : structuredClone(payload);
}

/**
 * No free database connection came in time (knex's acquire timeout): the provider answers 503
 * temporarily_unavailable (a member site's redirect carries it from /auth), as our own routes do, rather
 * than 500 server_error. Anything else is passed on as it is.
 */
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
  registration?: { requireHttps: boolean },
): new (name: string) => Adapter {
  /** A registration written here is forgotten by this instance's directory once it commits (others hear of it). */
  const forgetSitesAtCommit = () => {
    if (!afterRequestCommit(directory.forgetAll)) directory.forgetAll();
  };
  const Adapter = class KnexAdapter implements Adapter {
    readonly model: string;

    constructor(model: string) {
      this.model = model;
    }

    async upsert(id: string, payload: AdapterPayload, expiresIn: number): Promise<void> {
      if (this.model === 'Client') {
        if (!registration) throw new Error('member sites are registered through cybercard, not the provider');
        forgetInRequest(byId('Client', id));
        await saveRegisteredClient({ db, requireHttps: registration.requireHttps }, id, payload as Record<string, unknown>);
        forgetSitesAtCommit();
        return;
      }
      forgetInRequest(byId(this.model, id), byUid(this.model, '*'));
      await upsertPayload(db, this.model, id, payload as Record<string, unknown>, expiresIn);
    }

    async find(id: string): Promise<AdapterPayload | undefined> {
      if (this.model === 'Client') return remembered(byId('Client', id), () => findClientMetadata(db, siteDeps, id, directory.memberSite) as Promise<AdapterPayload | undefined>);
      return remembered(byId(this.model, id), () => findPayload(db, this.model, id) as Promise<AdapterPayload | undefined>);
    }

    async findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
      return findPayloadByUserCode(db, this.model, userCode) as Promise<AdapterPayload | undefined>;
    }

    async findByUid(uid: string): Promise<AdapterPayload | undefined> {
      return remembered(byUid(this.model, uid), () => findPayloadByUid(db, this.model, uid) as Promise<AdapterPayload | undefined>);
    }

    async consume(id: string): Promise<void> {
      forgetInRequest(byId(this.model, id), byUid(this.model, '*'));
      await consumePayload(db, this.model, id);
    }

    async destroy(id: string): Promise<void> {
      forgetInRequest(byId(this.model, id), byUid(this.model, '*'));
      if (this.model === 'Client') {
        await closeRegisteredClient(db, id);
        forgetSitesAtCommit();
        return;
      }
      await destroyPayload(db, this.model, id);
    }

    async revokeByGrantId(grantId: string): Promise<void> {
      forgetInRequest('oidc:*');
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
