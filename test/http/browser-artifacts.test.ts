import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { ARTIFACTS_DIR, artifactName } from '../helpers/browser.ts';

const run = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '..', '..');

/** Issue 6: "a failed browser test saves a screenshot as a CI artifact" (test-artifacts/, which CI keeps). */
describe('a failed browser test', function () {
  this.timeout(120_000);

  it('leaves a screenshot of its page in test-artifacts/, named after the test', async () => {
    const tag = randomBytes(4).toString('hex');
    const file = path.join(ARTIFACTS_DIR, `${artifactName(`a browser test failing on purpose fails on a page (${tag})`)}.png`);
    const mocha = path.join(ROOT, 'node_modules', 'mocha', 'bin', 'mocha.js');
    const outcome = await run(
      process.execPath,
      [mocha, '--no-config', '--node-option', 'import=tsx', '--timeout', '60000', '--exit', 'test/helpers/failing-browser.fixture.ts'],
      { cwd: ROOT, env: { ...process.env, ARTIFACT_TAG: tag }, timeout: 110_000 },
    ).then(
      () => ({ code: 0, out: '' }),
      (err: { code?: number; stdout?: string }) => ({ code: err.code, out: err.stdout ?? '' }),
    );
    try {
      // The run fails (one failing test), and says so.
      expect(outcome.code, outcome.out).to.equal(1);
      expect(outcome.out).to.include('failing on purpose');
      const png = await readFile(file);
      expect(png.subarray(0, 8).toString('hex')).to.equal('89504e470d0a1a0a');
      expect(png.length).to.be.above(1000);
    } finally {
      await rm(file, { force: true });
    }
  });
});
