import { expect } from 'chai';
import { csrfOf } from '../helpers/agent.ts';
import { issueTestCard, type TestCard } from '../helpers/fixtures.ts';
import { signedInHolder } from '../helpers/holder.ts';
import { fieldError, inputValue } from '../helpers/html.ts';
import { startCardManager, type TestServer } from '../helpers/server.ts';

/**
 * A deployment in a currency with cents: the holder's money forms read and write amounts in the currency's own unit
 * (12.50 USD), as every page shows them, and store minor units; the JSON APIs keep integers in minor units.
 */
describe('holder money forms in a currency with cents (USD)', () => {
  let ts: TestServer;
  let card: TestCard;

  before(async () => {
    ts = await startCardManager({ currency: 'USD' });
    card = await issueTestCard(ts);
  });
  after(() => ts.stop());

  it('takes 12.50 as twelve dollars fifty, shows it back so, and refuses a third decimal with words in dollars', async () => {
    const agent = await signedInHolder(ts.url, card);
    const csrf = csrfOf(await (await agent.get('/card/controls')).text(), '/card/controls');
    const saved = await agent.post('/card/controls', { csrf, max_per_approval: '12.50', monthly_cap: '1,000' });
    expect(saved.status).to.equal(200);
    const row = await ts.db('accounts').where({ id: card.accountId }).select('currency', 'max_per_approval', 'monthly_cap').first();
    expect([row.currency, Number(row.max_per_approval), Number(row.monthly_cap)]).to.deep.equal(['USD', 1250, 100_000]);
    const shown = await (await agent.get('/card/controls')).text();
    expect([inputValue(shown, 'max_per_approval'), inputValue(shown, 'monthly_cap')]).to.deep.equal(['12.50', '1000.00']);

    for (const bad of ['12.505', '0.00', '-1', '1e3']) {
      const res = await agent.post('/card/controls', { csrf, max_per_approval: bad, monthly_cap: '' });
      expect(res.status, bad).to.equal(400);
      expect(fieldError(await res.text(), 'max_per_approval'), bad).to.equal(
        'Enter an amount from 0.01 USD to 10,000,000,000.00 USD, or leave it empty for no limit.',
      );
    }
    const after = await ts.db('accounts').where({ id: card.accountId }).select('max_per_approval').first();
    expect(Number(after.max_per_approval)).to.equal(1250);

    // The JSON API keeps minor units.
    const api = await agent.request('/api/holder/controls', { headers: { accept: 'application/json' } });
    expect(((await api.json()) as { max_per_approval: number }).max_per_approval).to.equal(1250);
  });
});
