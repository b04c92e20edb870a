import { expect } from 'chai';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { openDb } from '../../src/db/knex.ts';
import { runCliWith } from '../helpers/cli.ts';
import { admin, dropTestDatabase, ADMIN_URL } from '../helpers/db.ts';

const MIGRATIONS = readdirSync(path.resolve(import.meta.dirname, '..', '..', 'migrations'))
  .filter((f) => f.endsWith('.ts'))
  .map((f) => f.replace(/\.ts$/, ''))
  .sort();

/** `npm run migrate`: the migrations npm start applies, by hand, on PostgreSQL and on the embedded database alike. */
describe('npm run migrate', function () {
  this.timeout(180_000);

  it('applies every migration to an empty PostgreSQL database, then says it is up to date', async () => {
    const name = `cybercard_migrate_${process.pid}_${Date.now().toString(36)}`;
    await admin((c) => c.query(`CREATE DATABASE "${name}"`));
    const url = new URL(ADMIN_URL);
    url.pathname = `/${name}`;
    try {
      const first = await runCliWith({ DATABASE_URL: url.href }, 'migrate');
      expect(first.code, first.stderr).to.equal(0);
      expect(first.stdout.trim()).to.equal(`applied: ${MIGRATIONS.join(', ')}`);
      const again = await runCliWith({ DATABASE_URL: url.href }, 'migrate');
      expect([again.code, again.stdout.trim()]).to.deep.equal([0, 'already up to date']);
    } finally {
      await dropTestDatabase(url.href);
    }
  });

  describe('with several instances on one database, as behind a load balancer', () => {
    let url: URL;
    beforeEach(async () => {
      const name = `cybercard_migrate_${process.pid}_${Date.now().toString(36)}`;
      await admin((c) => c.query(`CREATE DATABASE "${name}"`));
      url = new URL(ADMIN_URL);
      url.pathname = `/${name}`;
    });
    afterEach(() => dropTestDatabase(url.href));

    it('migrates an empty database from two starts at once: one applies the migrations, the other waits for it, neither fails', async () => {
      const [one, two] = await Promise.all([runCliWith({ DATABASE_URL: url.href }, 'migrate'), runCliWith({ DATABASE_URL: url.href }, 'migrate')]);
      expect([one.code, two.code], `${one.stderr}\n${two.stderr}`).to.deep.equal([0, 0]);
      const said = [one.stdout.trim(), two.stdout.trim()].sort();
      expect(said).to.deep.equal([`applied: ${MIGRATIONS.join(', ')}`, 'already up to date'].sort());
    });

    it('starts when a migration run was killed half-way and left knex\'s lock taken (no one migrates now)', async () => {
      expect((await runCliWith({ DATABASE_URL: url.href }, 'migrate')).code).to.equal(0);
      // What a start stopped during a migration that runs outside a transaction (CREATE INDEX CONCURRENTLY) leaves.
      await admin(async () => {
        const c = new pg.Client({ connectionString: url.href });
        await c.connect();
        try {
          await c.query('UPDATE knex_migrations_lock SET is_locked = 1');
        } finally {
          await c.end();
        }
      });
      const again = await runCliWith({ DATABASE_URL: url.href }, 'migrate');
      expect([again.code, again.stdout.trim()], again.stderr).to.deep.equal([0, 'already up to date']);
    });
  });

  it('applies the same migrations to the embedded database under DATA_DIR when DATABASE_URL is not set', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'cybercard-migrate-'));
    try {
      const first = await runCliWith({ DATABASE_URL: '', DATA_DIR: dir }, 'migrate');
      expect(first.code, first.stderr).to.equal(0);
      expect(first.stdout.trim()).to.equal(`applied: ${MIGRATIONS.join(', ')}`);
      expect(readdirSync(dir)).to.include('pgdata');
      const again = await runCliWith({ DATABASE_URL: '', DATA_DIR: dir }, 'migrate');
      expect([again.code, again.stdout.trim()]).to.deep.equal([0, 'already up to date']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("starts on the embedded database when a run was killed half-way and left knex's lock taken (one process: no one migrates now)", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'cybercard-migrate-'));
    try {
      expect((await runCliWith({ DATABASE_URL: '', DATA_DIR: dir }, 'migrate')).code).to.equal(0);
      // What a start stopped during a migration that runs outside a transaction (CREATE INDEX CONCURRENTLY) leaves.
      const db = openDb({ databaseUrl: null, dataDir: dir });
      try {
        await db('knex_migrations_lock').update({ is_locked: 1 });
      } finally {
        await db.destroy();
        rmSync(path.join(dir, 'pgdata.lock')); // this process is done with it (it keeps its claim until it exits)
      }
      const again = await runCliWith({ DATABASE_URL: '', DATA_DIR: dir }, 'migrate');
      expect([again.code, again.stdout.trim()], again.stderr).to.deep.equal([0, 'already up to date']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
