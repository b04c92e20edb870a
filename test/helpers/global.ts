import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createTestDatabase, dropTestDatabase } from './db.ts';

/**
 * One fresh PostgreSQL database and one data directory for the whole run; every test file's
 * servers share them and create their own cards and member sites.
 */
export const testEnv = { databaseUrl: '', dataDir: '' };

before(async function createRunDatabase() {
  this.timeout(60_000);
  testEnv.databaseUrl = await createTestDatabase();
  testEnv.dataDir = mkdtempSync(path.join(tmpdir(), 'cybercard-test-'));
});

after(async function dropRunDatabase() {
  if (process.env.KEEP_TEST_DB !== '1' && testEnv.databaseUrl) await dropTestDatabase(testEnv.databaseUrl);
  if (testEnv.dataDir) rmSync(testEnv.dataDir, { recursive: true, force: true });
});
