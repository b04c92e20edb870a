import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { decodeJwt } from 'jose';
import { issueTestCard, registerTestSite, siteClient, type TestSite } from '../helpers/fixtures.ts';
import { startCardManager, type TestServer } from '../helpers/server.ts';
import { loginToken } from './tokens.ts';

const run = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '../..');
const KIT_DIR = path.join(ROOT, 'dist', 'resource-server-kit');

/**
 * The environment of a member site's shell: no tsx loader (NODE_OPTIONS) and none of the npm_* variables `npm test`
 * sets, which would point the inner npm commands at this repository (npm_config_prefix and friends).
 */
function plainEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'NODE_OPTIONS' && !/^npm_/i.test(k)));
}

async function npm(cwd: string, ...args: string[]): Promise<string> {
  return (await run('npm', [...args, '--no-audit', '--no-fund', '--no-update-notifier'], { cwd, env: plainEnv(), maxBuffer: 16 << 20 })).stdout;
}

interface Packed {
  filename: string;
  files: Array<{ path: string }>;
}

async function pack(cwd: string, dest: string, ...spec: string[]): Promise<Packed> {
  return (JSON.parse(await npm(cwd, 'pack', '--json', '--ignore-scripts', '--pack-destination', dest, ...spec)) as Packed[])[0]!;
}

/** A member site's resource server on plain Node: no TypeScript, no loader, the package as npm installed it. */
const CHECK_SCRIPT = `
import { createResourceServer, TokenError } from '@cybercard/resource-server';
const rs = createResourceServer({ issuer: process.env.ISSUER, audience: process.env.AUDIENCE });
const claims = await rs.verify(process.env.TOKEN);
let refusal = null;
try {
  await rs.verify(process.env.TAMPERED);
} catch (err) {
  if (!(err instanceof TokenError)) throw err;
  refusal = { code: err.code, status: err.status, message: err.message };
}
console.log(JSON.stringify({ claims, refusal }));
`;

/** A TypeScript consumer: compiles against the installed declarations, and each misuse must be an error. */
const CONSUMER_TS = `
import { createResourceServer, requireAge, TokenError, type AccessToken } from '@cybercard/resource-server';
const rs = createResourceServer({ issuer: 'https://cards.example', audience: 'https://shop.example/api' });
const claims: AccessToken = await rs.verify('token');
export const sub: string = claims.sub;
export const age = requireAge(19);
// @ts-expect-error: exp is a number (fails to compile if the declarations were missing and everything were any)
export const exp: string = claims.exp;
// @ts-expect-error: not one of the RFC 6750 error codes
export const bad = new TokenError('no_such_code', 'x');
`;

describe('@cybercard/resource-server as a package (npm run build:kit, npm pack, npm install)', function () {
  let ts: TestServer;
  let site: TestSite;
  let tmp: string;
  let packed: Packed;

  before(async function buildPackAndInstall() {
    this.timeout(180_000);
    tmp = await mkdtemp(path.join(tmpdir(), 'cybercard-kit-'));
    await npm(ROOT, 'run', '--silent', 'build:kit');
    packed = await pack(KIT_DIR, tmp);
    // jose is resolved from the tarball of the main package's own installed copy: no registry needed (CI may be
    // offline, and --offline fails on a cold npm cache), and the kit runs against the version the card manager tests.
    const jose = await pack(tmp, tmp, path.join(ROOT, 'node_modules', 'jose'));
    await writeFile(path.join(tmp, 'package.json'), JSON.stringify({ name: 'member-site-api', private: true, type: 'module' }));
    await npm(tmp, 'install', '--offline', '--ignore-scripts', `./${jose.filename}`, `./${packed.filename}`);
    ts = await startCardManager();
    site = await registerTestSite(ts);
  });
  after(async () => {
    await ts?.stop();
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  it('packs JavaScript, declarations, package.json, README and LICENSE only: no TypeScript source', () => {
    const files = packed.files.map((f) => f.path).sort();
    expect(files).to.include.members(['package.json', 'README.md', 'LICENSE', 'index.js', 'index.d.ts', 'verify.js', 'verify.d.ts', 'strict.js']);
    expect(files.filter((f) => !/^(package\.json|README\.md|LICENSE|[a-z-]+\.(js|d\.ts))$/.test(f))).to.deep.equal([]);
  });

  it('carries the licence its package.json names, as text a member site\'s lawyers can read', async () => {
    const dir = path.join(tmp, 'node_modules', '@cybercard', 'resource-server');
    const installed = JSON.parse(await readFile(path.join(dir, 'package.json'), 'utf8')) as { license: string };
    const text = await readFile(path.join(dir, 'LICENSE'), 'utf8');
    expect(installed.license).to.equal('MIT');
    expect(text).to.match(/^MIT License\n/);
    expect(text).to.include('Permission is hereby granted, free of charge');
    expect(text).to.include('THE SOFTWARE IS PROVIDED "AS IS"');
  });

  it('names the main package version and only jose, at the main package’s range, as a dependency', async () => {
    const main = JSON.parse(await readFile(path.join(ROOT, 'package.json'), 'utf8')) as { version: string; dependencies: Record<string, string> };
    const installed = JSON.parse(await readFile(path.join(tmp, 'node_modules', '@cybercard', 'resource-server', 'package.json'), 'utf8'));
    expect(packed.filename).to.equal(`cybercard-resource-server-${main.version}.tgz`);
    expect(installed).to.deep.include({ name: '@cybercard/resource-server', version: main.version, type: 'module', dependencies: { jose: main.dependencies.jose } });
    expect(installed.exports['.']).to.deep.equal({ types: './index.d.ts', default: './index.js' });
  });

  it('on plain node, verifies a real token from the card manager and refuses the same token tampered with', async function () {
    this.timeout(60_000);
    const token = await loginToken(ts, await siteClient(ts, site), site, await issueTestCard(ts));
    const [h, , s] = token.split('.');
    const forged = Buffer.from(JSON.stringify({ ...decodeJwt(token), age_over_19: true })).toString('base64url');
    await writeFile(path.join(tmp, 'check.mjs'), CHECK_SCRIPT);
    const { stdout } = await run(process.execPath, ['check.mjs'], {
      cwd: tmp,
      env: { ...plainEnv(), ISSUER: ts.url, AUDIENCE: site.resource, TOKEN: token, TAMPERED: `${h}.${forged}.${s}` },
    });
    const result = JSON.parse(stdout) as { claims: Record<string, unknown>; refusal: { code: string; status: number; message: string } | null };
    expect(result.claims).to.include({ iss: ts.url, aud: site.resource, client_id: site.clientId, jti: decodeJwt(token).jti });
    expect(result.refusal).to.deep.include({ code: 'invalid_token', status: 401 });
    expect(result.refusal!.message).to.match(/signature/);
  });

  it('type-checks a TypeScript consumer against the installed declarations (tsc --noEmit)', async function () {
    this.timeout(60_000);
    await symlink(path.join(ROOT, 'node_modules', '@types'), path.join(tmp, 'node_modules', '@types'), 'dir');
    await writeFile(path.join(tmp, 'consumer.ts'), CONSUMER_TS);
    const options = { module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2023', strict: true, noEmit: true, types: ['node'] };
    await writeFile(path.join(tmp, 'tsconfig.json'), JSON.stringify({ compilerOptions: options, files: ['consumer.ts'] }));
    const tsc = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    const result = await run(process.execPath, [tsc, '-p', tmp], { cwd: tmp, env: plainEnv() }).catch((err: { stdout: string }) => err);
    expect(result.stdout).to.equal('');
  });
});
