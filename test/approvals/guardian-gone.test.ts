import { expect } from 'chai';
import { approve, GUARDIAN_GONE } from '../../src/approvals/approve.ts';
import { ApprovalRefusedError } from '../../src/approvals/errors.ts';
import { closeCard } from '../../src/cards/close.ts';
import { reportLost } from '../../src/cards/report-lost.ts';
import { birthdateForAge } from '../helpers/applicant.ts';
import { registerTestSite, type TestCard, type TestSite } from '../helpers/fixtures.ts';
import type { TestServer } from '../helpers/server.ts';
import { approvalsOf, cardWithLimit, startLedgerServer } from '../ledger/fixtures.ts';

/** A minor's guardian vouches for them and answers for their debts: with no open card left, no one does. */
describe("a minor whose guardian's card is closed", () => {
  let ts: TestServer;
  let site: TestSite;

  before(async () => {
    ts = await startLedgerServer();
    site = await registerTestSite(ts);
  });
  after(() => ts.stop());

  async function pay(card: TestCard): Promise<string> {
    try {
      await approve(approvalsOf(ts), { accountId: card.accountId, cardId: card.cardId, clientId: site.clientId, amount: 100, currency: 'KRW', description: 'x', contentRef: null, rating: 0 });
      return 'approved';
    } catch (err) {
      if (err instanceof ApprovalRefusedError) return `${err.refusal}: ${err.message}`;
      throw err;
    }
  }

  it('pays while the guardian holds a card, even a lost one awaiting its reissue, and not once it is closed', async () => {
    const guardian = await cardWithLimit(ts, 100_000);
    // A real minor's birthdate: housekeeping releases grown-up wards within a minute of start (start-housekeeping.ts).
    const minor = await cardWithLimit(ts, 20_000, { guardian_account_id: guardian.accountId, birthdate: birthdateForAge(15) });
    expect(await pay(minor)).to.equal('approved');
    await reportLost(ts.db, { cardId: guardian.cardId, actor: 'test', reason: 'lost', proof: 'operator' });
    expect(await pay(minor)).to.equal('approved');
    await ts.db('cards').where({ id: guardian.cardId }).update({ status: 'closed' });
    expect(await pay(minor)).to.equal(`card_inactive: ${GUARDIAN_GONE}`);
    const adult = await cardWithLimit(ts, 20_000);
    await closeCard(ts.db, { cardId: (await cardWithLimit(ts, 1)).cardId, actor: 'test', reason: 'unrelated' });
    expect(await pay(adult)).to.equal('approved');
  });
});
