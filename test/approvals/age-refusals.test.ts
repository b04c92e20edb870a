import { expect } from 'chai';
import * as client from 'openid-client';
import { setControls } from '../../src/approvals/set-spending-controls.ts';
import { listAudit } from '../../src/db/audit-log.ts';
import { Agent, csrfFrom, location, runLogin, startInteraction, type FlowResult } from '../helpers/agent.ts';
import { birthdateForAge } from '../helpers/applicant.ts';
import { issueTestCard, payRequest, registerTestSite, siteClient, type TestCard, type TestSite } from '../helpers/fixtures.ts';
import { alertText, unescapeHtml } from '../helpers/html.ts';
import { startCardManager, type TestServer } from '../helpers/server.ts';

const SITE_RATED = "under_age: the card holder is under the age this content requires (the member site's own content rating).";
const REQUEST_RATED =
  "under_age: the card holder is under the age this content requires (the rating this request asked for, above the member site's own).";

/**
 * A request may raise the member site's rating (authorization_details `rating`). A refusal says whose rating kept the
 * holder out: the site's own ("the site is rated 19+"), or only this content's ("this content is for 19 and over"),
 * to the holder on the page and to the member site in its error_description.
 */
describe('age refusals say whose rating applied', () => {
  let ts: TestServer;
  /** Rated 15+: a 17-year-old may enter it and buy most of it. */
  let teen: { site: TestSite; config: client.Configuration; name: string };
  /** Rated 19+ itself. */
  let adult: { site: TestSite; config: client.Configuration; name: string };

  async function siteWith(contentRating: number) {
    const site = await registerTestSite(ts, { contentRating });
    const name = (await ts.db('member_sites').where({ client_id: site.clientId }).first()).name as string;
    return { site, config: await siteClient(ts, site), name };
  }

  async function holder(age: number): Promise<TestCard> {
    const card = await issueTestCard(ts, birthdateForAge(age));
    await ts.db('accounts').where({ id: card.accountId }).update({ credit_limit: 100_000 });
    return card;
  }

  async function buy(card: TestCard, at: { site: TestSite; config: client.Configuration }, extra: Record<string, unknown> = {}, agent = new Agent(ts.url)) {
    const req = await payRequest(at.config, at.site, [{ type: 'payment', amount: 2500, currency: 'KRW', description: 'Late-night special', ...extra }]);
    return { agent, result: await runLogin(agent, req.url, card) };
  }

  /** The refusal page: its heading and message. */
  function refusalPage(result: FlowResult) {
    if (result.kind !== 'page') throw new Error('expected a refusal page, got a redirect');
    expect(result.status).to.equal(403);
    const heading = unescapeHtml(/<h1[^>]*>([^<]*)<\/h1>/.exec(result.html)![1]!);
    return { heading, message: alertText(result.html), html: result.html };
  }

  /** What the member site gets once the holder goes back from a page that stops before consent. */
  async function siteGets(agent: Agent, html: string): Promise<URL> {
    const link = /href="([^"]+)" id="return"/.exec(html);
    if (link) return location(await agent.get(new URL(unescapeHtml(link[1]!), ts.url)), ts.url);
    const uid = /\/interaction\/([^/]+)\/abort/.exec(html)![1]!;
    return location(await agent.post(`/interaction/${uid}/abort`, { csrf: csrfFrom(html) }), ts.url);
  }

  before(async () => {
    ts = await startCardManager();
    teen = await siteWith(15);
    adult = await siteWith(19);
  });
  after(() => ts.stop());

  it('lets in a holder turning 19 today, at the 19+ site and for 19+ content, and keeps out one turning 19 tomorrow [birthday boundary]', async function () {
    // Ages count on the calendar of billing.timeZone (lib/clock.ts ageIn): the birthday is today's date there, 19 years
    // back. A run that crosses midnight there between working out the dates and the approvals judges tomorrow's holder
    // on their birthday: once more, with the new day's dates (a real failure fails both times).
    this.retries(1);
    const { timeZone } = ts.config.billing;
    const localToday = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date());
    // Days counted on the date itself, not in 24-hour steps (a day of a daylight-saving change is 23 or 25 hours).
    const day = (offsetDays: number) => new Date(Date.parse(`${localToday}T00:00:00Z`) + offsetDays * 86_400_000).toISOString().slice(0, 10);
    const yearsBack = (date: string) => `${Number(date.slice(0, 4)) - 19}${date.slice(4)}`;
    if (day(0).endsWith('-02-29') || day(1).endsWith('-02-29')) this.skip(); // no such birthday 19 years back
    const cardBornOn = async (birthdate: string) => {
      const card = await holder(30);
      await ts.db('accounts').where({ id: card.accountId }).update({ birthdate });
      return card;
    };
    const today = await cardBornOn(yearsBack(day(0)));
    expect((await buy(today, adult)).result.kind, 'the 19+ site on the 19th birthday').to.equal('redirect');
    expect((await buy(today, teen, { rating: '19' })).result.kind, '19+ content on the 19th birthday').to.equal('redirect');

    const tomorrow = await cardBornOn(yearsBack(day(1)));
    const atSite = await buy(tomorrow, adult);
    expect((await siteGets(atSite.agent, refusalPage(atSite.result).html)).searchParams.get('error_description')).to.equal(SITE_RATED);
    const forContent = await buy(tomorrow, teen, { rating: '19' });
    expect((await siteGets(forContent.agent, refusalPage(forContent.result).html)).searchParams.get('error_description')).to.equal(REQUEST_RATED);
  });

  it("tells a 17-year-old that this content is for 19 and over, not that the site is, after buying another item there", async () => {
    const minor = await holder(17);
    expect((await buy(minor, teen, { description: 'Episode 1' })).result.kind, 'an unraised item of the 15+ site').to.equal('redirect');
    const { agent, result } = await buy(minor, teen, { rating: '19' });
    const page = refusalPage(result);
    expect(page.heading).to.equal('This content is for 19 and over');
    expect(page.message).to.equal(`This content on ${teen.name} is for 19 and over, so your cyber card cannot be used for it.`);
    expect(page.html).to.not.include('is rated');
    const back = await siteGets(agent, page.html);
    expect(back.searchParams.get('error')).to.equal('access_denied');
    expect(back.searchParams.get('error_description')).to.equal(REQUEST_RATED);
    const audit = await listAudit(ts.db, 'account', minor.accountId);
    expect(audit.filter((a) => a.action === 'access.refused_under_age').map((a) => a.details)).to.deep.equal([
      { clientId: teen.site.clientId, requiredAge: 19, siteRating: 15, ratedBy: 'request' },
    ]);
  });

  it("keeps saying the site is rated when the site's own rating refuses, even if the request raised it too", async () => {
    const minor = await holder(17);
    for (const extra of [{}, { rating: '19' }]) {
      const { agent, result } = await buy(minor, adult, extra);
      const page = refusalPage(result);
      expect(page.heading).to.equal('This content is for 19 and over');
      expect(page.message).to.equal(`${adult.name} is rated 19+. Your cyber card cannot be used to enter it.`);
      expect((await siteGets(agent, page.html)).searchParams.get('error_description')).to.equal(SITE_RATED);
    }
    // A 14-year-old at the 15+ site buying 19+ content: the site's own rating already keeps them out, and says so.
    const young = await holder(14);
    const page = refusalPage((await buy(young, teen, { rating: '19' })).result);
    expect(page.heading).to.equal('This content is for 19 and over');
    expect(page.message).to.equal(`${teen.name} is rated 15+. Your cyber card cannot be used to enter it.`);
  });

  it('says whose rating is adult when the holder turned adult content off: this content, or the site', async () => {
    const careful = await holder(30);
    await setControls(ts.db, { accountId: careful.accountId, actor: 'test', reauthenticated: true }, { maxPerApproval: null, monthlyCap: null, blockedSites: [], adultContentOff: true });
    const content = refusalPage((await buy(careful, teen, { rating: '19' })).result);
    expect(content.heading).to.equal('Stopped by your own controls');
    expect(content.message).to.equal(
      `You turned adult content off on your card, and this content on ${teen.name} is for adults only. You can change this on your card page.`,
    );
    const whole = refusalPage((await buy(careful, adult)).result);
    expect(whole.message).to.equal(`You turned adult content off on your card, and ${adult.name} is for adults only. You can change this on your card page.`);
    expect((await buy(careful, teen)).result.kind, 'content of the 15+ site that is not raised').to.equal('redirect');
  });

  it('words a refusal decided at the approval (a birthdate corrected meanwhile) the same way, and tells the site', async () => {
    const card = await holder(30);
    const agent = new Agent(ts.url);
    const req = await payRequest(teen.config, teen.site, [{ type: 'payment', amount: 2500, currency: 'KRW', description: 'Late-night special', rating: '19' }]);
    const { path, csrf } = await startInteraction(agent, req.url);
    const approvePage = await (await agent.post(`${path}/login`, { csrf, card_number: card.number, password: card.password })).text();
    expect(approvePage).to.include(`${path}/confirm"`);
    await ts.db('accounts').where({ id: card.accountId }).update({ birthdate: birthdateForAge(17) });
    const refused = await agent.post(`${path}/confirm`, { csrf: csrfFrom(approvePage) });
    const html = await refused.text();
    expect(refused.status).to.equal(403);
    expect(alertText(html)).to.equal(`This content on ${teen.name} is for 19 and over, so your cyber card cannot be used for it.`);
    expect((await siteGets(agent, html)).searchParams.get('error_description')).to.equal(REQUEST_RATED);
    expect(await ts.db('approvals').where({ account_id: card.accountId }).first()).to.equal(undefined);
  });

  it('answers a payment asked with prompt=none (no password each time) with the description of the rating that applied', async () => {
    const lax = await startCardManager({ payments: { requirePasswordEachTime: false } });
    try {
      const s = await registerTestSite(lax, { contentRating: 15 });
      const cfg = await siteClient(lax, s);
      const minor = await issueTestCard(lax, birthdateForAge(17));
      await lax.db('accounts').where({ id: minor.accountId }).update({ credit_limit: 100_000 });
      const agent = new Agent(lax.url);
      const first = await payRequest(cfg, s, [{ type: 'payment', amount: 100, currency: 'KRW', description: 'Episode 1' }]);
      expect((await runLogin(agent, first.url, minor)).kind).to.equal('redirect');
      const raised = await payRequest(cfg, s, [{ type: 'payment', amount: 100, currency: 'KRW', description: 'Late', rating: '19' }], { prompt: 'none' });
      const back = location(await agent.get(raised.url), lax.url);
      expect(back.searchParams.get('error')).to.equal('access_denied');
      expect(back.searchParams.get('error_description')).to.equal(REQUEST_RATED);
    } finally {
      await lax.stop();
    }
  });
});
