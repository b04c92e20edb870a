/**
 * `npm run bench`: runs every test/bench/*.bench.ts in its own process, one after another, then
 * prints one table of all figures and writes it to test-artifacts/bench-latest.json.
 * `npm run bench -- token` runs only the files whose name contains "token".
 * BENCH_SECONDS (default 5) is the timed load per measurement; BENCH_ROUNDS (default 4) the
 * number of alternating slices it is cut into.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, existsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { asyncContextFrameFlags } from '../../src/async-context-frame.ts';
import { detailsTable, figuresTable, machineInfo, type Figure } from './harness.ts';

const dir = import.meta.dirname;
/** Same git-ignored folder as the browser tests' screenshots (test/helpers/browser.ts). */
const ARTIFACTS_DIR = path.resolve(dir, '..', '..', 'test-artifacts');
const filters = process.argv.slice(2);
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.bench.ts') && (!filters.length || filters.some((w) => f.includes(w))))
  .sort();
if (!files.length) throw new Error(`no *.bench.ts in ${dir} matches ${filters.join(', ')}`);

/**
 * One bench file in a child process (this process's execArgv carries tsx), run as `npm start` runs the card
 * manager (AsyncContextFrame, see src/async-context-frame.ts); its figures, or why not.
 */
function runBench(file: string, resultFile: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...asyncContextFrameFlags(), ...process.execArgv, path.join(dir, file)], {
      stdio: 'inherit',
      env: { ...process.env, BENCH_RESULT_FILE: resultFile },
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

const info = machineInfo();
const started = new Date();
const tmp = mkdtempSync(path.join(tmpdir(), 'cybercard-bench-'));
const figures: Figure[] = [];
const failures: string[] = [];
try {
  for (const file of files) {
    console.log(`\n=== ${file}`);
    const resultFile = path.join(tmp, `${file}.json`);
    const t0 = performance.now();
    const code = await runBench(file, resultFile);
    console.log(`=== ${file}: ${((performance.now() - t0) / 1000).toFixed(1)} s, exit ${code}`);
    if (code !== 0 || !existsSync(resultFile)) failures.push(`${file} (exit ${code})`);
    else figures.push(...(JSON.parse(readFileSync(resultFile, 'utf8')) as Figure[]));
  }
} finally {
  rmSync(tmp, { recursive: true, force: true });
}

const seconds = (Date.now() - started.getTime()) / 1000;
console.log(`\n=== summary: ${info.cores} cores (${info.cpuModel}), shared by the server, PostgreSQL, the load generator and other tenants;`);
console.log(`    ${info.node}, BENCH_SECONDS=${info.benchSeconds}, ${info.rounds} alternating slices per measurement, ${seconds.toFixed(0)} s in all;`);
console.log(`    the card manager reaches PostgreSQL over ${info.databaseTransport === 'unix' ? 'its Unix socket' : 'TCP'} (BENCH_DB_TRANSPORT=unix|tcp)\n`);
if (figures.length) {
  console.log(`${figuresTable(figures)}\n\n${detailsTable(figures)}\n`);
  for (const f of figures) for (const n of f.notes) console.log(`  (${f.id}) ${n}`);
}
for (const f of failures) console.log(`FAILED: ${f}`);

mkdirSync(ARTIFACTS_DIR, { recursive: true });
const out = path.join(ARTIFACTS_DIR, 'bench-latest.json');
writeFileSync(out, JSON.stringify({ startedAt: started.toISOString(), seconds: Math.round(seconds), machine: info, figures, failures }, null, 2));
console.log(`\nwritten to ${path.relative(process.cwd(), out)}`);
if (failures.length) process.exitCode = 1;
