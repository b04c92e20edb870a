import { expect } from 'chai';
import * as client from 'openid-client';
import { Agent, csrfFrom, interactionPathFrom, location, runLogin, startInteraction } from '../helpers/agent.ts';
import { authRequest, issueTestCard, registerTestSite, siteClient, type TestCard, type TestSite } from '../helpers/fixtures.ts';
import { startCardManager, type TestServer } from '../helpers/server.ts';

/**
 * Blocking a card ends its sessions and tokens. A card that stops working while a session or a sign-in still
 * holds it (a race with the block, a status set by other means) must not break the flow either: the holder is
 * asked to sign in again, where a blocked card has its own page, and the member site gets no code.
 */
describe('a card that stops working while its session lives on', () => {
  let ts: TestServer;
  let site: TestSite;
  let config: client.Configuration;

  before(async () => {
    ts = await startCardManager();
    site = await registerTestSite(ts);
    config = await siteClient(ts, site);
  });
  after(() => ts.stop());

  /** The card stops working, its sessions untouched. */
  const stop = (card: TestCard) => ts.db('cards').where({ id: card.cardId }).update({ status: 'lost' });

  async function signedIn(card: TestCard): Promise<Agent> {
    const agent = new Agent(ts.url);
    expect((await runLogin(agent, (await authRequest(config, site)).url, card)).kind).to.equal('redirect');
    return agent;
  }

  it('sends prompt=none back to the site with login_required', async () => {
    const card = await issueTestCard(ts);
    const agent = await signedIn(card);
    await stop(card);
    const req = await authRequest(config, site, { prompt: 'none', scope: 'openid' });
    const res = await agent.get(req.url);
    expect(res.status).to.equal(303);
    const back = location(res, ts.url);
    expect(back.searchParams.get('error')).to.equal('login_required');
    expect(back.searchParams.get('code')).to.equal(null);
  });

  it('shows the login page to a returning holder, and the blocked card its own refusal there', async () => {
    const card = await issueTestCard(ts);
    const agent = await signedIn(card);
    await stop(card);
    const result = await runLogin(agent, (await authRequest(config, site, { scope: 'openid' })).url, card);
    expect(result.kind).to.equal('page');
    if (result.kind !== 'page') return;
    expect(result.status).to.be.within(400, 499);
    expect(result.html).to.match(/blocked|lost/i);
  });

  it('asks for the password again when the card stops between the password and the consent', async () => {
    const card = await issueTestCard(ts);
    const agent = new Agent(ts.url);
    const login = await startInteraction(agent, (await authRequest(config, site)).url);
    const consent = await agent.post(`${login.path}/login`, { csrf: login.csrf, card_number: card.number, password: card.password });
    expect(consent.status).to.equal(200);
    const html = await consent.text();
    await stop(card);
    const res = await agent.post(`${interactionPathFrom(html)!}/confirm`, { csrf: csrfFrom(html) });
    // The resume starts a new sign-in (the login prompt) and sends the browser to it; no code for the site.
    expect(res.status).to.equal(303);
    const next = location(res, ts.url);
    expect(next.origin).to.equal(ts.url);
    expect(next.pathname).to.match(/^\/interaction\//);
    const page = await agent.get(next);
    expect(page.status).to.equal(200);
    const form = await page.text();
    expect(form).to.include('name="card_number"');
    const again = await agent.post(`${interactionPathFrom(form)!}/login`, { csrf: csrfFrom(form), card_number: card.number, password: card.password });
    expect(again.status).to.be.within(400, 499);
    expect(await again.text()).to.match(/blocked|lost/i);
  });
});
