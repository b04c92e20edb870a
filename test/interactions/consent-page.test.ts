import { expect } from 'chai';
import type * as client from 'openid-client';
import { Agent, runLogin, startInteraction } from '../helpers/agent.ts';
import { authRequest, issueTestCard, registerTestSite, siteClient, type TestCard, type TestSite } from '../helpers/fixtures.ts';
import { unescapeHtml } from '../helpers/html.ts';
import { startCardManager, type TestServer } from '../helpers/server.ts';
import { upsertResourceServer } from '../../src/db/member-sites.ts';

describe('consent page', () => {
  let ts: TestServer;
  let site: TestSite;
  let card: TestCard;
  let config: client.Configuration;

  before(async () => {
    ts = await startCardManager();
    site = await registerTestSite(ts);
    // The name the operator registered the member site's API under (resource-servers add --name).
    await upsertResourceServer(ts.db, { identifier: site.resource, name: 'Shop Videos', scope: 'read', accessTokenTtl: null });
    card = await issueTestCard(ts);
    config = await siteClient(ts, site);
  });
  after(() => ts.stop());

  /** The consent page a plain login asking for the API's `read` scope shows once the holder has logged in. */
  async function consentPage(params: Record<string, string> = {}): Promise<string> {
    const agent = new Agent(ts.url);
    const req = await authRequest(config, site, { scope: 'openid read', resource: site.resource, ...params });
    const { path, csrf } = await startInteraction(agent, req.url);
    const res = await agent.post(`${path}/login`, { csrf, card_number: card.number, password: card.password });
    expect(res.status).to.equal(200);
    return unescapeHtml(await res.text());
  }

  it("names the member site's API by its registered name, not its identifier URI", async () => {
    const html = await consentPage();
    expect(html).to.contain('Access Shop Videos (read)');
    expect(html).not.to.contain(site.resource);
  });

  it('names the card signed in inside a card-manager session too, not "the card ending ••••"', async () => {
    const agent = new Agent(ts.url);
    const first = await runLogin(agent, (await authRequest(config, site)).url, card);
    expect(first.kind).to.equal('redirect');
    // Signed in already: the next request's consent page comes straight away, with no login of this interaction.
    const again = await authRequest(config, site, { scope: 'openid read', resource: site.resource });
    const { html } = await startInteraction(agent, again.url);
    expect(html).not.to.include('name="card_number"');
    expect(unescapeHtml(html)).to.include(`Signed in with the card ending ${card.number.slice(-4)}.`);
  });

  it('names it so in Korean too', async () => {
    const html = await consentPage({ ui_locales: 'ko' });
    expect(html).to.contain('Shop Videos 이용 (read)');
    expect(html).not.to.contain(site.resource);
  });
});
