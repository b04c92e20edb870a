import { expect } from 'chai';
import { admin, createTestDatabase, dropTestDatabase } from '../helpers/db.ts';
import { startCardManager, type TestServer } from '../helpers/server.ts';

/**
 * /readyz is what a load balancer asks before it sends an instance traffic: "ok" while the database answers, 503
 * while it does not, and "ok" again once it does, the process running throughout (/healthz answers all along).
 * The card manager here has a database of its own, which the test closes to connections and reopens.
 */
describe('/readyz when the database cannot be reached', function () {
  this.timeout(60_000);
  let url: string;
  let name: string;
  let ts: TestServer;

  before(async () => {
    url = await createTestDatabase('cybercard_readyz');
    name = new URL(url).pathname.slice(1);
    ts = await startCardManager({ databaseUrl: url }, { pool: { poolMax: 2, acquireTimeoutMs: 2000 } });
  });
  after(async () => {
    await admin((c) => c.query(`ALTER DATABASE "${name}" ALLOW_CONNECTIONS true`));
    await ts?.stop();
    await dropTestDatabase(url);
  });

  it('answers 503 while the database refuses connections, /healthz 200 all along, and 200 again once it is back', async () => {
    const ready = await fetch(`${ts.url}/readyz`);
    expect([ready.status, await ready.json()]).to.deep.equal([200, { status: 'ok', database: 'ok' }]);

    await admin(async (c) => {
      await c.query(`ALTER DATABASE "${name}" ALLOW_CONNECTIONS false`);
      await c.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [name]);
    });
    for (let i = 0; i < 3; i++) {
      const down = await fetch(`${ts.url}/readyz`);
      expect(down.status, `try ${i + 1}`).to.equal(503);
      expect(await down.json()).to.deep.equal({ status: 'unavailable', database: 'unreachable' });
      expect((await fetch(`${ts.url}/healthz`)).status).to.equal(200);
    }

    await admin((c) => c.query(`ALTER DATABASE "${name}" ALLOW_CONNECTIONS true`));
    const back = await fetch(`${ts.url}/readyz`);
    expect([back.status, await back.json()]).to.deep.equal([200, { status: 'ok', database: 'ok' }]);
  });
});
