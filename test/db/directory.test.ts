import { expect } from 'chai';
import * as client from 'openid-client';
import type { Db } from '../../src/db/knex.ts';
import { rotateSecret } from '../../src/member-sites/rotate-secret.ts';
import { setTimeout as sleep } from 'node:timers/promises';
import { openDirectory } from '../../src/db/directory.ts';
import { openRequestScope, requestScopedDb } from '../../src/db/request-scope.ts';
import { createLogger } from '../../src/log.ts';
import { connect } from '../helpers/db.ts';
import { announced, caughtUp, until } from '../helpers/directory.ts';
import { registerTestSite, siteClient, type TestSite } from '../helpers/fixtures.ts';
import { testEnv } from '../helpers/global.ts';
import { startCardManager, type TestServer } from '../helpers/server.ts';

/**
 * The directory (db/directory.ts): member sites and resource servers kept between requests, and forgotten
 * as soon as a change to them commits, wherever it was made. "Elsewhere" here is a connection pool of its
 * own on the same database, as another instance or the CLI would be.
 */
describe('member sites and resource servers kept between requests', () => {
  let ts: TestServer;
  let elsewhere: Db;
  /** Statements this card manager ran, by table read. */
  const reads = { member_sites: 0, resource_servers: 0 };
  const countReads = (q: { sql: string }) => {
    if (/^select .* from "member_sites"/.test(q.sql)) reads.member_sites++;
    if (/^select .* from "resource_servers"/.test(q.sql)) reads.resource_servers++;
  };
  /** Reads made by `work`. */
  async function readsOf(work: () => Promise<unknown>): Promise<typeof reads> {
    reads.member_sites = 0;
    reads.resource_servers = 0;
    await work();
    return { ...reads };
  }

  before(async () => {
    ts = await startCardManager();
    ts.db.on('query', countReads);
    elsewhere = connect(testEnv.databaseUrl, 2);
    await until(() => ts.cm.directory.listening, 'the directory listens');
  });
  after(async () => {
    await elsewhere.destroy();
    await ts.stop();
  });

  const grant = (cfg: client.Configuration, site: TestSite) => client.clientCredentialsGrant(cfg, { resource: site.resource, scope: 'read' });

  it('reads a member site and its resource server once, then serves them from memory', async () => {
    const site = await registerTestSite(ts);
    await caughtUp(ts.cm.directory, ts.db);
    const cfg = await siteClient(ts, site);
    const first = await readsOf(() => grant(cfg, site));
    expect(first.member_sites).to.be.greaterThan(0);
    expect(first.resource_servers).to.be.greaterThan(0);
    expect(await readsOf(() => grant(cfg, site))).to.deep.equal({ member_sites: 0, resource_servers: 0 });
  });

  it('forgets a site changed elsewhere once the change commits: the old secret is refused on the next request', async () => {
    const site = await registerTestSite(ts);
    await grant(await siteClient(ts, site), site);
    const rotated = await announced(ts.cm.directory, `site:${site.clientId}`, () => rotateSecret(elsewhere, site.clientId, 0));
    let refused: unknown;
    await grant(await siteClient(ts, site), site).catch((err: unknown) => (refused = err));
    expect(refused, 'the old secret should be refused').to.be.an('error');
    expect(String((refused as Error).message) + JSON.stringify(refused)).to.match(/invalid_client/);
    const fresh = { ...site, clientSecret: rotated.clientSecret };
    expect((await grant(await siteClient(ts, fresh), fresh)).access_token).to.be.a('string');
  });

  it('forgets a resource server changed elsewhere', async () => {
    const site = await registerTestSite(ts);
    const cfg = await siteClient(ts, site);
    expect((await grant(cfg, site)).scope).to.equal('read');
    await announced(ts.cm.directory, `rs:${site.resource}`, () => elsewhere('resource_servers').where({ identifier: site.resource }).update({ scope: 'read write' }));
    const token = await client.clientCredentialsGrant(cfg, { resource: site.resource, scope: 'read write' });
    expect(token.scope).to.equal('read write');
  });

  it('keeps rows again once it listens anew after its listening connection was cut', async () => {
    const site = await registerTestSite(ts);
    const cfg = await siteClient(ts, site);
    await grant(cfg, site);
    expect(ts.cm.directory.size).to.be.greaterThan(0);
    await elsewhere.raw(
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND query = 'LISTEN cybercard_directory'",
    );
    await until(() => !ts.cm.directory.listening, 'the directory notices it stopped listening');
    expect(ts.cm.directory.size).to.equal(0);
    await until(() => ts.cm.directory.listening, 'the directory listens again', 10_000);
    await grant(cfg, site);
    expect(await readsOf(() => grant(cfg, site))).to.deep.equal({ member_sites: 0, resource_servers: 0 });
  });

  it('refuses a site suspended through the operator API on the very next request of this instance', async () => {
    const site = await registerTestSite(ts);
    const cfg = await siteClient(ts, site);
    await grant(cfg, site);
    const res = await fetch(`${ts.url}/admin/api/sites/${site.clientId}/suspend`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ts.config.secrets.operatorToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ reason: 'chargebacks' }),
    });
    expect(res.status).to.equal(200);
    expect(ts.cm.directory.size).to.equal(0);
    let refused: unknown;
    await client
      .buildAuthorizationUrlWithPAR(cfg, { redirect_uri: site.redirectUri, scope: 'openid', code_challenge: 'x'.repeat(43), code_challenge_method: 'S256' })
      .catch((err: unknown) => (refused = err));
    expect((refused as { error_description?: string } | undefined)?.error_description).to.match(/^site_suspended: this member site is suspended/);
  });

  describe('settings', () => {
    it('listens on databaseListenUrl when it is set, and keeps rows as before', async () => {
      const other = await startCardManager({ databaseListenUrl: testEnv.databaseUrl });
      try {
        await until(() => other.cm.directory.listening, 'the directory listens');
        const site = await registerTestSite(other);
        await caughtUp(other.cm.directory, other.db);
        const cfg = await siteClient(other, site);
        await grant(cfg, site);
        const kept = other.cm.directory.size;
        expect(kept).to.equal(2); // the site and its resource server
        await announced(other.cm.directory, `site:${site.clientId}`, () => rotateSecret(elsewhere, site.clientId, 0));
        expect(other.cm.directory.size).to.equal(kept - 1);
      } finally {
        await other.stop();
      }
    });

    it('keeps nothing while its listening connection hears nothing (here: it listens on another database)', async () => {
      // As behind a pooler that does not carry LISTEN: connected, LISTEN accepted, and deaf. Its heartbeat
      // (a notification sent through the pool) never comes back, so it never keeps a row.
      const other = await startCardManager({ databaseListenUrl: process.env.TEST_DATABASE_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres' });
      try {
        const site = await registerTestSite(other);
        const cfg = await siteClient(other, site);
        await sleep(300);
        for (let i = 0; i < 3; i++) await grant(cfg, site);
        expect(other.cm.directory.listening).to.equal(false);
        expect(other.cm.directory.size).to.equal(0);
      } finally {
        await other.stop();
      }
    });

    it('keeps nothing with keepMemberSites false: every request reads the database', async () => {
      const other = await startCardManager({ keepMemberSites: false });
      try {
        const site = await registerTestSite(other);
        const cfg = await siteClient(other, site);
        let n = 0;
        const count = (q: { sql: string }) => void (/^select .* from "member_sites"/.test(q.sql) && n++);
        other.db.on('query', count);
        await grant(cfg, site);
        await grant(cfg, site);
        other.db.off('query', count);
        expect(other.cm.directory.listening).to.equal(false);
        expect(n).to.be.at.least(2);
      } finally {
        await other.stop();
      }
    });
  });

  describe('on its own, on a pool', () => {
    it('reads the database for every request while deaf, and keeps a row only once the request that read it commits', async () => {
      const site = await registerTestSite(ts);
      const url = new URL(testEnv.databaseUrl);
      url.searchParams.set('application_name', 'directory-test');
      const pool = connect(url.toString(), 2);
      const directory = openDirectory({ db: pool, listen: true, log: createLogger('silent'), retryMs: 60_000 });
      let n = 0;
      pool.on('query', (q: { sql: string }) => void (/^select .* from "member_sites"/.test(q.sql) && n++));
      try {
        await until(() => directory.listening, 'it listens');
        const inRequest = async (commit: boolean) => {
          const scope = openRequestScope();
          const found = await scope.run(() => directory.memberSite(requestScopedDb(pool), site.clientId));
          await scope.settle(commit);
          return found;
        };
        expect(await inRequest(false)).to.include({ clientId: site.clientId });
        expect(directory.size, 'a request that rolled back keeps nothing').to.equal(0);
        // Read in a transaction outside a request: not kept either (it might yet roll back).
        await pool.transaction((trx) => directory.memberSite(trx, site.clientId));
        expect(directory.size).to.equal(0);
        await inRequest(true);
        expect(directory.size).to.equal(1);
        const before = n;
        await inRequest(true);
        expect(n, 'served from memory').to.equal(before);
        // Deaf (its connection cut, and no retry within this test): nothing kept, every read reaches the database.
        await elsewhere.raw(
          "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND query = 'LISTEN cybercard_directory' AND application_name = 'directory-test'",
        );
        await until(() => !directory.listening, 'it notices it stopped listening');
        for (let i = 0; i < 3; i++) await inRequest(true);
        expect(n - before).to.equal(3);
        expect(directory.size).to.equal(0);
      } finally {
        await directory.stop();
        await pool.destroy();
      }
    });

    it('hands out frozen rows', async () => {
      await until(() => ts.cm.directory.listening, 'the directory listens');
      const site = await registerTestSite(ts);
      await grant(await siteClient(ts, site), site);
      const kept = await ts.cm.directory.memberSite(ts.db, site.clientId);
      expect(Object.isFrozen(kept)).to.equal(true);
      expect(Object.isFrozen(kept!.redirectUris)).to.equal(true);
    });
  });
});
