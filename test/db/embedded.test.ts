import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import * as client from 'openid-client';
import { EmbeddedInUseError } from '../../src/db/embedded-lock.ts';
import { checkLedger } from '../../src/ledger/check-ledger.ts';
import { openDb } from '../../src/db/knex.ts';
import { deleteExpiredPayloads } from '../../src/db/oidc-payloads.ts';
import { sendDueLogouts } from '../../src/oidc/send-logout-tokens.ts';
import { Agent, runLogin } from '../helpers/agent.ts';
import { authRequest, issueTestCard, registerTestSite, siteClient, type TestCard, type TestSite } from '../helpers/fixtures.ts';
import { startCardManager, type TestServer } from '../helpers/server.ts';
import { approveFor } from '../ledger/fixtures.ts';
import { paymentToken } from '../resource-server/tokens.ts';

/**
 * `npm start` on a fresh machine runs on the embedded PostgreSQL (PGlite) under DATA_DIR, with the same
 * migrations and without request transactions (one connection, one instance). The hosted flows must
 * work there exactly as on the PostgreSQL server: a payment through PAR and a plain login, end to end.
 */
describe('the card manager on its embedded database (PGlite)', function () {
  this.timeout(120_000);
  let dir: string;
  let ts: TestServer;
  let site: TestSite;
  let config: client.Configuration;
  let card: TestCard;

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'cybercard-embedded-'));
    ts = await startCardManager({ databaseUrl: null, dataDir: dir });
    site = await registerTestSite(ts);
    config = await siteClient(ts, site);
    card = await issueTestCard(ts);
    await ts.db('accounts').where({ id: card.accountId }).update({ credit_limit: 100_000 });
  });
  after(async () => {
    await ts?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('is claimed by one process: another live one is refused with a clear error, a dead one\'s claim is taken over', async () => {
    // The server holds the claim: this process's pid.
    expect(readFileSync(path.join(dir, 'pgdata.lock'), 'utf8')).to.equal(String(process.pid));
    const other = mkdtempSync(path.join(tmpdir(), 'cybercard-embedded-lock-'));
    const lock = path.join(other, 'pgdata.lock');
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
    try {
      writeFileSync(lock, String(child.pid));
      expect(() => openDb({ databaseUrl: null, dataDir: other })).to.throw(EmbeddedInUseError, /in another process \(pid \d+\), most likely npm start/);
    } finally {
      child.kill();
      await new Promise((r) => child.once('exit', r));
    }
    const db = openDb({ databaseUrl: null, dataDir: other });
    expect(readFileSync(lock, 'utf8')).to.equal(String(process.pid));
    await db.destroy();
    rmSync(other, { recursive: true, force: true });
  });

  it('counts the rows a delete removed, as on PostgreSQL, so the cleanup of expired payloads ends (it looped forever)', async () => {
    const expired = ['e1', 'e2', 'e3'].map((id) => ({ model: 'Session', id, payload: '{}', expires_at: ts.db.raw("now() - interval '1 minute'") }));
    await ts.db('oidc_payloads').insert(expired);
    // Batches of two: a full one, then a short one that ends the loop.
    const deleted = await Promise.race([deleteExpiredPayloads(ts.db, 2), sleep(5000).then(() => 'still deleting after 5 s')]);
    expect(deleted).to.equal(3);
    expect(await ts.db('oidc_payloads').whereIn('id', ['e1', 'e2', 'e3']).del()).to.equal(0);
    expect(await ts.db('accounts').where({ id: card.accountId }).update({ credit_limit: 100_000 })).to.equal(1);
  });

  it('runs every periodic job on it, each a few statements a run, as npm start does', async () => {
    const jobs = mkdtempSync(path.join(tmpdir(), 'cybercard-embedded-jobs-'));
    // Every job each second (npm start: every minute or hour), with rows for the cleanups to find.
    const busy = await startCardManager({
      databaseUrl: null,
      dataDir: jobs,
      oidc: { cleanupIntervalSeconds: 1 },
      retention: { intervalSeconds: 1 },
      notifications: { senderIntervalSeconds: 1 },
      payments: { expireIntervalSeconds: 1 },
      billing: { runIntervalSeconds: 1 },
      keys: { refreshSeconds: 1 },
    });
    let statements = 0;
    const count = () => void statements++;
    try {
      await busy.db('oidc_payloads').insert(['j1', 'j2'].map((id) => ({ model: 'Session', id, payload: '{}', expires_at: busy.db.raw("now() - interval '1 minute'") })));
      busy.db.on('query', count);
      await sleep(3500);
      expect((await fetch(`${busy.url}/healthz`)).status).to.equal(200);
      expect(await busy.db('oidc_payloads').whereIn('id', ['j1', 'j2']).count({ n: '*' }).first()).to.deep.equal({ n: 0 });
      // A job that loops on its own answer runs thousands.
      expect(statements).to.be.below(300);
    } finally {
      busy.db.off('query', count);
      await busy.stop();
      rmSync(jobs, { recursive: true, force: true });
    }
  });

  it('approves a payment pushed through PAR, holds it on the ledger, and puts the approval in the token', async () => {
    const token = await paymentToken(ts, config, site, card, { amount: 1200, description: 'Embedded' });
    const claims = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as { approval_no?: string };
    expect(claims.approval_no).to.match(/^\d{4}-\d{4}$/);
    const approval = await ts.db('approvals').where({ approval_no: claims.approval_no }).first();
    expect(approval).to.include({ status: 'approved', account_id: card.accountId });
    expect(Number((await ts.db('accounts').where({ id: card.accountId }).first()).held_amount)).to.equal(1200);
  });

  it('logs a holder in with consent, and the refresh token rotates', async () => {
    const req = await authRequest(config, site, { resource: site.resource });
    const result = await runLogin(new Agent(ts.url), req.url, card);
    if (result.kind !== 'redirect') throw new Error(`login ended on a ${result.status} page`);
    const tokens = await client.authorizationCodeGrant(config, result.url, { pkceCodeVerifier: req.verifier, expectedState: req.state, expectedNonce: req.nonce });
    expect(tokens.id_token).to.be.a('string');
    const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token!);
    expect(refreshed.refresh_token).to.be.a('string').and.not.equal(tokens.refresh_token);
  });

  it('queues a back-channel logout when the operator blocks the card, and its sender claims it', async () => {
    const host = `https://bcl-${Date.now()}.example.test`;
    const bcl = await registerTestSite(ts, { redirectUris: [`${host}/callback`], postLogoutRedirectUris: [], backchannelLogoutUri: `${host}/logout` });
    const bclConfig = await siteClient(ts, bcl);
    const holder = await issueTestCard(ts);
    const req = await authRequest(bclConfig, { ...bcl, redirectUri: `${host}/callback` });
    const result = await runLogin(new Agent(ts.url), req.url, holder);
    expect(result.kind).to.equal('redirect');
    const res = await fetch(`${ts.url}/admin/api/cards/${holder.cardId}/block`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ts.config.secrets.operatorToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ reason: 'embedded test' }),
    });
    expect(res.status).to.equal(200);
    expect(await ts.db('backchannel_logouts').where({ client_id: bcl.clientId }).select('account_id', 'status')).to.deep.equal([{ account_id: holder.accountId, status: 'pending' }]);
    // example.test is no public address: the post fails, and waits for another attempt.
    expect(await sendDueLogouts(ts.cm.logouts)).to.deep.equal({ sent: 0, failed: 1 });
    expect(await ts.db('backchannel_logouts').where({ client_id: bcl.clientId }).first()).to.include({ status: 'pending', attempts: 1 });
  });

  it('checks that the books add up in one snapshot (repeatable read, read only) while payments go on, and finds a real imbalance', async () => {
    const payments = Array.from({ length: 5 }, (_, i) => approveFor(ts, card, site, 100 + i, `Embedded ${i}`));
    const checks = await Promise.all([checkLedger(ts.db), ...payments.map(async (p) => (await p, checkLedger(ts.db)))]);
    expect(checks.flatMap((c) => c.findings)).to.deep.equal([]);
    expect(checks.every((c) => c.ok)).to.equal(true);
    const bump = (n: number) => ts.db('accounts').where({ id: card.accountId }).increment('held_amount', n);
    await bump(3);
    try {
      expect((await checkLedger(ts.db)).counts).to.deep.equal({ account_held_amount: 1, account_open_holds: 1 });
    } finally {
      await bump(-3);
    }
  });
});
