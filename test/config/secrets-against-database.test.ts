import { expect } from 'chai';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { connect } from '../helpers/db.ts';
import { runCli, runCliWith, runMain } from '../helpers/cli.ts';
import { testEnv } from '../helpers/global.ts';

describe('the secrets stored data depends on (CARD_HMAC_KEY, PASSWORD_PEPPER)', () => {
  let otherDir: string;
  beforeEach(() => {
    otherDir = mkdtempSync(path.join(tmpdir(), 'cybercard-other-secrets-'));
  });
  afterEach(() => rmSync(otherDir, { recursive: true, force: true }));

  async function recorded(): Promise<Array<{ name: string; check_value: string }>> {
    const db = connect(testEnv.databaseUrl, 1);
    try {
      return (await db('secret_checks').orderBy('name').select('name', 'check_value')) as Array<{ name: string; check_value: string }>;
    } finally {
      await db.destroy();
    }
  }

  it('are recorded by the first start, and a CLI with others (its own generated ones) refuses to run', async () => {
    expect((await runCli('keys', 'list')).code).to.equal(0);
    const before = await recorded();
    expect(before.map((r) => r.name)).to.deep.equal(['CARD_HMAC_KEY', 'PASSWORD_PEPPER']);
    expect(JSON.stringify(before)).not.to.include(JSON.parse(readFileSync(path.join(testEnv.dataDir, 'secrets.json'), 'utf8')).cardHmacKey);

    const stranger = await runCliWith({ DATA_DIR: otherDir }, 'cards', 'create', '--name', 'Kim Minsu', '--birthdate', '1990-05-17');
    expect(stranger.code).to.equal(1);
    expect(stranger.stdout).not.to.include('card number');
    expect(stranger.stderr).to.match(/^error: CARD_HMAC_KEY and PASSWORD_PEPPER are not the ones this database was first used with/);
    expect(stranger.stderr).to.include('NODE_ENV=production');
    expect(await recorded()).to.deep.equal(before);
  });

  it('names the one that differs, and the server refuses to start with it', async function () {
    // Starts real processes (tsx, and PGlite's own start for the embedded one): slow on a loaded machine, never timed.
    this.timeout(120_000);
    expect((await runCli('keys', 'list')).code).to.equal(0);
    const ours = JSON.parse(readFileSync(path.join(testEnv.dataDir, 'secrets.json'), 'utf8')) as Record<string, unknown>;
    writeFileSync(path.join(otherDir, 'secrets.json'), JSON.stringify({ ...ours, passwordPepper: Buffer.alloc(32, 7).toString('base64') }));
    const cli = await runCliWith({ DATA_DIR: otherDir }, 'sites', 'list');
    expect([cli.code, cli.stderr]).to.satisfy(([code, stderr]: [number, string]) => code === 1 && /^error: PASSWORD_PEPPER is not the one this database was first used with: every card password hash mixes it in/.test(stderr));
    const server = await runMain({ DATA_DIR: otherDir });
    expect(server.code).to.equal(1);
    expect(server.stderr.trim()).to.match(/^cybercard cannot start: PASSWORD_PEPPER is not the one this database was first used with/);
  });
});
