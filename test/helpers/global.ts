import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { connect, createTestDatabase, dropTestDatabase } from './db.ts';

/**
 * One fresh PostgreSQL database and one data directory for the whole run; every test file's
 * servers share them and create their own cards and member sites.
 */
export const testEnv = { databaseUrl: '', dataDir: '' };

before(async function createRunDatabase() {
  this.timeout(60_000);
  testEnv.databaseUrl = await createTestDatabase();
  testEnv.dataDir = mkdtempSync(path.join(tmpdir(), 'cybercard-test-'));
  // Every request of the suite comes from 127.0.0.1, so the per-source throttles (ip, device) would count one file's
  // failures against the next. Each file (its top-level suites) starts with none; per-card counters are left alone.
  for (const suite of this.test!.parent!.suites) suite.afterAll(forgetSourceCounts);
});

async function forgetSourceCounts(): Promise<void> {
  const db = connect(testEnv.databaseUrl, 1);
  try {
    await db('throttles').whereIn('scope', ['ip', 'device']).del();
  } finally {
    await db.destroy();
  }
}

after(async function dropRunDatabase() {
  if (process.env.KEEP_TEST_DB !== '1' && testEnv.databaseUrl) await dropTestDatabase(testEnv.databaseUrl);
  if (testEnv.dataDir) rmSync(testEnv.dataDir, { recursive: true, force: true });
});
