import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { runCli } from '../helpers/cli.ts';
import { issueTestCard, registerTestSite, type TestCard } from '../helpers/fixtures.ts';
import { startCardManager, type TestServer } from '../helpers/server.ts';

/**
 * One rule for repeated state changes across the operator's API and CLI: asking for the status a card, site or
 * application is in already changes nothing and answers 200 (exit 0) with changed: false; a change the life cycle does
 * not allow is 409 (exit 1). Either way nothing is written.
 */
describe('operator: a repeated status change', function () {
  this.timeout(120_000);
  let ts: TestServer;

  before(async () => {
    ts = await startCardManager();
  });
  after(() => ts.stop());

  async function post(path: string, body: unknown = { reason: 'holder called' }) {
    const res = await fetch(`${ts.url}/admin/api${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ts.config.secrets.operatorToken}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  }
  /** What a change writes: audit entries, messages to holders, the card's revoked sessions and tokens. */
  async function writes() {
    const count = async (table: string) => Number((await ts.db(table).count({ n: '*' }).first())!.n);
    return { audit: await count('audit_log'), outbox: await count('notifications_outbox') };
  }
  const status = async (c: TestCard) => (await ts.db('cards').where({ id: c.cardId }).first('status')).status as string;

  it('answers 200 changed: false for a card already blocked, active, lost or closed, writing nothing', async () => {
    const card = await issueTestCard(ts);
    expect(await post(`/cards/${card.cardId}/block`)).to.deep.include({ status: 200, body: { id: card.cardId, last4: card.number.slice(-4), status: 'suspended', changed: true } });
    for (const [action, now] of [['block', 'suspended'], ['unblock', 'active'], ['unblock', 'active'], ['lost', 'lost'], ['lost', 'lost'], ['close', 'closed'], ['close', 'closed']] as const) {
      const before = await writes();
      const first = (await status(card)) !== now;
      const res = await post(`/cards/${card.cardId}/${action}`);
      expect([action, res.status, res.body.status, res.body.changed]).to.deep.equal([action, 200, now, first]);
      if (!first) expect(await writes(), `${action} again`).to.deep.equal(before);
    }
  });

  it('refuses a change the life cycle does not allow with 409, and an unblock of a card waiting for its application', async () => {
    const lost = await issueTestCard(ts);
    await post(`/cards/${lost.cardId}/lost`);
    const back = await post(`/cards/${lost.cardId}/unblock`);
    expect([back.status, back.body.error, back.body.error_description]).to.deep.equal([409, 'invalid_transition', 'A lost card cannot become active.']);
    // A pending card is not blocked: it waits for the review queue's decision, which unblocking must not skip.
    const pending = await issueTestCard(ts);
    await ts.db('cards').where({ id: pending.cardId }).update({ status: 'pending' });
    const before = await writes();
    const skipped = await post(`/cards/${pending.cardId}/unblock`);
    expect([skipped.status, skipped.body.error_description]).to.deep.equal([409, 'A pending card cannot become active.']);
    expect(await status(pending)).to.equal('pending');
    expect(await writes()).to.deep.equal(before);
  });

  it('answers the same for a member site already suspended, active or closed, and 409 for a closed one reinstated', async () => {
    const site = await registerTestSite(ts);
    for (const [action, now, changed] of [
      ['suspend', 'suspended', true],
      ['suspend', 'suspended', false],
      ['reinstate', 'active', true],
      ['reinstate', 'active', false],
      ['close', 'closed', true],
      ['close', 'closed', false],
    ] as const) {
      const before = await writes();
      const res = await post(`/sites/${site.clientId}/${action}`, { reason: `${action} ${String(changed)}` });
      expect([action, res.status, res.body.status, res.body.changed]).to.deep.equal([action, 200, now, changed]);
      if (!changed) expect(await writes(), `${action} again`).to.deep.equal(before);
    }
    expect((await post(`/sites/${site.clientId}/reinstate`)).status).to.equal(409);
  });

  it('answers changed: false for a credit limit set to what it is already, writing nothing, in the API and the CLI', async () => {
    const card = await issueTestCard(ts);
    const put = async (creditLimit: number) => {
      const res = await fetch(`${ts.url}/admin/api/cards/${card.cardId}/limit`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${ts.config.secrets.operatorToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ credit_limit: creditLimit, reason: 'holder asked' }),
      });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };
    expect(await put(70_000)).to.deep.include({ status: 200 });
    const before = await writes();
    const again = await put(70_000);
    expect(again).to.deep.equal({
      status: 200,
      body: { account_id: card.accountId, currency: 'KRW', from: 70_000, credit_limit: 70_000, lowered_wards: [], changed: false },
    });
    expect(await writes()).to.deep.equal(before);
    const cli = await runCli('cards', 'limit', '--card', card.cardId, '--amount', '70000', '--reason', 'again');
    expect([cli.code, cli.stdout.trim()]).to.deep.equal([0, `credit limit of account ${card.accountId} was 70000 KRW already: nothing changed`]);
    expect(await writes()).to.deep.equal(before);
    expect((await put(80_000)).body).to.include({ from: 70_000, credit_limit: 80_000, changed: true });
  });

  it('says so in the CLI and exits 0, with stdout still the JSON the API answers for a site', async () => {
    const card = await issueTestCard(ts);
    expect((await runCli('cards', 'block', '--card', card.cardId, '--reason', 'first')).stdout).to.include(`card **** ${card.number.slice(-4)} is now suspended`);
    const before = await writes();
    const again = await runCli('cards', 'block', '--card', card.cardId, '--reason', 'again');
    expect([again.code, again.stdout.trim()]).to.deep.equal([0, `card **** ${card.number.slice(-4)} was suspended already: nothing changed`]);
    expect(await writes()).to.deep.equal(before);
    const active = await issueTestCard(ts);
    const unblocked = await runCli('cards', 'unblock', '--card', active.cardId, '--reason', 'not blocked');
    expect([unblocked.code, unblocked.stdout.trim()]).to.deep.equal([0, `card **** ${active.number.slice(-4)} was active already: nothing changed`]);

    const site = await registerTestSite(ts, { clientId: `again-${randomBytes(3).toString('hex')}` });
    await runCli('sites', 'suspend', '--client-id', site.clientId, '--reason', 'first');
    const suspended = await runCli('sites', 'suspend', '--client-id', site.clientId, '--reason', 'again');
    expect(suspended.code, suspended.stderr).to.equal(0);
    expect(suspended.stderr.trim()).to.equal(`note: member site ${site.clientId} was suspended already: nothing changed`);
    expect(JSON.parse(suspended.stdout)).to.include({ client_id: site.clientId, status: 'suspended', status_reason: 'first', changed: false });
  });
});
