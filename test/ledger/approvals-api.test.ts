import { expect } from 'chai';
import { exportJWK, generateKeyPair } from 'jose';
import * as client from 'openid-client';
import { approve } from '../../src/approvals/approve.ts';
import { registerTestSite, siteClient, type TestCard, type TestSite } from '../helpers/fixtures.ts';
import type { TestServer } from '../helpers/server.ts';
import { issuerKey, sign } from '../resource-server/tokens.ts';
import { approveFor, approvalsOf, basicAuth, cardWithLimit, startLedgerServer, unbalancedEntries } from './fixtures.ts';

describe('member-site capture, void and refund (/api/approvals)', () => {
  let ts: TestServer;
  let site: TestSite;
  let other: TestSite;
  let card: TestCard;
  let keyN = 0;

  async function change(s: TestSite, approvalNo: string, op: string, body?: unknown, key = `k-${++keyN}`) {
    const res = await fetch(`${ts.url}/api/approvals/${approvalNo}/${op}`, {
      method: 'POST',
      headers: {
        authorization: basicAuth(s),
        ...(key ? { 'idempotency-key': key } : {}),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
    const text = await res.text();
    return { status: res.status, text, json: JSON.parse(text) as Record<string, unknown>, replayed: res.headers.get('idempotent-replayed') };
  }
  /** Everything a change could have touched, to show that a refused one touched nothing. */
  async function snapshot(approvalNo: string) {
    const a = await ts.db('approvals').where({ approval_no: approvalNo }).first();
    const acct = await ts.db('accounts').where({ id: a.account_id }).first();
    const entries = await ts.db('journal_entries').where({ approval_id: a.id }).count({ n: '*' }).first();
    return JSON.stringify([a.status, a.captured_amount, a.refunded_amount, a.released_amount, acct.posted_balance, acct.held_amount, entries!.n]);
  }

  before(async () => {
    ts = await startLedgerServer({ payments: { expireIntervalSeconds: 1 } });
    site = await registerTestSite(ts);
    other = await registerTestSite(ts);
    card = await cardWithLimit(ts, 1_000_000);
  });
  after(() => ts.stop());

  it('answers the same Idempotency-Key twice with one effect and the same response', async () => {
    const a = await approveFor(ts, card, site, 5_000);
    const first = await change(site, a.approvalNo, 'capture', { amount: 2_000 }, 'same-key');
    const second = await change(site, a.approvalNo, 'capture', { amount: 2_000 }, 'same-key');
    expect(first.status).to.equal(200);
    expect(second.status).to.equal(200);
    expect(second.json).to.deep.equal(first.json);
    expect(second.text, 'the same bytes, keys in the same order').to.equal(first.text);
    expect(second.replayed).to.equal('true');
    const row = await ts.db('approvals').where({ id: a.id }).first();
    expect(Number(row.captured_amount)).to.equal(2_000);
    // Concurrent repeats of one key: still one effect.
    const racing = await Promise.all(Array.from({ length: 5 }, () => change(site, a.approvalNo, 'capture', { amount: 500 }, 'racing-key')));
    for (const r of racing) expect(r.json).to.deep.equal(racing[0]!.json);
    expect(Number((await ts.db('approvals').where({ id: a.id }).first()).captured_amount)).to.equal(2_500);
  });

  it('refuses the same key with a different body (or operation) with 409, changing nothing', async () => {
    const a = await approveFor(ts, card, site, 5_000);
    await change(site, a.approvalNo, 'capture', { amount: 1_000 }, 'reused');
    const before = await snapshot(a.approvalNo);
    for (const [op, body] of [['capture', { amount: 1_500 }], ['capture', undefined], ['void', undefined], ['refund', { amount: 1_000 }]] as const) {
      const res = await change(site, a.approvalNo, op, body, 'reused');
      expect(res.status, `${op} ${JSON.stringify(body)}`).to.equal(409);
      expect(res.json.error).to.equal('idempotency_key_reused');
    }
    expect(await snapshot(a.approvalNo)).to.equal(before);
  });

  it('lets parallel captures of one approval add up to at most its hold', async () => {
    const a = await approveFor(ts, card, site, 10_000);
    const results = await Promise.all(Array.from({ length: 12 }, () => change(site, a.approvalNo, 'capture', { amount: 1_000 })));
    expect(results.filter((r) => r.status === 200)).to.have.length(10);
    for (const r of results.filter((x) => x.status !== 200)) expect(r.json.error).to.be.oneOf(['amount_exceeds_hold', 'approval_not_open']);
    const row = await ts.db('approvals').where({ id: a.id }).first();
    expect(Number(row.captured_amount)).to.equal(10_000);
    expect(row.status).to.equal('captured');
    expect(await unbalancedEntries(ts)).to.equal(0);
  });

  it('refuses capture above the hold, capture after void and refund above captured with a clear 409, changing nothing', async () => {
    const a = await approveFor(ts, card, site, 3_000);
    let before = await snapshot(a.approvalNo);
    const above = await change(site, a.approvalNo, 'capture', { amount: 3_001 });
    expect(above.status).to.equal(409);
    expect(above.json).to.include({ error: 'amount_exceeds_hold' });
    expect(String(above.json.error_description ?? above.json.message)).to.match(/holds only 3,000 KRW/);
    expect(await snapshot(a.approvalNo)).to.equal(before);

    const nothing = await change(site, a.approvalNo, 'refund', { amount: 1 });
    expect(nothing.status).to.equal(409);
    expect(nothing.json.error).to.equal('nothing_to_refund');

    expect((await change(site, a.approvalNo, 'capture', { amount: 1_000 })).status).to.equal(200);
    expect((await change(site, a.approvalNo, 'void')).status).to.equal(200);
    before = await snapshot(a.approvalNo);
    const afterVoid = await change(site, a.approvalNo, 'capture', { amount: 1 });
    expect(afterVoid.status).to.equal(409);
    expect(afterVoid.json.error).to.equal('approval_not_open');
    const refundAbove = await change(site, a.approvalNo, 'refund', { amount: 1_001 });
    expect(refundAbove.status).to.equal(409);
    expect(refundAbove.json.error).to.equal('amount_exceeds_refundable');
    expect(await snapshot(a.approvalNo)).to.equal(before);
    expect((await change(site, a.approvalNo, 'refund', { amount: 1_000 })).status).to.equal(200);
  });

  it('counts earlier partial captures and refunds: a capture past what is left held, or a refund past what is left unrefunded, is a 409 [boundary]', async () => {
    const a = await approveFor(ts, card, site, 3_000);
    expect((await change(site, a.approvalNo, 'capture', { amount: 2_000 })).status).to.equal(200);
    let before = await snapshot(a.approvalNo);
    const captureAbove = await change(site, a.approvalNo, 'capture', { amount: 1_001 });
    expect(captureAbove.status).to.equal(409);
    expect(captureAbove.json.error).to.equal('amount_exceeds_hold');
    expect(String(captureAbove.json.error_description ?? captureAbove.json.message)).to.match(/holds only 1,000 KRW/);
    expect(await snapshot(a.approvalNo)).to.equal(before);

    expect((await change(site, a.approvalNo, 'refund', { amount: 1_500 })).status).to.equal(200);
    before = await snapshot(a.approvalNo);
    const refundAbove = await change(site, a.approvalNo, 'refund', { amount: 501 });
    expect(refundAbove.status).to.equal(409);
    expect(refundAbove.json.error).to.equal('amount_exceeds_refundable');
    expect(await snapshot(a.approvalNo)).to.equal(before);
    // What is left, exactly, goes through.
    expect((await change(site, a.approvalNo, 'refund', { amount: 500 })).status).to.equal(200);
    expect((await change(site, a.approvalNo, 'capture', { amount: 1_000 })).status).to.equal(200);
    const row = await ts.db('approvals').where({ id: a.id }).first();
    expect([row.status, Number(row.captured_amount), Number(row.refunded_amount)]).to.deep.equal(['captured', 3_000, 2_000]);
    expect(await unbalancedEntries(ts)).to.equal(0);
  });

  it('refuses amounts that are not positive whole minor units with 422, and malformed bodies with 4xx', async () => {
    const a = await approveFor(ts, card, site, 3_000);
    const before = await snapshot(a.approvalNo);
    for (const op of ['capture', 'refund']) {
      for (const amount of [0, -1, 1.5, '12.50', '1e3', '', ' 5', null, true, [5], { v: 5 }, 1e16]) {
        const res = await change(site, a.approvalNo, op, { amount });
        expect(res.status, `${op} ${JSON.stringify(amount)}`).to.equal(422);
        expect(res.json.error).to.equal('invalid_amount');
      }
      for (const [body, status] of [['{not json', 400], ['[1]', 400], [{ amount: 5, extra: 1 }, 400]] as const) {
        const res = await change(site, a.approvalNo, op, body);
        expect(res.status, `${op} ${JSON.stringify(body)}`).to.equal(status);
      }
      // A body that is JSON but no object gets one answer, whichever reader turned it away (an array reaches the route).
      for (const body of ['[1]', '[]', 'null', '"1500"', '1500']) {
        const res = await change(site, a.approvalNo, op, body);
        expect(res.status, `${op} ${body}`).to.equal(400);
        expect(res.json.error_description, `${op} ${body}`).to.equal('Send a JSON object.');
      }
    }
    const noKey = await change(site, a.approvalNo, 'capture', { amount: 5 }, '');
    expect(noKey.status).to.equal(400);
    expect(noKey.json.error).to.equal('idempotency_key_required');
    expect(await snapshot(a.approvalNo)).to.equal(before);
  });

  it('refuses a change without valid credentials, Idempotency-Key or JSON body with 4xx on every operation, changing nothing', async () => {
    const a = await approveFor(ts, card, site, 3_000);
    const before = await snapshot(a.approvalNo);
    const post = async (op: string, headers: Record<string, string>, body?: string) => {
      const res = await fetch(`${ts.url}/api/approvals/${a.approvalNo}/${op}`, { method: 'POST', headers, ...(body === undefined ? {} : { body }) });
      return { status: res.status, json: (await res.json()) as Record<string, unknown>, challenge: res.headers.get('www-authenticate') };
    };
    for (const op of ['capture', 'void', 'refund']) {
      const auth = { authorization: basicAuth(site) };
      const noKey = await post(op, auth);
      expect([op, noKey.status, noKey.json.error]).to.deep.equal([op, 400, 'idempotency_key_required']);
      for (const key of ['has space', 'k'.repeat(256), 'tab	key']) {
        const bad = await post(op, { ...auth, 'idempotency-key': key });
        expect([op, key.slice(0, 12), bad.status, bad.json.error]).to.deep.equal([op, key.slice(0, 12), 400, 'invalid_idempotency_key']);
      }
      const form = await post(op, { ...auth, 'idempotency-key': `form-${op}`, 'content-type': 'application/x-www-form-urlencoded' }, 'amount=100');
      expect([op, form.status, form.json.error]).to.deep.equal([op, 415, 'unsupported_media_type']);
      for (const authorization of [undefined, `Basic ${Buffer.from(`${site.clientId}:wrong`).toString('base64')}`, 'Bearer not-a-token']) {
        const denied = await post(op, { ...(authorization ? { authorization } : {}), 'idempotency-key': `denied-${op}` });
        expect([op, denied.status], String(authorization)).to.deep.equal([op, 401]);
        expect(denied.challenge).to.be.a('string');
      }
      if (op !== 'void') {
        const extra = await post(op, { ...auth, 'idempotency-key': `extra-${op}`, 'content-type': 'application/json' }, JSON.stringify({ amount: 100, currency: 'KRW' }));
        expect([op, extra.status]).to.deep.equal([op, 400]);
      } else {
        const amount = await post(op, { ...auth, 'idempotency-key': 'void-amount', 'content-type': 'application/json' }, JSON.stringify({ amount: 100 }));
        expect([op, amount.status]).to.deep.equal([op, 400]);
      }
    }
    expect(await snapshot(a.approvalNo)).to.equal(before);
    // None of the refused keys was kept: each may be used for a real change.
    const retry = await change(site, a.approvalNo, 'void', undefined, 'denied-void');
    expect(retry.status).to.equal(200);
  });

  it('takes a change from a private_key_jwt site with its client_credentials token for the API (scope approvals)', async () => {
    const key = await generateKeyPair('ES256', { extractable: true });
    const jwk = { ...(await exportJWK(key.publicKey)), kid: 'api-key-1', alg: 'ES256', use: 'sig' };
    const keyed = await registerTestSite(ts, { tokenEndpointAuthMethod: 'private_key_jwt', jwks: { keys: [jwk] } });
    const a = await approveFor(ts, card, keyed, 2_000);
    const cfg = await siteClient(ts, keyed, client.PrivateKeyJwt({ key: key.privateKey, kid: 'api-key-1' }));
    const { access_token: token } = await client.clientCredentialsGrant(cfg, { resource: `${ts.url}/api`, scope: 'approvals' });
    const call = (op: string, body: unknown, k: string) =>
      fetch(`${ts.url}/api/approvals/${a.approvalNo}/${op}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'idempotency-key': k, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const captured = await call('capture', { amount: 1_500 }, 'pkj-1');
    expect(captured.status).to.equal(200);
    expect(await captured.json()).to.include({ captured_amount: 1_500, status: 'approved' });
    expect((await call('refund', { amount: 500 }, 'pkj-2')).status).to.equal(200);
    // Its token is no key to another site's approvals.
    const theirs = await approveFor(ts, card, site, 1_000);
    const foreign = await fetch(`${ts.url}/api/approvals/${theirs.approvalNo}/capture`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'idempotency-key': 'pkj-3' },
    });
    expect(foreign.status).to.equal(404);
  });

  it("refuses a holder's access token for the API (signed by the card manager, naming a holder), changing nothing", async () => {
    // A token a holder's sign-in gave before such sign-ins were refused invalid_target (test/oidc/api-resource.test.ts),
    // and may still live: it carries the site's client_id and the approvals scope, but it is the holder's (sub), and a
    // site may hand such a token to the holder's browser. Only the site's own client_credentials token acts for the site.
    const a = await approveFor(ts, card, site, 2_000);
    expect((await change(site, a.approvalNo, 'capture')).status).to.equal(200);
    const { key, kid } = await issuerKey(ts);
    const now = Math.floor(Date.now() / 1000);
    const holderToken = await sign(
      { iss: ts.url, aud: `${ts.url}/api`, sub: 'pairwise-holder', client_id: site.clientId, scope: 'approvals', iat: now, exp: now + 300, jti: 'holder-api-token' },
      key,
      { alg: 'ES256', kid },
    );
    const before = await snapshot(a.approvalNo);
    for (const op of ['refund', 'void', 'capture']) {
      const res = await fetch(`${ts.url}/api/approvals/${a.approvalNo}/${op}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${holderToken}`, 'idempotency-key': `holder-token-${op}` },
      });
      expect(res.status, op).to.equal(401);
      expect(((await res.json()) as { error: string }).error).to.equal('invalid_token');
    }
    const listed = await fetch(`${ts.url}/api/approvals/${a.approvalNo}`, { headers: { authorization: `Bearer ${holderToken}` } });
    expect(listed.status).to.equal(401);
    expect(await snapshot(a.approvalNo)).to.equal(before);
  });

  it("answers another member site's approval with 404 for every change, as for an unknown number", async () => {
    const a = await approveFor(ts, card, site, 3_000);
    const before = await snapshot(a.approvalNo);
    for (const op of ['capture', 'void', 'refund']) {
      const res = await change(other, a.approvalNo, op, op === 'void' ? undefined : { amount: 100 });
      expect(res.status, op).to.equal(404);
      const unknown = await change(other, '0000-0000', op, op === 'void' ? undefined : { amount: 100 });
      expect(res.json).to.deep.equal(unknown.json);
    }
    expect(await snapshot(a.approvalNo)).to.equal(before);
  });

  it('captures in full inside the approval for a site configured for auto-capture', async () => {
    const auto = await registerTestSite(ts, { autoCapture: true } as never);
    const limitBefore = await ts.db('accounts').where({ id: card.accountId }).first();
    const a = await approveFor(ts, card, auto, 4_200);
    expect(a.status).to.equal('captured');
    expect(a.capturedAmount).to.equal(4_200);
    const row = await ts.db('approvals').where({ id: a.id }).first();
    expect(row.status).to.equal('captured');
    const acct = await ts.db('accounts').where({ id: card.accountId }).first();
    expect(Number(acct.posted_balance) - Number(limitBefore.posted_balance)).to.equal(4_200);
    expect(Number(acct.held_amount)).to.equal(Number(limitBefore.held_amount));
    const kinds = (await ts.db('journal_entries').where({ approval_id: a.id }).orderBy('id')).map((e) => e.kind);
    expect(kinds).to.deep.equal(['hold', 'capture']);
  });

  it('releases a hold not captured in time from inside the server (payments.expireIntervalSeconds)', async () => {
    const policy = { ...approvalsOf(ts).policy, holdSeconds: 1 };
    const a = await approve(
      { db: ts.db, policy },
      { accountId: card.accountId, cardId: card.cardId, clientId: site.clientId, amount: 777, currency: 'KRW', description: 'short hold', contentRef: null, rating: 0 },
    );
    const deadline = Date.now() + 10_000;
    let row = await ts.db('approvals').where({ id: a.id }).first();
    while (row.status === 'approved' && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 250));
      row = await ts.db('approvals').where({ id: a.id }).first();
    }
    expect(row.status).to.equal('expired');
    expect(Number(row.released_amount)).to.equal(777);
  });
});
