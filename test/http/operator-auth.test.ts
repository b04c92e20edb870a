import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { issueTestCard, type TestCard } from '../helpers/fixtures.ts';
import { testEnv } from '../helpers/global.ts';
import { startCardManager, type TestServer } from '../helpers/server.ts';

/** Each person on the operator's team has a token of their own (OPERATOR_TOKENS): the audit trail says who did what. */
describe('operator API: named operator tokens', () => {
  const alice = randomBytes(32).toString('base64url');
  const bob = randomBytes(32).toString('base64url');
  const shared = randomBytes(32).toString('base64url');
  let ts: TestServer;
  let card: TestCard;

  before(async () => {
    ts = await startCardManager({}, { env: { OPERATOR_TOKENS: `alice:${alice}, bob:${bob}`, OPERATOR_TOKEN: shared } });
    card = await issueTestCard(ts);
  });
  after(() => ts.stop());

  const call = (method: string, path: string, token: string | undefined, body: unknown) =>
    fetch(`${ts.url}/admin/api/cards/${card.cardId}${path}`, {
      method,
      headers: { 'content-type': 'application/json', ...(token !== undefined ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(body),
    });
  async function trail(): Promise<Array<{ actor: string; action: string; details: Record<string, unknown> }>> {
    const res = await fetch(`${ts.url}/admin/api/cards/${card.cardId}/audit`, { headers: { authorization: `Bearer ${alice}` } });
    expect(res.status).to.equal(200);
    return ((await res.json()) as { entries: Array<{ actor: string; action: string; details: Record<string, unknown> }> }).entries;
  }

  it('records each operator by name, and the shared token as "operator"', async () => {
    expect((await call('POST', '/block', alice, { reason: 'holder called: phone stolen' })).status).to.equal(200);
    expect((await call('POST', '/unblock', bob, { reason: 'holder found it' })).status).to.equal(200);
    expect((await call('PUT', '/limit', shared, { credit_limit: 1000, reason: 'asked for less' })).status).to.equal(200);
    const byReason = Object.fromEntries((await trail()).map((e) => [String(e.details.reason), `${e.action} by ${e.actor}`]));
    expect(byReason).to.include({
      'holder called: phone stolen': 'card.status_changed by operator:alice',
      'holder found it': 'card.status_changed by operator:bob',
      'asked for less': 'account.credit_limit_changed by operator',
    });
  });

  it('refuses a credit limit above the largest amount, which would no longer add up exactly, changing nothing', async () => {
    const limit = async () => Number((await ts.db('accounts').where({ id: card.accountId }).first('credit_limit')).credit_limit);
    const before = await limit();
    for (const credit_limit of [1_000_000_000_001, Number.MAX_SAFE_INTEGER, -1, 1.5]) {
      const res = await call('PUT', '/limit', alice, { credit_limit, reason: 'typo with extra zeros' });
      expect(res.status, String(credit_limit)).to.equal(400);
      expect(((await res.json()) as { fields: Record<string, string> }).fields.credit_limit).to.equal('A whole number of minor units from 0 to 1000000000000.');
    }
    expect(await limit()).to.equal(before);
    expect((await call('PUT', '/limit', alice, { credit_limit: 1_000_000_000_000, reason: 'the most there is' })).status).to.equal(200);
  });

  it('refuses a token that is not one of them exactly, changing nothing', async () => {
    const before = await trail();
    for (const token of [undefined, '', alice.slice(0, -1), `${alice}x`, `alice:${alice}`, `${alice},${bob}`, alice.toUpperCase()]) {
      const res = await call('POST', '/block', token, { reason: 'should not happen' });
      expect(res.status, String(token)).to.equal(401);
      expect(res.headers.get('www-authenticate')).to.equal('Bearer realm="cybercard-operator"');
    }
    expect(await trail()).to.deep.equal(before);
  });

  it('takes the token after "Bearer" and its spaces, the scheme in any case, and the token itself exactly [RFC 6750 §2.1]', async () => {
    const audit = (authorization: string) => fetch(`${ts.url}/admin/api/cards/${card.cardId}/audit`, { headers: { authorization } });
    for (const header of [`Bearer  ${alice}`, `bearer ${alice}`, `BEARER   ${bob}`, `Bearer ${shared}  `]) {
      expect((await audit(header)).status, header).to.equal(200);
    }
    for (const header of [`Bearer${alice}`, `Bearer ${alice} x`, `Bearer \u00a0${alice}`, `Basic ${alice}`, `Bearer ${alice}=`, 'Bearer  ']) {
      expect((await audit(header)).status, header).to.equal(401);
    }
  });

  it('refuses the generated development token beside named tokens, and says so at start', async () => {
    const generated = (JSON.parse(readFileSync(path.join(testEnv.dataDir, 'secrets.json'), 'utf8')) as { operatorToken: string }).operatorToken;
    const lines: string[] = [];
    const named = await startCardManager({ logLevel: 'info' }, { env: { OPERATOR_TOKENS: `alice:${alice}` }, logStream: { write: (l: string) => void lines.push(l) } });
    try {
      expect(named.config.secrets.operatorToken).to.equal(undefined);
      const block = (token: string) =>
        fetch(`${named.url}/admin/api/cards/${card.cardId}/block`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
          body: JSON.stringify({ reason: 'with the generated token' }),
        });
      expect((await block(generated)).status).to.equal(401);
      expect((await ts.db('cards').where({ id: card.cardId }).first('status')).status).to.equal('active');
      expect((await block(alice)).status).to.equal(200);
      const said = lines.map((l) => JSON.parse(l) as { msg: string }).filter((l) => l.msg.startsWith('OPERATOR_TOKENS is set'));
      expect(said).to.have.length(1);
      expect(said[0]!.msg).to.include('does not accept the generated development operator token');
    } finally {
      await named.stop();
    }
    // Without named tokens, development keeps its generated one.
    expect(ts.config.secrets.operatorToken).to.equal(shared);
  });
});
