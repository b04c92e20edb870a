import { expect } from 'chai';
import { Agent, location, runLogin } from '../helpers/agent.ts';
import { birthdateForAge } from '../helpers/applicant.ts';
import { registerTestSite, type TestCard } from '../helpers/fixtures.ts';
import { unescapeHtml } from '../helpers/html.ts';
import type { TestServer } from '../helpers/server.ts';
import { cardWithLimit, familyOf, makeOverdue, startLedgerServer } from '../ledger/fixtures.ts';
import { startDemoSite, type RunningDemo } from './demo-server.ts';

/**
 * The demo member site reads the token's `credit.standing` (checked by the kit) and warns a holder whose card an overdue
 * statement stops before they try to buy: their own, the guardian's, or another child's the guardian answers for.
 */
describe('demo member site: the warning of an overdue statement on the account page', () => {
  let ts: TestServer;
  let demo: RunningDemo;
  before(async () => {
    ts = await startLedgerServer();
    demo = await startDemoSite(ts);
  });
  after(async () => {
    await demo?.stop();
    await ts?.stop();
  });

  async function mePage(card: TestCard): Promise<string> {
    const agent = new Agent(ts.url);
    const result = await runLogin(agent, location(await agent.get(`${demo.url}/login`), demo.url), card);
    if (result.kind !== 'redirect') throw new Error(`login ended on a ${result.status} page`);
    expect(location(await agent.get(result.url), demo.url).pathname).to.equal('/me');
    return unescapeHtml(await (await agent.get(`${demo.url}/me`)).text());
  }

  const WARNING = 'Your card has an overdue statement (or one your card answers for), so payments are refused until it is paid. Free content stays open.';

  it("warns the child whose statement is overdue and the other child the guardian answers for, not a card in good standing", async () => {
    const site = await registerTestSite(ts, { maxAmount: 50_000 });
    const family = await familyOf(ts);
    const sibling = await cardWithLimit(ts, 20_000, { guardian_account_id: family.guardian.accountId, birthdate: birthdateForAge(13) });
    const good = await cardWithLimit(ts, 20_000);
    await makeOverdue(ts, site, family);
    expect(await mePage(family.minor)).to.include(WARNING);
    expect(await mePage(sibling)).to.include(WARNING);
    expect(await mePage(good)).not.to.include(WARNING);
  });
});
