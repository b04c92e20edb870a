import { expect } from 'chai';
import { runCli } from '../helpers/cli.ts';
import { issueTestCard, type TestCard } from '../helpers/fixtures.ts';
import { startCardManager, type TestServer } from '../helpers/server.ts';

/** A guardian's limit lowered by the operator lowers the children's above it: the answer says whose. */
describe('operator: a guardian lowered below the children', function () {
  this.timeout(120_000);
  let ts: TestServer;

  before(async () => {
    ts = await startCardManager();
  });
  after(() => ts.stop());

  /** A guardian with this limit and two children linked to them, one above `lowerTo` and one below it. */
  async function family(limit: number, above: number, below: number) {
    const guardian = await issueTestCard(ts, '1975-05-05', 'Han Guardian');
    const [older, younger] = [await issueTestCard(ts, '2010-01-01', 'Han Older'), await issueTestCard(ts, '2011-01-01', 'Han Younger')];
    await ts.db('accounts').where({ id: guardian.accountId }).update({ credit_limit: limit });
    await ts.db('accounts').where({ id: older.accountId }).update({ guardian_account_id: guardian.accountId, credit_limit: above });
    await ts.db('accounts').where({ id: younger.accountId }).update({ guardian_account_id: guardian.accountId, credit_limit: below });
    return { guardian, older, younger };
  }
  const limitOf = async (c: TestCard) => Number((await ts.db('accounts').where({ id: c.accountId }).first('credit_limit')).credit_limit);

  it('names each child whose limit came down in the API answer, and only those', async () => {
    const { guardian, older, younger } = await family(100_000, 80_000, 10_000);
    const res = await fetch(`${ts.url}/admin/api/cards/${guardian.cardId}/limit`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${ts.config.secrets.operatorToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ credit_limit: 30_000, reason: 'missed payments' }),
    });
    expect(res.status).to.equal(200);
    expect(await res.json()).to.deep.equal({
      account_id: guardian.accountId,
      currency: 'KRW',
      from: 100_000,
      credit_limit: 30_000,
      lowered_wards: [{ account_id: older.accountId, legal_name: 'Han Older', from: 80_000, credit_limit: 30_000 }],
      changed: true,
    });
    expect([await limitOf(older), await limitOf(younger)]).to.deep.equal([30_000, 10_000]);
    // Raising it again lowers nobody.
    const raised = await fetch(`${ts.url}/admin/api/cards/${guardian.cardId}/limit`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${ts.config.secrets.operatorToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ credit_limit: 90_000, reason: 'paid up' }),
    });
    expect(((await raised.json()) as { lowered_wards: unknown[] }).lowered_wards).to.deep.equal([]);
  });

  it('names them in the CLI output too', async () => {
    const { guardian, older, younger } = await family(100_000, 10_000, 60_000);
    const r = await runCli('cards', 'limit', '--card', guardian.cardId, '--amount', '20000', '--reason', 'missed payments');
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.include(`credit limit of account ${guardian.accountId}: 100000 → 20000 KRW`);
    expect(r.stdout).to.include(`Han Younger, account ${younger.accountId}: 60000 → 20000 KRW`);
    expect(r.stdout).to.not.include(older.accountId);
    expect(await limitOf(younger)).to.equal(20_000);
  });
});
