import { expect } from 'chai';
import * as client from 'openid-client';
import { Agent, location, runLogin } from '../helpers/agent.ts';
import { birthdateForAge } from '../helpers/applicant.ts';
import { authRequest, issueTestCard, registerTestSite, siteClient, type TestCard, type TestSite } from '../helpers/fixtures.ts';
import { startCardManager, type TestServer } from '../helpers/server.ts';

/**
 * A member site that asks with prompt=none gets no page shown to the holder: the provider answers access_denied
 * at once. Its error_description starts with the same reason code as after a refusal page, so sites can branch on it.
 */
describe('refusals answered without a page (prompt=none)', () => {
  let ts: TestServer;
  let open: { site: TestSite; config: client.Configuration };
  let adultOnly: { site: TestSite; config: client.Configuration };

  before(async () => {
    ts = await startCardManager();
    const site = await registerTestSite(ts);
    const rated = await registerTestSite(ts, { contentRating: 19 });
    open = { site, config: await siteClient(ts, site) };
    adultOnly = { site: rated, config: await siteClient(ts, rated) };
  });
  after(() => ts.stop());

  /** A browser signed in with `card` at the unrated site. */
  async function signedIn(card: TestCard): Promise<Agent> {
    const agent = new Agent(ts.url);
    expect((await runLogin(agent, (await authRequest(open.config, open.site)).url, card)).kind).to.equal('redirect');
    return agent;
  }

  async function silently(agent: Agent, at: { site: TestSite; config: client.Configuration }) {
    const res = await agent.get((await authRequest(at.config, at.site, { prompt: 'none', scope: 'openid' })).url);
    expect(res.status).to.equal(303);
    const back = location(res, ts.url);
    expect(back.origin + back.pathname).to.equal(at.site.redirectUri);
    expect(back.searchParams.get('code')).to.equal(null);
    return { error: back.searchParams.get('error'), description: back.searchParams.get('error_description') ?? '' };
  }

  it('starts with under_age for a minor at a 19+ site', async () => {
    const agent = await signedIn(await issueTestCard(ts, birthdateForAge(17)));
    const answer = await silently(agent, adultOnly);
    expect(answer.error).to.equal('access_denied');
    expect(answer.description).to.match(/^under_age: /);
  });

  it("starts with spending_control for a site the holder blocked, or adult content they turned off", async () => {
    const blocker = await issueTestCard(ts, birthdateForAge(30));
    const agent = await signedIn(blocker);
    await ts.db('accounts').where({ id: blocker.accountId }).update({ blocked_sites: JSON.stringify([open.site.clientId]) });
    const blocked = await silently(agent, open);
    expect(blocked.error).to.equal('access_denied');
    expect(blocked.description).to.match(/^spending_control: /);

    const careful = await issueTestCard(ts, birthdateForAge(30));
    const other = await signedIn(careful);
    await ts.db('accounts').where({ id: careful.accountId }).update({ adult_content_off: true });
    expect((await silently(other, adultOnly)).description).to.match(/^spending_control: /);
  });
});
