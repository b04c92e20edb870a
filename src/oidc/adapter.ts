import type { Adapter, AdapterPayload } from 'oidc-provider';
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
import { closeRegisteredClient, saveRegisteredClient } from './registration-store.ts';

/**
 * Builds oidc-provider's adapter class: PostgreSQL for every model, our member_sites table for Client.
 * Clients are written only by Dynamic Client Registration (`registration`, when enabled), through
 * the member-site domain and its validation.
 */
export function createAdapterClass(
  db: Db,
  siteDeps: MemberSiteDeps,
  registration?: { requireHttps: boolean },
): new (name: string) => Adapter {
  return class KnexAdapter implements Adapter {
    readonly model: string;

    constructor(model: string) {
      this.model = model;
    }

    async upsert(id: string, payload: AdapterPayload, expiresIn: number): Promise<void> {
      if (this.model === 'Client') {
        if (!registration) throw new Error('member sites are registered through cybercard, not the provider');
        await saveRegisteredClient({ db, requireHttps: registration.requireHttps }, id, payload as Record<string, unknown>);
        return;
      }
      await upsertPayload(db, this.model, id, payload as Record<string, unknown>, expiresIn);
    }

    async find(id: string): Promise<AdapterPayload | undefined> {
      if (this.model === 'Client') return findClientMetadata(db, siteDeps, id) as Promise<AdapterPayload | undefined>;
      return findPayload(db, this.model, id) as Promise<AdapterPayload | undefined>;
    }

    async findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
      return findPayloadByUserCode(db, this.model, userCode) as Promise<AdapterPayload | undefined>;
    }

    async findByUid(uid: string): Promise<AdapterPayload | undefined> {
      return findPayloadByUid(db, this.model, uid) as Promise<AdapterPayload | undefined>;
    }

    async consume(id: string): Promise<void> {
      await consumePayload(db, this.model, id);
    }

    async destroy(id: string): Promise<void> {
      if (this.model === 'Client') return closeRegisteredClient(db, id);
      await destroyPayload(db, this.model, id);
    }

    async revokeByGrantId(grantId: string): Promise<void> {
      await revokePayloadsByGrantId(db, grantId);
    }
  };
}
