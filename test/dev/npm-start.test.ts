import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Agent, location, runLogin } from '../helpers/agent.ts';
import { runMain } from '../helpers/cli.ts';
import { unescapeHtml } from '../helpers/html.ts';

const ROOT = path.resolve(import.meta.dirname, '..', '..');

interface Started {
  child: ChildProcess;
  out: () => string;
  printed: { cardManager: string; demo: string; number: string; password: string };
}

/**
 * `npm start` as the README's quick start runs it on a fresh machine: development, no DATABASE_URL (the embedded
 * PGlite under DATA_DIR), here with PORT=0 and DEMO_PORT=0 so that it picks free ports. Resolves with what it printed.
 */
function npmStart(dataDir: string, env: NodeJS.ProcessEnv = {}): Promise<Started> {
  const { DATABASE_URL: _url, NODE_ENV: _env, ...inherited } = process.env;
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: ROOT,
    env: { ...inherited, NODE_ENV: 'development', DATA_DIR: dataDir, PORT: '0', DEMO_PORT: '0', LOG_LEVEL: 'silent', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr!.on('data', (b: Buffer) => (err += b.toString()));
  return new Promise((resolve, reject) => {
    const onData = () => {
      const m = /Card manager:\s+(\S+)\n\s+Demo member site:\s+(\S+)\n\s+Demo card number:\s+([\d ]+)\n\s+Demo password:\s+(\S+)/.exec(out);
      if (!m) return;
      child.stdout!.off('data', onData);
      child.off('exit', onExit);
      resolve({ child, out: () => out, printed: { cardManager: m[1]!, demo: m[2]!, number: m[3]!.trim(), password: m[4]! } });
    };
    const onExit = (code: number | null) => reject(new Error(`npm start ended (${code}) before printing its URLs:\n${out}\n${err}`));
    child.stdout!.on('data', onData);
    child.once('exit', onExit);
  });
}

function stop(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => {
    child.once('exit', (code) => resolve(code));
    child.kill('SIGTERM');
  });
}

describe('npm start, as the quick start runs it (embedded database, demo member site)', function () {
  this.timeout(180_000);
  let dir: string;
  let started: Started | undefined;

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'cybercard-npm-start-'));
    started = await npmStart(dir);
  });
  after(async () => {
    if (started) await stop(started.child);
    rmSync(dir, { recursive: true, force: true });
  });

  it('prints URLs that answer: PORT=0 and DEMO_PORT=0 are the ports it got, and the issuer names its own', async () => {
    const { cardManager, demo } = started!.printed;
    expect(cardManager).to.match(/^http:\/\/localhost:\d+$/).and.not.match(/:0$/);
    expect(demo).to.match(/^http:\/\/localhost:\d+$/).and.not.match(/:0$/);
    const ready = await fetch(`${cardManager}/readyz`);
    expect(ready.status).to.equal(200);
    const discovery = (await (await fetch(`${cardManager}/.well-known/openid-configuration`)).json()) as { issuer: string };
    expect(discovery.issuer).to.equal(cardManager);
    const home = await fetch(`${demo}/`);
    expect(home.status).to.equal(200);
    expect(await home.text()).to.include('Log in with cyber card');
  });

  it('logs the printed demo card in at the demo site through the hosted pages, and the demo API takes its token', async () => {
    const { cardManager, demo, number, password } = started!.printed;
    expect(number).to.match(/^\d{4} \d{4} \d{4} \d{4}$/);
    const site = new Agent(demo);
    const toCardManager = location(await site.get('/login'), demo);
    expect(toCardManager.origin).to.equal(cardManager);
    expect(toCardManager.pathname).to.equal('/auth');
    const back = await runLogin(new Agent(cardManager), toCardManager, { number, password });
    expect(back.kind).to.equal('redirect');
    if (back.kind !== 'redirect') return;
    expect(back.url.origin).to.equal(demo);
    expect(location(await site.get(back.url), demo).pathname).to.equal('/me');
    const me = await site.get('/me');
    expect(me.status).to.equal(200);
    const html = unescapeHtml(await me.text());
    expect(html).to.include('You are logged in');
    expect(html).to.match(/"sub": "[^"]+"/);
    // The protected resource check: the demo's resource server verified the access token against the JWKS.
    expect(html).to.match(/"client_id": "demo-/);
    expect(html).to.not.match(/"error":/);
  });

  it('stops cleanly on SIGTERM (exit 0), and starts again on the same DATA_DIR with the same demo card and signing keys', async () => {
    const first = started!.printed;
    const kids = async (issuer: string) => ((await (await fetch(`${issuer}/jwks`)).json()) as { keys: Array<{ kid: string }> }).keys.map((k) => k.kid);
    const before = await kids(first.cardManager);
    const code = await stop(started!.child);
    started = undefined;
    expect(code).to.equal(0);

    started = await npmStart(dir);
    const again = started.printed;
    expect([again.number, again.password]).to.deep.equal([first.number, first.password]);
    expect(await kids(again.cardManager)).to.deep.equal(before);
    // The demo site moved with its new port, and the same card logs in there.
    const site = new Agent(again.demo);
    const back = await runLogin(new Agent(again.cardManager), location(await site.get('/login'), again.demo), { number: again.number, password: again.password });
    expect(back.kind === 'redirect' && back.url.origin).to.equal(again.demo);
  });
});

describe('npm start on a port in use', function () {
  this.timeout(120_000);

  it('stops at once, naming the port and the setting to change, with no stack trace', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, resolve));
    const { port } = taken.address() as AddressInfo;
    try {
      const r = await runMain({ PORT: String(port) });
      expect(r.code).to.equal(1);
      expect(r.stderr.trim()).to.equal(`cybercard cannot start: port ${port} is in use by another program: stop it, or choose another with PORT`);
    } finally {
      await new Promise((resolve) => taken.close(resolve));
    }
  });
});
