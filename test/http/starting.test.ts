import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import path from 'node:path';
import pg from 'pg';
import { testEnv } from '../helpers/global.ts';
import { createTestDatabase, dropTestDatabase } from '../helpers/db.ts';
import { lockKey } from '../../src/db/advisory-lock.ts';

const ROOT = path.resolve(import.meta.dirname, '..', '..');

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** Asks until the port takes connections (it is bound before the migrations start). */
async function firstAnswer(url: string, child: ChildProcess): Promise<Response> {
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the server ended (${child.exitCode}) before answering`);
    try {
      return await fetch(url);
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/**
 * `npm start` binds its port, then migrates: while the migrations run (here held by another session holding the
 * migrations' advisory lock, as a second instance migrating would hold it) every request is answered at once. /healthz says the process runs
 * (a liveness probe that failed here would have the process killed in the middle of a long migration), /readyz says it
 * is starting (no traffic yet), and the rest get 503 temporarily_unavailable with Retry-After: JSON for an API
 * (openid-client and member sites read OAuth errors), a line of text for a browser.
 */
describe('a request while the server is still starting (migrations running)', function () {
  // A real process started with tsx: slow on a loaded machine, never timed.
  this.timeout(120_000);
  let url: string;
  let child: ChildProcess | undefined;
  let lock: pg.Client | undefined;

  before(async () => {
    url = await createTestDatabase('cybercard_starting');
  });
  after(async () => {
    await lock?.end().catch(() => undefined);
    if (child && child.exitCode === null) {
      const ended = new Promise((r) => child!.once('exit', r));
      child.kill('SIGTERM');
      await ended;
    }
    await dropTestDatabase(url);
  });

  it('answers /healthz 200, /readyz 503 starting, an API 503 temporarily_unavailable in JSON, a page 503 in text; then serves', async () => {
    lock = new pg.Client({ connectionString: url });
    await lock.connect();
    await lock.query('SELECT pg_advisory_lock($1::bigint)', [lockKey('cybercard:migrations').toString()]);

    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const { DATABASE_URL: _u, ...inherited } = process.env;
    child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      cwd: ROOT,
      env: { ...inherited, NODE_ENV: 'test', DATABASE_URL: url, DATA_DIR: testEnv.dataDir, PORT: String(port), ISSUER: base, LOG_LEVEL: 'silent' },
      stdio: 'ignore',
    });

    const health = await firstAnswer(`${base}/healthz`, child);
    expect([health.status, await health.json()]).to.deep.equal([200, { status: 'ok' }]);

    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).to.equal(503);
    expect(ready.headers.get('retry-after')).to.equal('1');
    expect(ready.headers.get('content-type')).to.match(/^application\/json/);
    expect(await ready.json()).to.deep.equal({ status: 'starting' });

    const token = await fetch(`${base}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=client_credentials',
    });
    expect(token.status).to.equal(503);
    expect(token.headers.get('retry-after')).to.equal('1');
    expect(token.headers.get('content-type')).to.match(/^application\/json/);
    expect(await token.json()).to.deep.equal({
      error: 'temporarily_unavailable',
      error_description: 'The card manager is starting. Please try again in a moment.',
    });

    const page = await fetch(`${base}/apply`, { headers: { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' } });
    expect(page.status).to.equal(503);
    expect(page.headers.get('retry-after')).to.equal('1');
    expect(page.headers.get('content-type')).to.match(/^text\/plain/);
    expect(await page.text()).to.equal('The card manager is starting. Please try again in a moment.\n');

    // Still starting: the lock is held, so nothing above raced the start.
    expect((await fetch(`${base}/readyz`)).status).to.equal(503);
    await lock.query('SELECT pg_advisory_unlock_all()');
    for (;;) {
      const res = await fetch(`${base}/readyz`);
      if (res.status === 200) {
        expect(await res.json()).to.deep.equal({ status: 'ok', database: 'ok' });
        break;
      }
      expect(await res.json()).to.deep.equal({ status: 'starting' });
      await new Promise((r) => setTimeout(r, 100));
    }
    expect((await fetch(`${base}/.well-known/openid-configuration`)).status).to.equal(200);
  });
});
