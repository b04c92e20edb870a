import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import path from 'node:path';
import { Agent, csrfFrom } from '../helpers/agent.ts';
import { testEnv } from '../helpers/global.ts';

const ROOT = path.resolve(import.meta.dirname, '..', '..');

/** `npm start` on the run's PostgreSQL, PORT=0, with its JSON log read for the port it got. */
function start(env: NodeJS.ProcessEnv = {}): Promise<{ child: ChildProcess; url: string; log: () => string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: ROOT,
    env: { ...process.env, NODE_ENV: 'test', DATABASE_URL: testEnv.databaseUrl, DATA_DIR: testEnv.dataDir, PORT: '0', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr!.on('data', (b: Buffer) => (out += b.toString()));
  return new Promise((resolve, reject) => {
    const onData = () => {
      const m = /"port":(\d+)[^\n]*"msg":"card manager listening"/.exec(out);
      if (!m) return;
      child.stdout!.off('data', onData);
      child.off('exit', onExit);
      resolve({ child, url: `http://127.0.0.1:${m[1]}`, log: () => out });
    };
    const onExit = (code: number | null) => reject(new Error(`npm start ended (${code}) before listening:\n${out}`));
    child.stdout!.on('data', onData);
    child.once('exit', onExit);
  });
}

describe('npm start on SIGTERM', function () {
  this.timeout(120_000);

  it('finishes a request in flight (its body still arriving) before it closes the database, then exits 0', async () => {
    const { child, url, log } = await start();
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    try {
      // A console sign-in with a wrong token: it counts against the throttles (their own connections) and is refused.
      const browser = new Agent(url);
      const csrf = csrfFrom(await (await browser.get('/admin/signin')).text());
      const body = new URLSearchParams({ csrf, token: 'w'.repeat(40) }).toString();
      const cookie = [...browser.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
      const { port } = new URL(url);
      const socket = connect(Number(port), '127.0.0.1');
      let answer = '';
      socket.on('data', (b: Buffer) => (answer += b.toString()));
      const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
      socket.write(
        `POST /admin/signin HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nCookie: ${cookie}\r\nContent-Type: application/x-www-form-urlencoded\r\n` +
          `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n`,
      );
      await new Promise((resolve) => setTimeout(resolve, 300));
      child.kill('SIGTERM');
      await new Promise((resolve) => setTimeout(resolve, 1000));
      socket.write(body);
      await closed;
      expect(answer.split('\r\n')[0]).to.equal('HTTP/1.1 401 Unauthorized');
      expect(await exited).to.equal(0);
      expect(log()).not.to.include('"level":50');
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });

  it('cuts a request that never finishes once shutdownGraceSeconds have passed, says so, and exits 0', async () => {
    const { child, url, log } = await start({ SHUTDOWN_GRACE_SECONDS: '1' });
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    try {
      const { port } = new URL(url);
      const socket = connect(Number(port), '127.0.0.1');
      socket.on('error', () => undefined);
      const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
      // A body promised and never sent: without a limit the process waits for it as long as the client likes.
      socket.write(`POST /admin/signin HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\n`);
      await new Promise((resolve) => setTimeout(resolve, 300));
      const signalled = Date.now();
      child.kill('SIGTERM');
      const code = await Promise.race([exited, new Promise((resolve) => setTimeout(() => resolve('still running'), 15_000))]);
      expect(code, log()).to.equal(0);
      expect(Date.now() - signalled).to.be.at.least(900);
      await closed;
      expect(log()).to.match(/"msg":"shutdown grace over: connections cut"/);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});
