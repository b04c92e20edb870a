import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { approve } from '../../src/approvals/approve.ts';
import { openDispute } from '../../src/approvals/open-dispute.ts';
import { checkLedger } from '../../src/ledger/check-ledger.ts';
import { formatMoney, parseTypedAmount, typedAmount } from '../../src/lib/money.ts';
import { csrfOf, location, type ForwardedAgent } from '../helpers/agent.ts';
import { registerTestSite, type TestSite } from '../helpers/fixtures.ts';
import { unescapeHtml } from '../helpers/html.ts';
import { signedInOperator } from '../helpers/operator.ts';
import type { TestServer } from '../helpers/server.ts';
import { approvalsOf, basicAuth, cardWithLimit, startLedgerServer } from '../ledger/fixtures.ts';

/**
 * Money is integer minor units of an ISO 4217 currency, and the currency says how many digits its minor unit has: none
 * for VND or CLP (as for KRW and JPY), three for KWD or BHD. A deployment in such a currency must show and read amounts
 * in its own unit: an operator typing a refund of "5,000" VND refunds 5,000 đồng, not 500,000.
 */
describe('currencies whose minor unit is not a hundredth', () => {
  it('shows and reads amounts by the ISO 4217 digits of the currency', () => {
    expect([formatMoney(12_000, 'VND'), formatMoney(12_000, 'CLP'), formatMoney(12_345, 'KWD'), formatMoney(12_345, 'BHD')]).to.deep.equal([
      '12,000 VND',
      '12,000 CLP',
      '12.345 KWD',
      '12.345 BHD',
    ]);
    expect([parseTypedAmount('5,000', 'VND'), parseTypedAmount('1.5', 'KWD'), parseTypedAmount('1.505', 'KWD'), parseTypedAmount('1.5', 'VND')]).to.deep.equal([
      5_000,
      1_500,
      1_505,
      undefined,
    ]);
    expect([typedAmount(5_000, 'VND'), typedAmount(1_505, 'KWD')]).to.deep.equal(['5000', '1.505']);
  });

  describe('a deployment in VND: the operator console', () => {
    const alice = randomBytes(32).toString('base64url');
    let ts: TestServer;
    let site: TestSite;
    let agent: ForwardedAgent;

    before(async () => {
      ts = await startLedgerServer({ currency: 'VND', trustProxy: true }, { env: { OPERATOR_TOKENS: `alice:${alice}` } });
      site = await registerTestSite(ts, { name: 'Phim Hay' } as never);
      agent = await signedInOperator(ts.url, alice);
    });
    after(() => ts?.stop());

    it('shows a reported payment in đồng and refunds the amount typed, in đồng', async () => {
      const card = await cardWithLimit(ts, 1_000_000);
      const deps = approvalsOf(ts);
      const a = await approve({ ...deps, policy: { ...deps.policy, currency: 'VND' } }, {
        accountId: card.accountId,
        cardId: card.cardId,
        clientId: site.clientId,
        amount: 12_000,
        currency: 'VND',
        description: 'Movie night',
        contentRef: null,
        rating: 0,
      });
      const captured = await fetch(`${ts.url}/api/approvals/${a.approvalNo}/capture`, {
        method: 'POST',
        headers: { authorization: basicAuth(site), 'idempotency-key': 'vnd-1' },
      });
      expect(captured.status).to.equal(200);
      const d = await openDispute(
        { db: ts.db, windowDays: ts.config.payments.disputeDays },
        { accountId: card.accountId, cardId: card.cardId, approvalNo: a.approvalNo, reason: 'not_mine', details: 'Not me', actor: `card:${card.cardId}` },
      );

      const page = await (await agent.get('/admin/disputes')).text();
      const shown = new RegExp(`id="payment-${d.id}"[^>]*>([^<]*)<`).exec(page)?.[1];
      expect(unescapeHtml(shown ?? '').trim()).to.equal('Phim Hay: Movie night, 12,000 VND');

      const res = await agent.post(`/admin/disputes/${d.id}/refund`, { csrf: csrfOf(page, `/admin/disputes/${d.id}/refund`), amount: '5,000', note: '' });
      expect(res.status, 'the typed 5,000 VND is within the 12,000 charged').to.equal(303);
      await agent.get(location(res, ts.url));
      const row = await ts.db('disputes').where({ id: d.id }).first();
      expect(row.status).to.equal('refunded');
      expect(Number(row.refunded_amount)).to.equal(5_000);
      expect((await checkLedger(ts.db)).findings).to.deep.equal([]);
    });
  });
});
