import { expect } from 'chai';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
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
});
