import { expect } from 'chai';
import { decodeProtectedHeader } from 'jose';
import { userInfo } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { ConflictError, NotFoundError } from '../../src/errors.ts';
import { listSigningKeys, rotateSigningKey, withdrawSigningKey } from '../../src/oidc/keys.ts';
import { runCli } from '../helpers/cli.ts';
import { until } from '../helpers/directory.ts';
import { registerTestSite, type TestSite } from '../helpers/fixtures.ts';
import { startCardManager, type TestServer } from '../helpers/server.ts';

/**
 * Two instances of the card manager behind one issuer on one database, as behind a load balancer: a key `keys rotate`
 * adds is published by both before either signs with it, both switch at the moment it starts, and neither restarts.
 * `a` hears of changes on the directory's channel and never polls; `b` does not listen (keepMemberSites off) and reads
 * its keys every second (production's default is 30 s, with keys published 300 s ahead).
 */
describe('signing-key rotation across instances, without a restart', () => {
  let a: TestServer;
  let b: TestServer;
  let site: TestSite;

  before(async () => {
    a = await startCardManager({ keys: { refreshSeconds: 0 } });
    b = await startCardManager({ issuer: a.url, keepMemberSites: false, keys: { refreshSeconds: 1 } });
    site = await registerTestSite(a);
    await until(() => a.cm.directory.listening, 'instance a listens');
  });
  after(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
  });

  async function published(ts: TestServer): Promise<string[]> {
    const body = (await (await fetch(`${ts.url}/jwks`)).json()) as { keys: Array<{ kid: string }> };
    return body.keys.map((k) => k.kid);
  }
  const knows = (ts: TestServer, kid: string) => ts.cm.keys.jwks.keys.some((k) => k.kid === kid);

  /** A client_credentials token for the card manager's own API, from instance `ts`. */
  async function apiToken(ts: TestServer): Promise<string> {
    const res = await fetch(`${ts.url}/token`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${encodeURIComponent(site.clientId)}:${encodeURIComponent(site.clientSecret)}`).toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({ grant_type: 'client_credentials', resource: `${a.url}/api`, scope: 'approvals' }).toString(),
    });
    const body = (await res.json()) as { access_token?: string; error?: string };
    if (!body.access_token) throw new Error(`no token: ${res.status} ${body.error}`);
    return body.access_token;
  }
  /** The approval API on instance `ts` with `token`: 404 for the unknown number once it accepted the token, 401 if it refused it. */
  async function apiStatus(ts: TestServer, token: string): Promise<number> {
    return (await fetch(`${ts.url}/api/approvals/0000-0000`, { headers: { authorization: `Bearer ${token}` } })).status;
  }
  const kidOf = (token: string) => decodeProtectedHeader(token).kid;

  it('publishes a rotated key on every instance before any signs with it, then every instance signs with it at its start', async () => {
    const oldKid = a.cm.keys.signingKid!;
    expect(b.cm.keys.signingKid).to.equal(oldKid);
    const oldToken = await apiToken(b);
    expect(kidOf(oldToken)).to.equal(oldKid);

    const { kid: newKid, activatesAt } = await rotateSigningKey(a.db, 5);
    // Within a second both have read it: published, not signing.
    await until(() => knows(a, newKid) && knows(b, newKid), 'both instances read the new key', 3000);
    for (const ts of [a, b]) {
      expect(await published(ts)).to.include.members([oldKid, newKid]);
      expect(kidOf(await apiToken(ts))).to.equal(oldKid);
      expect(ts.cm.keys.signingKid).to.equal(oldKid);
    }
    // What was seen above was seen before the key started.
    expect(Date.now()).to.be.below(activatesAt.getTime());

    // Nothing asks them to read again: each switches at the moment the key starts, by the database's clock.
    await sleep(activatesAt.getTime() - Date.now() + 300);
    const [fromA, fromB] = [await apiToken(a), await apiToken(b)];
    expect([kidOf(fromA), kidOf(fromB)]).to.deep.equal([newKid, newKid]);
    for (const ts of [a, b]) {
      const kids = await published(ts);
      expect(kids[0]).to.equal(newKid);
      expect(kids).to.include(oldKid);
    }
    // Each accepts the other's tokens, the old key's too (it stays published while its tokens may live).
    expect([await apiStatus(b, fromA), await apiStatus(a, fromB), await apiStatus(a, oldToken), await apiStatus(b, oldToken)]).to.deep.equal([404, 404, 404, 404]);
  });

  it('withdraws a key that no longer signs: every instance stops publishing and accepting it; the signing key is refused', async () => {
    const retiring = a.cm.keys.signingKid!;
    const oldToken = await apiToken(b);
    const { kid: signing } = await rotateSigningKey(a.db, 0);
    await Promise.all([a.cm.keys.refresh(), b.cm.keys.refresh()]);
    expect([a.cm.keys.signingKid, b.cm.keys.signingKid]).to.deep.equal([signing, signing]);
    expect(await apiStatus(b, oldToken)).to.equal(404);

    const err = await withdrawSigningKey(a.db, signing).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(ConflictError);
    expect((err as Error).message).to.match(/signs now/);
    expect(await withdrawSigningKey(a.db, 'no-such-key').catch((e: unknown) => e)).to.be.instanceOf(NotFoundError);
    expect((await listSigningKeys(a.db)).map((k) => k.kid)).to.include.members([signing, retiring]);

    await withdrawSigningKey(a.db, retiring);
    await until(() => !knows(a, retiring) && !knows(b, retiring), 'both instances dropped the withdrawn key', 3000);
    for (const ts of [a, b]) {
      expect(await published(ts)).to.not.include(retiring);
      expect(await apiStatus(ts, oldToken)).to.equal(401);
      expect(await apiStatus(ts, await apiToken(ts))).to.equal(404);
    }
  });

  it('lets a key rotated in at once overtake one still waiting to start, which then never signs and may be withdrawn', async () => {
    const { kid: waiting } = await rotateSigningKey(a.db, 3600);
    // Heard of on the channel: `a` never polls.
    await until(() => knows(a, waiting), 'instance a heard of the waiting key', 2000);
    const { kid: now } = await rotateSigningKey(a.db, 0);
    const states = Object.fromEntries((await listSigningKeys(a.db)).map((k) => [k.kid, k.state]));
    expect(states[waiting]).to.equal('unused');
    expect(states[now]).to.equal('signing');
    await until(() => a.cm.keys.signingKid === now, 'instance a signs with the new key', 2000);
    expect(kidOf(await apiToken(a))).to.equal(now);
    await withdrawSigningKey(a.db, waiting);
    await until(() => !knows(a, waiting), 'instance a dropped the withdrawn key', 2000);
  });

  it('waits for a key that starts weeks ahead without overflowing its timer', async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.name);
    process.on('warning', onWarning);
    try {
      const { kid } = await rotateSigningKey(a.db, 40 * 86400);
      await until(() => knows(a, kid), 'instance a heard of the key', 2000);
      await sleep(200);
      expect(warnings).to.not.include('TimeoutOverflowWarning');
    } finally {
      process.off('warning', onWarning);
    }
    // Overtaken at once, so that no later test meets it.
    await rotateSigningKey(a.db, 0);
  });

  it('rotates once at a time: two rotations at the same moment leave one key signing, the other retired', async () => {
    const both = await Promise.all([rotateSigningKey(a.db, 0), rotateSigningKey(b.db, 0)]);
    const states = Object.fromEntries((await listSigningKeys(a.db)).map((k) => [k.kid, k.state]));
    const signing = Object.entries(states).filter(([, st]) => st === 'signing' || st === 'next');
    expect(signing).to.have.length(1);
    expect(both.map((k) => k.kid)).to.include(signing[0]![0]);
    expect(both.map((k) => states[k.kid]).sort()).to.deep.equal(['retired', 'signing']);
  });

  it('keeps signing with the keys it has when the provider refuses the ones read, and takes good ones after', async () => {
    // Caught up first with the rotations of the tests before (heard on the directory's channel, which may lag under
    // load): the keys it has are then the ones read, and only the bad row below can change them.
    await a.cm.keys.refresh();
    const signing = a.cm.keys.signingKid!;
    const published = a.cm.keys.jwks.keys.map((k) => k.kid);
    // A row no key can be made of (written by hand, or a bad restore), waiting to start.
    const bad = { kty: 'EC', crv: 'P-256', x: 'AAAA', y: 'AAAA', d: 'AAAA', kid: 'broken', alg: 'ES256', use: 'sig' };
    await a.db('signing_keys').insert({ kid: 'broken', alg: 'ES256', private_jwk: JSON.stringify(bad), activates_at: a.db.raw("now() + interval '1 hour'") });
    try {
      await a.cm.keys.refresh();
      expect(a.cm.keys.signingKid).to.equal(signing);
      expect(a.cm.keys.jwks.keys.map((k) => k.kid)).to.deep.equal(published);
      expect(await (async () => (await (await fetch(`${a.url}/jwks`)).json()) as { keys: Array<{ kid: string }> })()).to.have.nested.property('keys[0].kid', signing);
      expect(kidOf(await apiToken(a))).to.equal(signing);
    } finally {
      await a.db('signing_keys').where({ kid: 'broken' }).del();
    }
    const { kid } = await rotateSigningKey(a.db, 0);
    await a.cm.keys.refresh();
    expect(a.cm.keys.signingKid).to.equal(kid);
  });

  it('keys rotate, list and withdraw from the command line; bad arguments change nothing', async function () {
    // Ten CLI processes, each starting tsx: seconds apiece on a busy machine (a full run timed out at 30 s).
    this.timeout(120_000);
    const before = await listSigningKeys(a.db);
    const signing = before.find((k) => k.state === 'signing')!.kid;
    for (const [args, message] of [
      [['keys', 'rotate', '--in', 'soon'], /^error: Some fields need attention\.\n {2}--in: A whole number of seconds\.$/],
      [['keys', 'rotate', '--in', '-5'], /--in: A value starting with a dash is given as --in=VALUE\./],
      [['keys', 'rotate', '--now', '--in', '5'], /^error: Give --now or --in, not both\.$/],
      [['keys', 'withdraw'], /KID: Give exactly one key id\./],
      [['keys', 'withdraw', 'nope'], /^error: There is no signing key nope\. \(KID\)$/],
      [['keys', 'withdraw', signing], /^error: Key \S+ signs now or is waiting to/],
    ] as const) {
      const r = await runCli(...args);
      expect(r.code, args.join(' ')).to.equal(1);
      expect(r.stderr.trim(), args.join(' ')).to.match(message);
    }
    expect(await listSigningKeys(a.db)).to.deep.equal(before);

    const rotated = await runCli('keys', 'rotate', '--in', '600');
    expect(rotated.code).to.equal(0);
    expect(rotated.stdout).to.not.match(/note:/);
    const [, kid] = /new signing key ([^,\s]+), published now; it signs from (\S+)/.exec(rotated.stdout) ?? [];
    const listed = await runCli('keys', 'list');
    expect(listed.stdout).to.match(new RegExp(`^${kid}  next  from `, 'm'));
    expect(listed.stdout).to.match(new RegExp(`^${signing}  signing  from \\S+  until `, 'm'));
    // Leave no key waiting for later test files: one with no wait overtakes it (and warns of instances that do not listen).
    const urgent = await runCli('keys', 'rotate', '--now');
    expect(urgent.code).to.equal(0);
    expect(urgent.stdout).to.match(/note: instances that listen on the database hear of it at once/);
    const [, urgentKid] = /new signing key ([^,\s]+),/.exec(urgent.stdout) ?? [];
    const states = Object.fromEntries((await listSigningKeys(a.db)).map((k) => [k.kid, k.state]));
    expect([states[kid!], states[urgentKid!], states[signing]]).to.deep.equal(['unused', 'signing', 'retired']);
    expect((await runCli('keys', 'list')).stdout).to.match(new RegExp(`^${kid}  unused  never signed$`, 'm'));
    // Withdrawn from the command line; each change audited with who ran it.
    const withdrawn = await runCli('keys', 'withdraw', kid!);
    expect(withdrawn.code, withdrawn.stderr).to.equal(0);
    const audited = await a.db('audit_log').where({ subject_type: 'signing_key' }).whereIn('subject_id', [kid!, urgentKid!]).orderBy('id').select('action', 'actor', 'subject_id');
    const who = `cli:${userInfo().username}`;
    expect(audited.map((r: { action: string; actor: string; subject_id: string }) => [r.action, r.actor, r.subject_id])).to.deep.equal([
      ['signing_key.rotated', who, kid],
      ['signing_key.rotated', who, urgentKid],
      ['signing_key.withdrawn', who, kid],
    ]);
  });
});
