import { expect } from 'chai';
import * as client from 'openid-client';
import type { Page } from 'playwright-core';
import { formatCardNumber } from '../../src/cards/card-number.ts';
import { newPage, screenshotOnFailure, useBrowser } from '../helpers/browser.ts';
import { authRequest, issueTestCard, registerTestSite, siteClient, type TestCard, type TestSite } from '../helpers/fixtures.ts';
import { startCardManager, type TestServer } from '../helpers/server.ts';

/**
 * oidc-provider answers some steps with a page whose one inline script submits its form: the form_post
 * response mode, and the sign-out of one holder before another signs in over their session. Our pages'
 * CSP allows no script; the provider adds its script's hash to a script-src directive, so there must be one.
 * In a real browser, since only a browser enforces the CSP.
 */
describe("oidc-provider's self-submitting pages in a real browser", () => {
  let ts: TestServer;
  let site: TestSite;
  let config: client.Configuration;
  let first: TestCard;
  let second: TestCard;
  const browser = useBrowser();
  let page: Page | undefined;

  before(async () => {
    ts = await startCardManager();
    site = await registerTestSite(ts);
    config = await siteClient(ts, site);
    [first, second] = [await issueTestCard(ts), await issueTestCard(ts)];
    await ts.db('accounts').whereIn('id', [first.accountId, second.accountId]).update({ credit_limit: 100_000 });
  });
  after(() => ts?.stop());

  screenshotOnFailure(() => page);
  beforeEach(async () => {
    page = await newPage(browser());
  });

  /** What reaches the member site's redirect URI (which does not exist): each request's URL and form body. */
  async function siteReceives(p: Page): Promise<Array<{ url: URL; form: URLSearchParams }>> {
    const received: Array<{ url: URL; form: URLSearchParams }> = [];
    await p.context().route(`${new URL(site.redirectUri).origin}/**`, async (route) => {
      received.push({ url: new URL(route.request().url()), form: new URLSearchParams(route.request().postData() ?? '') });
      await route.fulfill({ status: 200, contentType: 'text/plain', body: 'The member site has the answer.' });
    });
    return received;
  }

  async function logIn(p: Page, card: TestCard, button: RegExp): Promise<void> {
    await p.getByLabel('Card number').fill(formatCardNumber(card.number));
    await p.getByLabel('Password').fill(card.password);
    await p.getByRole('button', { name: 'Log in', exact: true }).click();
    await p.getByRole('button', { name: button }).click();
    await p.getByText('The member site has the answer.').waitFor();
  }

  it('posts the code to the member site with response_mode=form_post', async () => {
    const p = page!;
    const received = await siteReceives(p);
    const policies: string[] = [];
    p.on('response', (res) => {
      if (res.request().method() === 'POST' && res.url().startsWith(ts.url)) policies.push(res.headers()['content-security-policy'] ?? '');
    });
    const req = await authRequest(config, site, { response_mode: 'form_post' });
    await p.goto(req.url.href);
    await logIn(p, first, /^Allow/);
    // The consent's answer is the provider's form: its script by hash alone, not beside 'none' (ignored, with a warning).
    expect(policies.at(-1)).to.match(/script-src 'sha256-[^']+'(;|$)/);
    expect(received).to.have.length(1);
    expect(received[0]!.url.href).to.equal(site.redirectUri);
    expect(received[0]!.form.get('code')).to.be.a('string');
    expect(received[0]!.form.get('state')).to.equal(req.state);
  });

  it("signs the first holder out when a second pays in the same browser, and the payment is the second's", async () => {
    const p = page!;
    const received = await siteReceives(p);
    await p.goto((await authRequest(config, site)).url.href);
    await logIn(p, first, /^Allow/);
    const url = await client.buildAuthorizationUrlWithPAR(config, {
      redirect_uri: site.redirectUri,
      scope: 'openid',
      resource: site.resource,
      authorization_details: JSON.stringify([{ type: 'payment', amount: 500, currency: 'KRW', description: 'Shared computer' }]),
      code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()),
      code_challenge_method: 'S256',
      state: client.randomState(),
    });
    await p.goto(url.href);
    await logIn(p, second, /^Approve/);
    const last = received.at(-1)!.url;
    expect(last.searchParams.get('error_description')).to.equal(null);
    expect(last.searchParams.get('code')).to.be.a('string');
    const approval = await ts.db('approvals').where({ description: 'Shared computer' }).first();
    expect(approval).to.include({ account_id: second.accountId });
  });
});
