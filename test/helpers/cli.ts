import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { testEnv } from './global.ts';

const run = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '..', '..');

/** `npm run cli -- …` as an operator runs it, on the run's database and data directory (so it shares the server's secrets). */
export function runCli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return runCliWith({}, ...args);
}

/** The same with some of the environment changed (another data directory, production's variables). */
export async function runCliWith(env: NodeJS.ProcessEnv, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return runEntry('src/cli.ts', env, args);
}

/** `npm start` (src/main.ts) the same way: for a start that refuses, since it returns only when the process ends. */
export function runMain(env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
  return runEntry('src/main.ts', { PORT: '0', ...env }, []);
}

async function runEntry(entry: string, env: NodeJS.ProcessEnv, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', entry, ...args], {
      cwd: ROOT,
      env: { ...process.env, NODE_ENV: 'test', DATABASE_URL: testEnv.databaseUrl, DATA_DIR: testEnv.dataDir, LOG_LEVEL: 'silent', ...env },
      timeout: 60_000,
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}
