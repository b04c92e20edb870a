import { expect } from 'chai';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runMain } from '../helpers/cli.ts';
import { createTestDatabase, dropTestDatabase } from '../helpers/db.ts';

const PRODUCTION = {
  NODE_ENV: 'production',
  ISSUER: 'https://cards.example',
  COOKIE_KEYS: 'a'.repeat(40),
  CARD_HMAC_KEY: Buffer.alloc(32, 1).toString('base64'),
  PASSWORD_PEPPER: Buffer.alloc(32, 2).toString('base64'),
  OPERATOR_TOKEN: 'o'.repeat(40),
  SMS_WEBHOOK_URL: 'https://sms.example/send',
  LOG_LEVEL: 'silent',
};

describe('npm start in production', () => {
  let databaseUrl: string;
  let dataDir: string;
  before(async () => {
    databaseUrl = await createTestDatabase();
    dataDir = mkdtempSync(path.join(tmpdir(), 'cybercard-production-'));
  });
  after(async () => {
    await dropTestDatabase(databaseUrl);
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('refuses to start on a database without a signing key, saying what to run and nothing more', async () => {
    const { code, stdout, stderr } = await runMain({ ...PRODUCTION, DATABASE_URL: databaseUrl, DATA_DIR: dataDir });
    expect(code).to.equal(1);
    expect(stdout).to.equal('');
    expect(stderr.trim()).to.equal('cybercard cannot start: no signing key in the database: run `npm run cli -- keys rotate` once before starting');
  });

  it('refuses to start on the embedded database unless told to, in one line, and starts on it when told', async function () {
    // Starts real processes (tsx, and PGlite's own start for the embedded one): slow on a loaded machine, never timed.
    this.timeout(120_000);
    // An empty DATABASE_URL is none (the helper would otherwise point it at the run's database).
    const { code, stdout, stderr } = await runMain({ ...PRODUCTION, DATABASE_URL: '', DATA_DIR: dataDir });
    expect(code).to.equal(1);
    expect(stdout).to.equal('');
    expect(stderr.trim()).to.equal(
      'cybercard cannot start: DATABASE_URL must be set in production: the embedded database (dataDir/pgdata) serves one process and is no database to keep money in (ALLOW_EMBEDDED_DATABASE=true runs on it anyway)',
    );
    expect(existsSync(path.join(dataDir, 'pgdata'))).to.equal(false);
    // Told, it opens the embedded database and goes on to the next refusal: a fresh database has no signing key.
    const told = await runMain({ ...PRODUCTION, DATABASE_URL: '', DATA_DIR: dataDir, ALLOW_EMBEDDED_DATABASE: 'true' });
    expect(told.code).to.equal(1);
    expect(told.stderr.trim()).to.equal('cybercard cannot start: no signing key in the database: run `npm run cli -- keys rotate` once before starting');
  });

  it('refuses to start on a database it cannot reach or open, naming where without its credentials, and no stack trace', async () => {
    const db = new URL(databaseUrl);
    const cases = [
      { url: 'postgres://ops:s3cret-pw@127.0.0.1:1/cybercard', where: '127.0.0.1:1/cybercard' },
      { url: `postgres://postgres:s3cret-pw@${db.host}/no_such_database_here`, where: `${db.host}/no_such_database_here` },
    ];
    for (const { url, where } of cases) {
      const { code, stderr } = await runMain({ ...PRODUCTION, DATABASE_URL: url, DATA_DIR: dataDir });
      expect(code, url).to.equal(1);
      const last = stderr.trim().split('\n').at(-1)!;
      expect(last, url).to.match(new RegExp(`^cybercard cannot start: cannot reach or open the database at ${where.replace(/[.]/g, '\\.')}: \\S`));
      expect(stderr, url).not.to.include('s3cret-pw');
      expect(stderr, url).not.to.include('Node.js v');
    }
  });
});
