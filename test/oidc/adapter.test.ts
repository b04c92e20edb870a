import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import type { Adapter, AdapterPayload } from 'oidc-provider';
import type { Db } from '../../src/db/knex.ts';
import { openDirectory, type Directory } from '../../src/db/directory.ts';
import { openRequestScope, requestScopedDb } from '../../src/db/request-scope.ts';
import { createLogger } from '../../src/log.ts';
import { ConsumedTwiceError, consumePayload, deleteExpiredPayloads, writePayloads } from '../../src/db/oidc-payloads.ts';
import { registerMemberSite } from '../../src/member-sites/register.ts';
import { createAdapterClass } from '../../src/oidc/adapter.ts';
import { MEMBER_SITE_DEFAULTS } from '../../src/oidc/provider.ts';
import { connect, sqlDuring } from '../helpers/db.ts';
import { testEnv } from '../helpers/global.ts';

/** Every model oidc-provider stores through the adapter (Client is read from member_sites instead). */
const MODELS = [
  'Session',
  'Interaction',
  'AuthorizationCode',
  'AccessToken',
  'RefreshToken',
  'Grant',
  'ClientCredentials',
  'PushedAuthorizationRequest',
  'ReplayDetection',
  'RegistrationAccessToken',
  'InitialAccessToken',
  'DeviceCode',
  'BackchannelAuthenticationRequest',
] as const;

const T = 'oidc_payloads';

function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

/** A payload shaped like the model's, carrying every indexed field so the lookups have something to find. */
function payloadFor(model: string, id: string, extra: Partial<AdapterPayload> = {}): AdapterPayload {
  const iat = nowSeconds();
  return {
    jti: id,
    kind: model,
    iat,
    exp: iat + 300,
    accountId: `acct-${randomUUID()}`,
    clientId: `site_${randomUUID()}`,
    grantId: `grant-${randomUUID()}`,
    uid: `uid-${randomUUID()}`,
    userCode: `UC-${randomUUID()}`,
    scope: 'openid profile',
    ...extra,
  };
}

describe('oidc-provider adapter on PostgreSQL', () => {
  let db: Db;
  let Adapter: new (name: string) => Adapter;
  let directory: Directory;

  before(() => {
    db = connect(testEnv.databaseUrl);
    directory = openDirectory({ db, listen: true, log: createLogger('silent') });
    Adapter = createAdapterClass(db, MEMBER_SITE_DEFAULTS, directory);
  });
  after(async () => {
    await directory.stop();
    await db.destroy();
  });

  /** Moves a row's expiry into the past, as if its lifetime had run out. */
  async function expire(model: string, id: string): Promise<void> {
    const n = await db(T).where({ model, id }).update({ expires_at: db.raw("now() - interval '1 second'") });
    expect(n, `${model} ${id} should exist before it is expired`).to.equal(1);
  }

  async function rowCount(where: Record<string, string>): Promise<number> {
    const row = await db(T).where(where).count<{ count: string | number }[]>({ count: '*' }).first();
    return Number(row?.count ?? 0);
  }

  for (const model of MODELS) {
    describe(model, () => {
      let adapter: Adapter;
      before(() => {
        adapter = new Adapter(model);
      });

      it('finds the payload it upserted', async () => {
        const id = randomUUID();
        const payload = payloadFor(model, id);
        await adapter.upsert(id, payload, 300);
        expect(await adapter.find(id)).to.deep.equal(payload);
      });

      it('stores the expiry expiresIn seconds from now, and none when expiresIn is absent', async () => {
        const id = randomUUID();
        await adapter.upsert(id, payloadFor(model, id), 300);
        const row = await db(T).select('expires_at').where({ model, id }).first();
        const secondsLeft = (new Date(row.expires_at).getTime() - Date.now()) / 1000;
        expect(secondsLeft).to.be.within(295, 301);

        const forever = randomUUID();
        await (adapter.upsert as (id: string, p: AdapterPayload) => Promise<void>)(forever, payloadFor(model, forever));
        const foreverRow = await db(T).select('expires_at').where({ model, id: forever }).first();
        expect(foreverRow.expires_at).to.equal(null);
        expect(await adapter.find(forever)).to.have.property('jti', forever);
      });

      it(model === 'ReplayDetection' ? 'refuses a second upsert of one id: a client assertion is used once' : 'replaces the payload on a second upsert, indexed fields included', async () => {
        const id = randomUUID();
        if (model === 'ReplayDetection') {
          await adapter.upsert(id, payloadFor(model, id), 300);
          const again = await adapter.upsert(id, payloadFor(model, id), 300).then(() => undefined, (e: unknown) => e);
          expect((again as { error?: string }).error).to.equal('invalid_client');
          expect(await rowCount({ model, id })).to.equal(1);
          return;
        }
        const first = payloadFor(model, id);
        await adapter.upsert(id, first, 300);
        const second = payloadFor(model, id, { scope: 'openid', extra: { replaced: true } });
        await adapter.upsert(id, second, 300);
        const found = await adapter.find(id);
        expect(found).to.deep.equal(second);
        expect(await rowCount({ model, id })).to.equal(1);
        // The old grant, uid and user code no longer lead to the row.
        expect(await adapter.findByUid(first.uid as string)).to.equal(undefined);
        expect(await adapter.findByUserCode(first.userCode as string)).to.equal(undefined);
        await adapter.revokeByGrantId(first.grantId as string);
        expect(await adapter.find(id)).to.deep.equal(second);
      });

      it('never returns an expired row from find, findByUid or findByUserCode', async () => {
        const id = randomUUID();
        const payload = payloadFor(model, id);
        await adapter.upsert(id, payload, 300);
        expect(await adapter.find(id), 'live before it expires').to.deep.equal(payload);
        await expire(model, id);
        expect(await adapter.find(id)).to.equal(undefined);
        expect(await adapter.findByUid(payload.uid as string)).to.equal(undefined);
        expect(await adapter.findByUserCode(payload.userCode as string)).to.equal(undefined);
      });

      it('sets consumed, in epoch seconds, on every later find after consume', async () => {
        const id = randomUUID();
        const payload = payloadFor(model, id);
        await adapter.upsert(id, payload, 300);
        expect(await adapter.find(id)).to.not.have.property('consumed');
        const before = nowSeconds();
        await adapter.consume(id);
        const after = nowSeconds();
        for (let i = 0; i < 2; i++) {
          const found = await adapter.find(id);
          expect(found).to.have.property('jti', id);
          expect(found!.consumed).to.be.a('number');
          expect(Number.isInteger(found!.consumed)).to.equal(true);
          expect(found!.consumed).to.be.within(before - 1, after + 1);
        }
        const byUid = await adapter.findByUid(payload.uid as string);
        expect(byUid?.consumed).to.be.a('number');
      });

      it('removes the payload on destroy and leaves other ids alone', async () => {
        const id = randomUUID();
        const other = randomUUID();
        await adapter.upsert(id, payloadFor(model, id), 300);
        await adapter.upsert(other, payloadFor(model, other), 300);
        await adapter.destroy(id);
        expect(await adapter.find(id)).to.equal(undefined);
        expect(await rowCount({ model, id })).to.equal(0);
        expect(await adapter.find(other)).to.have.property('jti', other);
      });

      it('keeps models apart: the same id under another model is a different row', async () => {
        const id = randomUUID();
        const otherModel = model === 'Session' ? 'Interaction' : 'Session';
        await adapter.upsert(id, payloadFor(model, id), 300);
        expect(await new Adapter(otherModel).find(id)).to.equal(undefined);
        await new Adapter(otherModel).destroy(id);
        expect(await adapter.find(id)).to.have.property('kind', model);
      });
    });
  }

  describe('lookups by secondary key', () => {
    it('finds a Session by its uid, and only a live one', async () => {
      const sessions = new Adapter('Session');
      const id = randomUUID();
      const uid = `uid-${randomUUID()}`;
      const payload = payloadFor('Session', id, { uid });
      await sessions.upsert(id, payload, 300);
      expect(await sessions.findByUid(uid)).to.deep.equal(payload);
      expect(await sessions.findByUid(`uid-${randomUUID()}`)).to.equal(undefined);
      // Another model with a row carrying the same uid is not a Session.
      expect(await new Adapter('Interaction').findByUid(uid)).to.equal(undefined);
      await expire('Session', id);
      expect(await sessions.findByUid(uid)).to.equal(undefined);
    });

    it('finds a DeviceCode by its user code, and only a live one', async () => {
      const codes = new Adapter('DeviceCode');
      const id = randomUUID();
      const userCode = `WXYZ-${randomUUID().slice(0, 4)}`;
      const payload = payloadFor('DeviceCode', id, { userCode });
      await codes.upsert(id, payload, 300);
      expect(await codes.findByUserCode(userCode)).to.deep.equal(payload);
      expect(await codes.findByUserCode('NOPE-NOPE')).to.equal(undefined);
      expect(await new Adapter('AccessToken').findByUserCode(userCode)).to.equal(undefined);
      await codes.consume(id);
      expect((await codes.findByUserCode(userCode))?.consumed).to.be.a('number');
      await expire('DeviceCode', id);
      expect(await codes.findByUserCode(userCode)).to.equal(undefined);
    });

    it('stops finding a row once a tiny expiresIn has run out', async function () {
      this.timeout(10_000);
      const tokens = new Adapter('AccessToken');
      const id = randomUUID();
      const payload = payloadFor('AccessToken', id);
      await tokens.upsert(id, payload, 1);
      expect(await tokens.find(id)).to.deep.equal(payload);
      await new Promise((r) => setTimeout(r, 1_200));
      expect(await tokens.find(id)).to.equal(undefined);
      expect(await tokens.findByUid(payload.uid as string)).to.equal(undefined);
    });
  });

  describe('revokeByGrantId', () => {
    const GRANT_MODELS = ['AccessToken', 'RefreshToken', 'AuthorizationCode', 'DeviceCode', 'BackchannelAuthenticationRequest', 'Session', 'Interaction'];

    it('removes every payload of that grant across models and leaves other grants alone', async () => {
      const grantId = `grant-${randomUUID()}`;
      const otherGrantId = `grant-${randomUUID()}`;
      const ids: Record<string, { mine: string; other: string }> = {};
      for (const model of GRANT_MODELS) {
        const mine = randomUUID();
        const other = randomUUID();
        ids[model] = { mine, other };
        await new Adapter(model).upsert(mine, payloadFor(model, mine, { grantId }), 300);
        await new Adapter(model).upsert(other, payloadFor(model, other, { grantId: otherGrantId }), 300);
      }
      const noGrant = randomUUID();
      const { grantId: _unused, ...withoutGrant } = payloadFor('AccessToken', noGrant);
      await new Adapter('AccessToken').upsert(noGrant, withoutGrant, 300);
      expect(await rowCount({ grant_id: grantId })).to.equal(GRANT_MODELS.length);

      // oidc-provider calls it on each token model; any one of them must clear the whole grant.
      await new Adapter('AccessToken').revokeByGrantId(grantId);

      expect(await rowCount({ grant_id: grantId })).to.equal(0);
      for (const model of GRANT_MODELS) {
        const adapter = new Adapter(model);
        expect(await adapter.find(ids[model]!.mine), `${model} of the revoked grant`).to.equal(undefined);
        expect(await adapter.find(ids[model]!.other), `${model} of another grant`).to.have.property('grantId', otherGrantId);
      }
      expect(await new Adapter('AccessToken').find(noGrant)).to.have.property('jti', noGrant);
      expect(await rowCount({ grant_id: otherGrantId })).to.equal(GRANT_MODELS.length);
    });

    it('is harmless for a grant that has no payloads', async () => {
      const id = randomUUID();
      await new Adapter('RefreshToken').upsert(id, payloadFor('RefreshToken', id), 300);
      await new Adapter('RefreshToken').revokeByGrantId(`grant-${randomUUID()}`);
      expect(await new Adapter('RefreshToken').find(id)).to.have.property('jti', id);
    });
  });

  describe('consuming once', () => {
    const code = () => ({ model: 'AuthorizationCode', id: `code-${randomUUID()}` });
    const refusal = (p: Promise<unknown>) => p.then(() => undefined, (e: unknown) => e);

    it('refuses a second consumption, or one of a row another request deleted (a revoked grant), alone or in a batch', async () => {
      const once = code();
      await new Adapter('AuthorizationCode').upsert(once.id, payloadFor('AuthorizationCode', once.id), 60);
      await consumePayload(db, once.model, once.id);
      expect(await refusal(consumePayload(db, once.model, once.id))).to.be.instanceOf(ConsumedTwiceError);
      expect(await refusal(writePayloads(db, [{ kind: 'consume', ...once }]))).to.be.instanceOf(ConsumedTwiceError);

      const gone = code();
      expect(await refusal(consumePayload(db, gone.model, gone.id))).to.be.instanceOf(ConsumedTwiceError);
      expect(await refusal(writePayloads(db, [{ kind: 'consume', ...gone }]))).to.be.instanceOf(ConsumedTwiceError);
      // Beside the tokens the exchange would issue: none of them is written.
      const token = `at-${randomUUID()}`;
      const batch = writePayloads(db, [
        { kind: 'consume', ...gone },
        { kind: 'upsert', model: 'RefreshToken', id: token, payload: payloadFor('RefreshToken', token), expiresIn: 60, consumed: false },
      ]);
      expect(await refusal(batch)).to.be.instanceOf(ConsumedTwiceError);
      expect(await rowCount({ model: 'RefreshToken', id: token })).to.equal(0);

      // A live code and its tokens, in one statement: written.
      const live = code();
      await new Adapter('AuthorizationCode').upsert(live.id, payloadFor('AuthorizationCode', live.id), 60);
      await writePayloads(db, [
        { kind: 'consume', ...live },
        { kind: 'upsert', model: 'RefreshToken', id: token, payload: payloadFor('RefreshToken', token), expiresIn: 60, consumed: false },
      ]);
      expect(await rowCount({ model: 'RefreshToken', id: token })).to.equal(1);
      expect((await new Adapter('AuthorizationCode').find(live.id))?.consumed).to.be.a('number');
    });
  });

  describe('deleteExpiredPayloads', () => {
    it('deletes expired rows of every model and keeps live and never-expiring ones', async () => {
      const expired: [string, string][] = [];
      const live: [string, string][] = [];
      for (const model of MODELS) {
        const adapter = new Adapter(model);
        const dead = randomUUID();
        const alive = randomUUID();
        await adapter.upsert(dead, payloadFor(model, dead), 300);
        await adapter.upsert(alive, payloadFor(model, alive), 300);
        await expire(model, dead);
        expired.push([model, dead]);
        live.push([model, alive]);
      }
      const forever = randomUUID();
      await (new Adapter('Grant').upsert as (id: string, p: AdapterPayload) => Promise<void>)(forever, payloadFor('Grant', forever));

      const deleted = await deleteExpiredPayloads(db);
      expect(deleted).to.be.at.least(expired.length);
      for (const [model, id] of expired) expect(await rowCount({ model, id }), `${model} expired`).to.equal(0);
      for (const [model, id] of live) expect(await rowCount({ model, id }), `${model} live`).to.equal(1);
      expect(await rowCount({ model: 'Grant', id: forever })).to.equal(1);
    });

    it('works through a backlog larger than one batch', async () => {
      const ids = Array.from({ length: 7 }, () => randomUUID());
      await db(T).insert(
        ids.map((id) => ({
          model: 'ReplayDetection',
          id,
          payload: JSON.stringify({ jti: id }),
          expires_at: db.raw("now() - interval '1 minute'"),
        })),
      );
      const deleted = await deleteExpiredPayloads(db, 3);
      expect(deleted).to.be.at.least(ids.length);
      expect(await db(T).whereIn('id', ids).first()).to.equal(undefined);
    });
  });

  describe('Client', () => {
    let clients: Adapter;
    before(() => {
      clients = new Adapter('Client');
    });

    it('finds a registered active member site as client metadata', async () => {
      const { clientId, clientSecret } = await registerMemberSite(
        { db, requireHttps: false, ratings: {} },
        {
          name: 'Adapter Test Site',
          redirectUris: ['https://adapter-site.example.test/callback'],
          tokenEndpointAuthMethod: 'client_secret_basic',
        },
        'test',
      );
      const meta = await clients.find(clientId);
      expect(meta).to.include({
        client_id: clientId,
        client_name: 'Adapter Test Site',
        token_endpoint_auth_method: 'client_secret_basic',
        subject_type: 'pairwise',
        'urn:cybercard:status': 'active',
      });
      expect(meta!.redirect_uris).to.deep.equal(['https://adapter-site.example.test/callback']);
      // The stored hash stands in for the secret; the secret itself is never handed to the provider.
      expect(meta!.client_secret).to.be.a('string').and.not.equal(clientSecret);
    });

    it('finds nothing for an unknown client_id', async () => {
      expect(await clients.find(`site_${randomUUID()}`)).to.equal(undefined);
    });

    it('finds nothing for a closed member site', async () => {
      const { clientId } = await registerMemberSite(
        { db, requireHttps: false, ratings: {} },
        { name: 'Closed Site', redirectUris: ['https://closed.example.test/cb'], tokenEndpointAuthMethod: 'client_secret_basic' },
        'test',
      );
      await db('member_sites').where({ client_id: clientId }).update({ status: 'closed' });
      expect(await clients.find(clientId)).to.equal(undefined);
    });

    it('refuses upsert: member sites are registered through cybercard, never by the provider', async () => {
      const clientId = `site_${randomUUID()}`;
      let err: unknown;
      try {
        await clients.upsert(clientId, { client_id: clientId, redirect_uris: ['https://x.example.test/cb'] }, 300);
      } catch (e) {
        err = e;
      }
      expect(err).to.be.instanceOf(Error);
      expect(await db('member_sites').where({ client_id: clientId }).first()).to.equal(undefined);
      expect(await rowCount({ model: 'Client', id: clientId })).to.equal(0);
    });
  });

  describe('inside a request', () => {
    /** The adapter as the card manager builds it: on the request-scoped handle. */
    let Scoped: new (name: string) => Adapter;
    before(() => {
      Scoped = createAdapterClass(requestScopedDb(db), MEMBER_SITE_DEFAULTS, directory);
    });

    let writesSoFar: () => number = () => 0;
    /** Runs `work` as one request that commits (or not), and returns the oidc_payloads writes it sent. */
    async function request(work: () => Promise<void>, commit = true): Promise<string[]> {
      const writes: string[] = [];
      writesSoFar = () => writes.length;
      const seen = (q: { sql: string }) => {
        if (/oidc_payloads/.test(q.sql) && !/^select /i.test(q.sql)) writes.push(q.sql);
      };
      db.on('query', seen);
      try {
        const scope = openRequestScope();
        await scope.run(work);
        await scope.settle(commit);
      } finally {
        db.off('query', seen);
      }
      return writes;
    }

    it('makes every write of a request in one statement as it commits, and its reads see them before', async () => {
      const [gone, spent] = [`gone-${randomUUID()}`, `spent-${randomUUID()}`];
      await new Adapter('Interaction').upsert(gone, payloadFor('Interaction', gone), 300);
      await new Adapter('AuthorizationCode').upsert(spent, payloadFor('AuthorizationCode', spent), 300);
      const session = payloadFor('Session', `s-${randomUUID()}`);
      const code = `c-${randomUUID()}`;
      let writesBeforeCommit = -1;
      const writes = await request(async () => {
        const sessions = new Scoped('Session');
        await sessions.upsert(String(session.jti), session, 3600);
        await new Scoped('AuthorizationCode').upsert(code, payloadFor('AuthorizationCode', code), 60);
        await new Scoped('Interaction').destroy(gone);
        await new Scoped('AuthorizationCode').consume(spent);
        // Read back inside the request, before anything was written: from what is pending.
        expect(await sessions.find(String(session.jti))).to.deep.include({ accountId: session.accountId });
        expect(await sessions.findByUid(String(session.uid))).to.deep.include({ accountId: session.accountId });
        writesBeforeCommit = writesSoFar();
      });
      expect(writesBeforeCommit, 'nothing is written before the commit').to.equal(0);
      expect(writes).to.have.length(1);
      expect(writes[0]).to.match(/^WITH d AS \(DELETE .* c AS \(UPDATE .*INSERT INTO oidc_payloads/s);
      expect(await new Adapter('Session').find(String(session.jti))).to.deep.include({ accountId: session.accountId });
      expect(await new Adapter('AuthorizationCode').find(code)).to.not.have.property('consumed');
      expect(await new Adapter('Interaction').find(gone)).to.equal(undefined);
      expect(await new Adapter('AuthorizationCode').find(spent)).to.have.property('consumed').that.is.a('number');
    });

    it('writes what is pending before it reads a model it consumed or deleted from', async () => {
      const [spent, gone] = [`spent-${randomUUID()}`, `gone-${randomUUID()}`];
      await new Adapter('AuthorizationCode').upsert(spent, payloadFor('AuthorizationCode', spent), 300);
      const session = payloadFor('Session', gone);
      await new Adapter('Session').upsert(gone, session, 300);
      await request(async () => {
        const codes = new Scoped('AuthorizationCode');
        await codes.consume(spent);
        expect(await codes.find(spent)).to.have.property('consumed').that.is.a('number');
        const sessions = new Scoped('Session');
        expect(await sessions.findByUid(String(session.uid))).to.not.equal(undefined);
        await sessions.destroy(gone);
        expect(await sessions.find(gone)).to.equal(undefined);
        expect(await sessions.findByUid(String(session.uid))).to.equal(undefined);
        // Consumed after an upsert in the same request: one row, written consumed.
        const fresh = `fresh-${randomUUID()}`;
        await codes.upsert(fresh, payloadFor('AuthorizationCode', fresh), 60);
        await codes.consume(fresh);
        expect(await codes.find(fresh)).to.have.property('consumed').that.is.a('number');
      });
    });

    it('writes them inside the request transaction a read began, and before a lookup by uid or a revocation', async () => {
      const grantId = `g-${randomUUID()}`;
      const first = payloadFor('Session', `s1-${randomUUID()}`);
      const second = payloadFor('Session', `s2-${randomUUID()}`);
      const token = `rt-${randomUUID()}`;
      const replaced = `rp-${randomUUID()}`;
      await new Adapter('Interaction').upsert(replaced, payloadFor('Interaction', replaced, { params: { state: 'old' } }), 300);
      const writes = await request(async () => {
        const scoped = requestScopedDb(db);
        // A read first: the request's transaction begins with it, and the writes wait for the commit.
        const { rows } = (await scoped.raw('SELECT txid_current()::text AS id')) as { rows: Array<{ id: string }> };
        const sessions = new Scoped('Session');
        await sessions.upsert(String(first.jti), first, 3600);
        await sessions.upsert(String(second.jti), second, 3600);
        expect(writesSoFar()).to.equal(0);
        // A lookup by another uid than the last upsert's: what is pending is written first, so it is found.
        expect(await sessions.findByUid(String(first.uid))).to.deep.include({ accountId: first.accountId });
        expect(writesSoFar()).to.equal(1);
        const again = (await scoped.raw('SELECT txid_current()::text AS id')) as { rows: Array<{ id: string }> };
        expect(again.rows[0]!.id, 'the same transaction').to.equal(rows[0]!.id);
        // Deleted then saved again under the same id: saved.
        const interactions = new Scoped('Interaction');
        await interactions.destroy(replaced);
        await interactions.upsert(replaced, payloadFor('Interaction', replaced, { params: { state: 'new' } }), 300);
        // A revocation writes what is pending before it deletes the grant's rows.
        await new Scoped('RefreshToken').upsert(token, payloadFor('RefreshToken', token, { grantId }), 3600);
        await new Scoped('Grant').revokeByGrantId(grantId);
      });
      expect(writes.length).to.be.at.least(3);
      expect(await new Adapter('RefreshToken').find(token)).to.equal(undefined);
      expect((await new Adapter('Interaction').find(replaced))!.params).to.deep.equal({ state: 'new' });
      expect(await new Adapter('Session').find(String(second.jti))).to.deep.include({ accountId: second.accountId });
    });

    it('gives every find its own copy of what the request remembers, nested parts too', async () => {
      const id = `i-${randomUUID()}`;
      await request(async () => {
        const interactions = new Scoped('Interaction');
        await interactions.upsert(id, payloadFor('Interaction', id, { params: { state: 'kept' }, prompt: { name: 'login', reasons: ['login'], details: {} } }), 300);
        const first = (await interactions.find(id))!;
        (first.params as Record<string, unknown>).state = 'changed';
        (first.prompt as { reasons: string[] }).reasons.push('consent');
        const second = (await interactions.find(id))!;
        expect(second.params).to.deep.equal({ state: 'kept' });
        expect(second.prompt).to.deep.equal({ name: 'login', reasons: ['login'], details: {} });
      });
      expect((await new Adapter('Interaction').find(id))!.params).to.deep.equal({ state: 'kept' });
    });

    /** The oidc_payloads reads `work` sends. */
    async function readsOf(work: () => Promise<void>): Promise<number> {
      return (await sqlDuring(db, work)).filter((sql) => /oidc_payloads/.test(sql) && /^(select|with m as)/i.test(sql.trim())).length;
    }

    it("reads a code's grant and session with the code, in one statement", async () => {
      const [grantId, code] = [`g-${randomUUID()}`, `c-${randomUUID()}`];
      const session = payloadFor('Session', `s-${randomUUID()}`);
      await new Adapter('Grant').upsert(grantId, payloadFor('Grant', grantId, { accountId: 'holder' }), 300);
      await new Adapter('Session').upsert(String(session.jti), session, 300);
      await new Adapter('AuthorizationCode').upsert(code, payloadFor('AuthorizationCode', code, { grantId, sessionUid: session.uid }), 300);
      await request(async () => {
        const reads = await readsOf(async () => {
          expect(await new Scoped('AuthorizationCode').find(code)).to.include({ grantId });
          expect(await new Scoped('Grant').find(grantId)).to.include({ accountId: 'holder' });
          expect(await new Scoped('Session').findByUid(String(session.uid))).to.include({ accountId: session.accountId });
        });
        expect(reads, 'one statement').to.equal(1);
      });
    });

    it('takes what it read along as missing when it is, and never over what the request has pending', async () => {
      const [grantId, code, missing] = [`g-${randomUUID()}`, `c-${randomUUID()}`, `gone-${randomUUID()}`];
      const session = payloadFor('Session', `s-${randomUUID()}`);
      await new Adapter('Grant').upsert(grantId, payloadFor('Grant', grantId, { accountId: 'before' }), 300);
      await new Adapter('Session').upsert(String(session.jti), session, 300);
      await new Adapter('AuthorizationCode').upsert(code, payloadFor('AuthorizationCode', code, { grantId: missing, sessionUid: session.uid }), 300);
      await request(async () => {
        // A grant the code names but that is gone: known missing, without another read.
        const reads = await readsOf(async () => {
          await new Scoped('AuthorizationCode').find(code);
          expect(await new Scoped('Grant').find(missing)).to.equal(undefined);
        });
        expect(reads).to.equal(1);
      });
      await new Adapter('AuthorizationCode').upsert(code, payloadFor('AuthorizationCode', code, { grantId, sessionUid: session.uid }), 300);
      await request(async () => {
        // Changed in this request before the code is read: the request's own version stands.
        await new Scoped('Grant').upsert(grantId, payloadFor('Grant', grantId, { accountId: 'after' }), 300);
        await new Scoped('Session').destroy(String(session.jti));
        await new Scoped('AuthorizationCode').find(code);
        expect(await new Scoped('Grant').find(grantId)).to.include({ accountId: 'after' });
        expect(await new Scoped('Session').findByUid(String(session.uid))).to.equal(undefined);
      });
    });

    it('writes nothing when the request rolls back', async () => {
      const id = `rb-${randomUUID()}`;
      const writes = await request(async () => {
        await new Scoped('Grant').upsert(id, payloadFor('Grant', id), 300);
      }, false);
      expect(writes).to.deep.equal([]);
      expect(await new Adapter('Grant').find(id)).to.equal(undefined);
    });
  });
});
