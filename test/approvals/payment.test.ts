import { expect } from 'chai';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import * as client from 'openid-client';
import { approve } from '../../src/approvals/approve.ts';
import { ApprovalRefusedError } from '../../src/approvals/errors.ts';
import { listAudit } from '../../src/db/audit-log.ts';
import { Agent, csrfFrom, interactionPathFrom, runLogin, startInteraction, type FlowResult } from '../helpers/agent.ts';
import { birthdateForAge } from '../helpers/applicant.ts';
import { authRequest, issueTestCard, payRequest, registerTestSite, siteClient, type TestCard, type TestSite } from '../helpers/fixtures.ts';
import { unescapeHtml } from '../helpers/html.ts';
import { startCardManager, type TestServer } from '../helpers/server.ts';

/** The text of the page's h1. */
function heading(html: string): string | undefined {
  const m = /<h1[^>]*>([^<]*)<\/h1>/.exec(html);
  return m ? unescapeHtml(m[1]!).trim() : undefined;
}


describe('payments with rich authorization requests', () => {
  let ts: TestServer;
  let site: TestSite;
  let config: client.Configuration;
  let adult: TestCard;

  async function cardWithLimit(age: number, limit: number): Promise<TestCard> {
    const card = await issueTestCard(ts, birthdateForAge(age));
    await ts.db('accounts').where({ id: card.accountId }).update({ credit_limit: limit });
    return card;
  }

  async function pay(card: TestCard, amount: number | string, extra: Record<string, unknown> = {}, s = site, cfg = config) {
    const req = await payRequest(cfg, s, [{ type: 'payment', amount, currency: 'KRW', description: 'Episode 12', ...extra }]);
    const result = await runLogin(new Agent(ts.url), req.url, card);
    return { req, result };
  }

  async function tokensFrom(req: { verifier: string; state: string }, result: FlowResult, cfg = config) {
    if (result.kind !== 'redirect') throw new Error(`expected a redirect, got page ${result.status}`);
    return client.authorizationCodeGrant(cfg, result.url, { pkceCodeVerifier: req.verifier, expectedState: req.state });
  }

  before(async () => {
    ts = await startCardManager();
    site = await registerTestSite(ts, { maxAmount: 50_000 });
    config = await siteClient(ts, site);
    adult = await cardWithLimit(30, 100_000);
  });
  after(() => ts.stop());

  it('approves a payment pushed through PAR and puts the approval number, details, age and credit claims in the JWT', async () => {
    const { req, result } = await pay(adult, '1500', { content_ref: 'ep-12' });
    const tokens = await tokensFrom(req, result);
    const { payload } = await jwtVerify(tokens.access_token, createRemoteJWKSet(new URL(`${ts.url}/jwks`)), {
      issuer: ts.url,
      audience: site.resource,
      typ: 'at+jwt',
    });
    expect(payload.approval_no).to.match(/^\d{4}-\d{4}$/);
    // The approval is spent once: no refresh token to mint more tokens carrying it (plain logins get one).
    expect(tokens.refresh_token).to.equal(undefined);
    const details = payload.authorization_details as Array<Record<string, unknown>>;
    expect(details).to.have.length(1);
    expect(details[0]).to.include({ type: 'payment', amount: 1500, currency: 'KRW', description: 'Episode 12', approval_no: payload.approval_no });
    // The credit standing, never the available credit (an exact figure would link the holder across sites).
    expect(payload.credit).to.deep.equal({ currency: 'KRW', standing: 'good', approved_amount: 1500 });
    const row = await ts.db('approvals').where({ approval_no: payload.approval_no }).first();
    expect(row).to.include({ status: 'approved', client_id: site.clientId, account_id: adult.accountId });
    expect(Number(row.amount)).to.equal(1500);
    const acct = await ts.db('accounts').where({ id: adult.accountId }).first();
    expect(Number(acct.held_amount)).to.be.at.least(1500);
  });

  it('sends access_denied to the member site when the holder denies, and records nothing', async () => {
    const before = await ts.db('approvals').where({ account_id: adult.accountId }).count({ n: '*' }).first();
    const req = await payRequest(config, site, [{ type: 'payment', amount: 700, currency: 'KRW', description: 'Denied item' }]);
    const result = await runLogin(new Agent(ts.url), req.url, adult, { deny: true });
    if (result.kind !== 'redirect') throw new Error('no redirect');
    // The deny button is on the approval page, after login.
    expect(result.url.searchParams.get('error')).to.equal('access_denied');
    expect(result.url.searchParams.get('error_description')).to.equal('declined: the card holder declined the payment.');
    const after = await ts.db('approvals').where({ account_id: adult.accountId }).count({ n: '*' }).first();
    expect(Number(after!.n)).to.equal(Number(before!.n));
  });

  it('asks for the password for every payment, even inside a signed-in session', async () => {
    const agent = new Agent(ts.url);
    const first = await payRequest(config, site, [{ type: 'payment', amount: 100, currency: 'KRW', description: 'One' }]);
    expect((await runLogin(agent, first.url, adult)).kind).to.equal('redirect');
    const second = await payRequest(config, site, [{ type: 'payment', amount: 100, currency: 'KRW', description: 'Two' }]);
    expect((await startInteraction(agent, second.url)).html).to.include('name="card_number"');
  });

  it("says on a payment's login page what is being paid: the site, the amount and what for, also inside a signed-in session", async () => {
    const siteName = (await ts.db('member_sites').where({ client_id: site.clientId }).first()).name as string;
    const agent = new Agent(ts.url);
    const first = await payRequest(config, site, [{ type: 'payment', amount: 12_500, currency: 'KRW', description: 'Season <pass>', rating: '15' }]);
    const fresh = (await startInteraction(agent, first.url)).html;
    expect(heading(fresh)).to.equal(`Pay ${siteName} with your cyber card`);
    expect(fresh).to.include(`${siteName} is asking you to log in and approve this payment.`);
    expect(fresh).to.include('<dd id="amount"><strong>12,500 KRW</strong></dd>').and.include('<dd id="description">Season &lt;pass&gt;</dd>');
    expect(fresh).to.include('<dd id="rating">15+</dd>').and.include('<title>Pay with cyber card</title>');
    expect((await runLogin(agent, first.url, adult)).kind).to.equal('redirect');

    // Signed in now: the next payment asks for the password again, and says why.
    const second = await payRequest(config, site, [{ type: 'payment', amount: 700, currency: 'KRW', description: 'Episode 13' }]);
    const { html } = await startInteraction(agent, second.url);
    expect(html).to.include('name="card_number"').and.include('name="password"');
    expect(heading(html)).to.equal(`Pay ${siteName} with your cyber card`);
    expect(html).to.include('You are signed in, but every payment needs your card number and password again.');
    expect(html).to.include('<dd id="amount"><strong>700 KRW</strong></dd>').and.include('<dd id="description">Episode 13</dd>');
    expect(html).to.not.include('id="rating"').and.not.include('id="available"');
    // A wrong password shows the form again, the payment still on it.
    const { path, csrf } = await startInteraction(agent, second.url);
    const wrong = await agent.post(`${path}/login`, { csrf, card_number: adult.number, password: 'not the password' });
    expect(wrong.status).to.equal(401);
    expect(await wrong.text()).to.include('<dd id="description">Episode 13</dd>');

    // A plain login says nothing of a payment.
    const plain = (await startInteraction(new Agent(ts.url), (await authRequest(config, site)).url)).html;
    expect(heading(plain)).to.equal('Log in with your cyber card');
    expect(plain).to.not.include('id="amount"');
  });

  it('refuses a 17-year-old at a 19+ site with a clear page, audits it, and sends access_denied', async () => {
    const adultSite = await registerTestSite(ts, { contentRating: 19 });
    const cfg = await siteClient(ts, adultSite);
    const minor = await cardWithLimit(17, 10_000);
    const req = await payRequest(cfg, adultSite, [{ type: 'payment', amount: 100, currency: 'KRW', description: 'Adult film' }]);
    const agent = new Agent(ts.url);
    const page = await runLogin(agent, req.url, minor);
    expect(page.kind).to.equal('page');
    if (page.kind !== 'page') return;
    expect(page.status).to.equal(403);
    expect(page.html).to.include('This content is for 19 and over');
    const uid = /\/interaction\/([^/]+)\/abort/.exec(page.html)![1]!;
    const csrf = /name="csrf" value="([^"]+)"/.exec(page.html)![1]!;
    // Trying to force consent instead is refused: the age gate is the only prompt that can be answered.
    const forced = await agent.post(`/interaction/${uid}/confirm`, { csrf });
    expect(forced.status).to.equal(400);
    // The abort is answered with the provider's resume of it: the redirect to the site.
    const back = await agent.post(`/interaction/${uid}/abort`, { csrf });
    const toSite = new URL(back.headers.get('location')!);
    expect(toSite.searchParams.get('error')).to.equal('access_denied');
    expect(toSite.searchParams.get('code')).to.equal(null);
    const audit = await listAudit(ts.db, 'account', minor.accountId);
    // Once: the login page's look ahead at the policy audits nothing, the policy's own check does.
    expect(audit.filter((a) => a.action === 'access.refused_under_age')).to.have.length(1);
    expect(await ts.db('approvals').where({ account_id: minor.accountId }).first()).to.equal(undefined);
  });

  it('answers the login form with the approval page, and shows it again on reload, of the page or of the post', async () => {
    const count = async () => Number((await ts.db('approvals').where({ account_id: adult.accountId }).count({ n: '*' }).first())!.n);
    const before = await count();
    const req = await payRequest(config, site, [{ type: 'payment', amount: 2300, currency: 'KRW', description: 'Season pass' }]);
    const agent = new Agent(ts.url);
    const { path: loginPath, csrf: loginCsrf } = await startInteraction(agent, req.url);
    const answered = await agent.post(`${loginPath}/login`, { csrf: loginCsrf, card_number: adult.number, password: adult.password });
    expect(answered.status).to.equal(200);
    const approvePage = await answered.text();
    expect(approvePage).to.include('Season pass').and.include(`${loginPath}/confirm"`).and.not.include('name="card_number"');
    const reloaded = await (await agent.get(loginPath)).text();
    expect(reloaded).to.include(`${loginPath}/confirm"`).and.not.include('name="card_number"');
    // The browser's reload of the login post: the approval page again, and nothing approved or checked twice.
    const again = await agent.post(`${loginPath}/login`, { csrf: loginCsrf, card_number: adult.number, password: 'not even the password' });
    expect(again.status).to.equal(200);
    expect(await again.text()).to.include(`${loginPath}/confirm"`).and.include('Season pass');
    expect(await count()).to.equal(before);

    const approved = await agent.post(`${loginPath}/confirm`, { csrf: csrfFrom(approvePage) });
    expect(approved.status).to.equal(303);
    const tokens = await tokensFrom(req, { kind: 'redirect', url: new URL(approved.headers.get('location')!) });
    expect(JSON.parse(Buffer.from(tokens.access_token.split('.')[1]!, 'base64url').toString())).to.have.property('approval_no');
    expect(await count()).to.equal(before + 1);
  });

  it('answers the authorization request with the login page itself; a reload starts a fresh sign-in that works too', async () => {
    const req = await payRequest(config, site, [{ type: 'payment', amount: 300, currency: 'KRW', description: 'Reloaded' }]);
    const agent = new Agent(ts.url);
    const first = await agent.get(req.url);
    expect(first.status).to.equal(200);
    expect(first.headers.get('location')).to.equal(null);
    expect(first.headers.get('cache-control')).to.equal('no-store');
    const firstHtml = await first.text();
    expect(firstHtml).to.include('name="card_number"');
    const reload = await startInteraction(agent, req.url);
    expect(reload.path).to.not.equal(interactionPathFrom(firstHtml));
    const answered = await agent.post(`${reload.path}/login`, { csrf: reload.csrf, card_number: adult.number, password: adult.password });
    expect(await answered.text()).to.include('Reloaded').and.include(`${reload.path}/confirm"`);
  });

  it('approves one authorization request once: the same payment URL again (the Back button) is refused, nothing held', async () => {
    const count = async () => Number((await ts.db('approvals').where({ account_id: adult.accountId }).count({ n: '*' }).first())!.n);
    const held = async () => Number((await ts.db('accounts').where({ id: adult.accountId }).first())!.held_amount);
    // Sent in the query string, not through PAR: the URL itself can be opened again.
    const verifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: site.redirectUri,
      scope: 'openid',
      resource: site.resource,
      authorization_details: JSON.stringify([{ type: 'payment', amount: 700, currency: 'KRW', description: 'Once only' }]),
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
    });
    const [approvalsBefore, heldBefore] = [await count(), await held()];
    const agent = new Agent(ts.url);
    const first = await runLogin(agent, url, adult);
    expect((await tokensFrom({ verifier, state }, first)).access_token).to.be.a('string');
    expect(await count()).to.equal(approvalsBefore + 1);
    expect(await held()).to.equal(heldBefore + 700);
    for (const again of [agent, new Agent(ts.url)]) {
      const result = await runLogin(again, url, adult);
      expect(result.kind).to.equal('page');
      if (result.kind === 'page') {
        expect(result.status).to.equal(409);
        expect(result.html).to.include('This payment was already approved');
      }
    }
    expect(await count()).to.equal(approvalsBefore + 1);
    expect(await held()).to.equal(heldBefore + 700);
  });

  it('never gives a later plain login in the same session a token carrying the payment\'s approval', async () => {
    const agent = new Agent(ts.url);
    const paid = await payRequest(config, site, [{ type: 'payment', amount: 200, currency: 'KRW', description: 'Once' }]);
    const payment = await tokensFrom(paid, await runLogin(agent, paid.url, adult));
    expect(payment.refresh_token).to.equal(undefined);
    // The same browser signs in plainly afterwards: a grant of its own, with a refresh token and no approval.
    const login = await authRequest(config, site, { resource: site.resource });
    const result = await runLogin(agent, login.url, adult);
    if (result.kind !== 'redirect') throw new Error(`login ended on a ${result.status} page`);
    const tokens = await client.authorizationCodeGrant(config, result.url, {
      pkceCodeVerifier: login.verifier,
      expectedState: login.state,
      expectedNonce: login.nonce,
    });
    const claims = JSON.parse(Buffer.from(tokens.access_token.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;
    expect(claims).to.not.have.property('approval_no');
    expect(claims).to.not.have.property('authorization_details');
    expect(tokens.refresh_token).to.be.a('string');
  });

  it('decides the age gate and the holder\'s controls again as the payment is approved, under the account lock', async () => {
    const adultSite = await registerTestSite(ts, { contentRating: 19 });
    const cfg = await siteClient(ts, adultSite);
    const refusals: Array<[Record<string, unknown>, string]> = [
      [{ birthdate: birthdateForAge(17) }, 'is rated 19+. Your cyber card cannot be used to enter it.'],
      [{ adult_content_off: true }, 'You turned adult content off'],
      [{ blocked_sites: JSON.stringify([adultSite.clientId]) }, 'You have blocked'],
    ];
    for (const [change, words] of refusals) {
      const holder = await cardWithLimit(30, 10_000);
      const req = await payRequest(cfg, adultSite, [{ type: 'payment', amount: 900, currency: 'KRW', description: 'Late film' }]);
      const agent = new Agent(ts.url);
      const { path, csrf } = await startInteraction(agent, req.url);
      const approvePage = await (await agent.post(`${path}/login`, { csrf, card_number: holder.number, password: holder.password })).text();
      expect(approvePage).to.include(`${path}/confirm"`);
      // While the approval page is open: a birthdate corrected by the operator, adult content turned off, or the site blocked.
      await ts.db('accounts').where({ id: holder.accountId }).update(change);
      const res = await agent.post(`${path}/confirm`, { csrf: csrfFrom(approvePage) });
      expect(res.status, JSON.stringify(change)).to.equal(403);
      const html = await res.text();
      // The site is rated 19+ itself: its own rating is the one that refuses.
      expect(unescapeHtml(html)).to.include(words);
      const back = /href="([^"]+)"/.exec(html.slice(html.indexOf('<main')))?.[1];
      expect(back).to.be.a('string');
      expect(await ts.db('approvals').where({ account_id: holder.accountId }).first()).to.equal(undefined);
      expect(Number((await ts.db('accounts').where({ id: holder.accountId }).first()).held_amount)).to.equal(0);
    }
  });

  it('charges the card that logs in on the approval, not the one the browser was signed in with', async () => {
    const agent = new Agent(ts.url);
    const login = await authRequest(config, site, { resource: site.resource });
    const signedIn = await runLogin(agent, login.url, adult);
    if (signedIn.kind !== 'redirect') throw new Error(`login ended on a ${signedIn.status} page`);
    const asAdult = await client.authorizationCodeGrant(config, signedIn.url, { pkceCodeVerifier: login.verifier, expectedState: login.state, expectedNonce: login.nonce });
    const other = await cardWithLimit(40, 10_000);
    const paid = await payRequest(config, site, [{ type: 'payment', amount: 250, currency: 'KRW', description: 'Shared browser' }]);
    // A real browser submits the provider's form that ends the first holder's session; runLogin does too.
    const flow = await runLogin(agent, paid.url, other);
    const tokens = await tokensFrom(paid, flow);
    const sub = (t: string) => (JSON.parse(Buffer.from(t.split('.')[1]!, 'base64url').toString()) as { sub: string }).sub;
    expect(sub(tokens.access_token)).to.not.equal(sub(asAdult.access_token));
    const approvalNo = (JSON.parse(Buffer.from(tokens.access_token.split('.')[1]!, 'base64url').toString()) as { approval_no: string }).approval_no;
    expect(await ts.db('approvals').where({ approval_no: approvalNo }).first()).to.include({ account_id: other.accountId });
  });

  it('still asks for the approval when the browser skips from the login straight back to the provider', async () => {
    const count = async () => Number((await ts.db('approvals').where({ account_id: adult.accountId }).count({ n: '*' }).first())!.n);
    const before = await count();
    const req = await payRequest(config, site, [{ type: 'payment', amount: 400, currency: 'KRW', description: 'Skipped' }]);
    const agent = new Agent(ts.url);
    const { path: loginPath, csrf } = await startInteraction(agent, req.url);
    expect((await agent.post(`${loginPath}/login`, { csrf, card_number: adult.number, password: adult.password })).status).to.equal(200);
    // The provider's resume URL for this interaction, typed in instead of approving.
    const resumed = await agent.get(loginPath.replace('/interaction/', '/auth/'));
    expect(resumed.status).to.equal(303);
    const next = new URL(resumed.headers.get('location')!, ts.url);
    expect(next.origin).to.equal(new URL(ts.url).origin);
    expect(next.pathname).to.match(/^\/interaction\//).and.not.equal(loginPath);
    expect(await (await agent.get(next)).text()).to.include('Skipped').and.include('/confirm"');
    expect(await count()).to.equal(before);
  });

  it('refuses a 17-year-old at a 15+ site asking for 19+ content, and lets an adult in', async () => {
    const teenSite = await registerTestSite(ts, { contentRating: 15 });
    const cfg = await siteClient(ts, teenSite);
    const minor = await cardWithLimit(17, 10_000);
    const blocked = await pay(minor, 100, { rating: '19' }, teenSite, cfg);
    expect(blocked.result.kind).to.equal('page');
    if (blocked.result.kind === 'page') expect(blocked.result.html).to.include('This content is for 19 and over');
    const allowed = await pay(minor, 100, { rating: '15' }, teenSite, cfg);
    const minorTokens = await tokensFrom(allowed.req, allowed.result, cfg);
    const minorClaims = JSON.parse(Buffer.from(minorTokens.access_token.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;
    expect(minorClaims.age_over_15).to.equal(true);
    const adultPay = await pay(adult, 100, { rating: '19' }, teenSite, cfg);
    const tokens = await tokensFrom(adultPay.req, adultPay.result, cfg);
    const claims = JSON.parse(Buffer.from(tokens.access_token.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;
    expect(claims.age_over_19).to.equal(true);
    expect(claims).to.not.have.property('birthdate');
  });

  it('refuses a payment above the available credit with its own message and access_denied', async () => {
    const poor = await cardWithLimit(30, 1000);
    // The approval page says so before the click.
    const first = await payRequest(config, site, [{ type: 'payment', amount: 5000, currency: 'KRW', description: 'Too dear' }]);
    const viewer = new Agent(ts.url);
    const login = await startInteraction(viewer, first.url);
    const page = await (await viewer.post(`${login.path}/login`, { csrf: login.csrf, card_number: poor.number, password: poor.password })).text();
    expect(page).to.include('id="over-limit"');
    const affordable = await payRequest(config, site, [{ type: 'payment', amount: 500, currency: 'KRW', description: 'Cheap' }]);
    const viewer2 = new Agent(ts.url);
    const login2 = await startInteraction(viewer2, affordable.url);
    expect(await (await viewer2.post(`${login2.path}/login`, { csrf: login2.csrf, card_number: poor.number, password: poor.password })).text()).to.not.include('id="over-limit"');

    const req = await payRequest(config, site, [{ type: 'payment', amount: 5000, currency: 'KRW', description: 'Too dear' }]);
    const agent = new Agent(ts.url);
    const result = await runLogin(agent, req.url, poor);
    expect(result.kind).to.equal('page');
    if (result.kind !== 'page') return;
    expect(result.status).to.equal(403);
    expect(result.html).to.include('more than your available credit');
    const link = /href="([^"]+)" id="return"/.exec(result.html)![1]!.replace(/&amp;/g, '&');
    const back = await agent.get(new URL(link, ts.url));
    const toSite = new URL(back.headers.get('location')!);
    expect(toSite.searchParams.get('error')).to.equal('access_denied');
    expect(toSite.searchParams.get('error_description')).to.match(/^over_limit: /);
    expect(await ts.db('approvals').where({ account_id: poor.accountId }).first()).to.equal(undefined);
  });

  it("counts no expired hold against the card on the approval page, and approves the payment it leaves room for", async () => {
    const card = await cardWithLimit(30, 1000);
    const lapsed = await approve(
      { db: ts.db, policy: { currency: 'KRW', holdSeconds: 3600 } },
      { accountId: card.accountId, cardId: card.cardId, clientId: site.clientId, amount: 800, currency: 'KRW', description: 'lapsed', contentRef: null, rating: 0 },
    );
    await ts.db('approvals').where({ id: lapsed.id }).update({ hold_expires_at: ts.db.raw("now() - interval '1 second'") });
    const first = await payRequest(config, site, [{ type: 'payment', amount: 500, currency: 'KRW', description: 'Fits' }]);
    const viewer = new Agent(ts.url);
    const login = await startInteraction(viewer, first.url);
    const page = await (await viewer.post(`${login.path}/login`, { csrf: login.csrf, card_number: card.number, password: card.password })).text();
    expect(page).to.not.include('id="over-limit"');
    expect(unescapeHtml(page)).to.include('1,000 KRW');
    const { result } = await pay(card, 500);
    expect(result.kind, 'approved').to.equal('redirect');
    expect((await ts.db('approvals').where({ id: lapsed.id }).first()).status).to.equal('expired');
  });

  it('rejects bad payment details with invalid_authorization_details at PAR', async () => {
    const cases: Array<Record<string, unknown>> = [
      { amount: -100 },
      { amount: 0 },
      { amount: 12.5 },
      { amount: '12.50' },
      { amount: '1e3' },
      { amount: 60_000 },
      { currency: 'USD' },
      { description: '' },
      // Control characters, C1 ones too (U+009B is a terminal's CSI: the operator's CLI prints descriptions), and
      // U+FFFD, what bytes that were not UTF-8 became: as every other text the card manager shows or prints.
      { description: 'Episode\u0085 1' },
      { description: 'Episode \u009b31m1' },
      { description: 'Episode \ufffd' },
      { content_ref: 'episode\u001b[2J' },
      { content_ref: 'episode\u009b2J' },
      // Bidirectional overrides and isolates: shown beside the amount, they would reorder what the holder reads.
      { description: 'Episode 1 \u202e000,01 WRK' },
      { description: 'Episode \u2066x\u2069' },
      { rating: '21' },
      { surprise: true },
    ];
    for (const c of cases) {
      const detail = { type: 'payment', amount: 100, currency: 'KRW', description: 'x', ...c };
      let err: unknown;
      try {
        await payRequest(config, site, [detail]);
      } catch (e) {
        err = e;
      }
      expect((err as client.ResponseBodyError)?.error, JSON.stringify(c)).to.equal('invalid_authorization_details');
    }
    // Two payments in one request: the holder would approve one amount and the site might deliver both.
    const two = [100, 40_000].map((amount) => ({ type: 'payment', amount, currency: 'KRW', description: `Item ${amount}` }));
    const refused = await payRequest(config, site, two).catch((e: unknown) => e);
    expect((refused as client.ResponseBodyError).error).to.equal('invalid_authorization_details');
    expect((refused as client.ResponseBodyError).error_description).to.equal('a request carries one payment at most');
  });

  it('approves a payment whose rating is a label, "ALL" as well as "19"', async () => {
    for (const rating of ['ALL', '19', 0]) {
      const { req, result } = await pay(adult, 100, { rating });
      const tokens = await tokensFrom(req, result);
      const claims = JSON.parse(Buffer.from(tokens.access_token.split('.')[1]!, 'base64url').toString()) as { approval_no: string };
      const row = await ts.db('approvals').where({ approval_no: claims.approval_no }).first();
      expect(row.rating, String(rating)).to.equal(rating === '19' ? 19 : 0);
    }
  });

  it("refuses in approve() itself a payment to a site the holder blocked, whatever checks its caller passes", async () => {
    const card = await cardWithLimit(30, 10_000);
    await ts.db('accounts').where({ id: card.accountId }).update({ blocked_sites: JSON.stringify([site.clientId]) });
    const deps = { db: ts.db, policy: { currency: 'KRW', holdSeconds: 3600 } };
    const refused = await approve(deps, { accountId: card.accountId, cardId: card.cardId, clientId: site.clientId, amount: 100, currency: 'KRW', description: 'blocked', contentRef: null, rating: 0 }).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(refused).to.be.instanceOf(ApprovalRefusedError);
    expect(refused).to.include({ refusal: 'spending_control' });
    expect(await ts.db('approvals').where({ account_id: card.accountId })).to.have.length(0);
  });

  it('approves exactly as many of 50 concurrent payments as the credit allows, never going negative', async () => {
    const card = await cardWithLimit(30, 10_000);
    const deps = { db: ts.db, policy: { currency: 'KRW', holdSeconds: 3600 } };
    const results = await Promise.allSettled(
      Array.from({ length: 50 }, () =>
        approve(deps, {
          accountId: card.accountId,
          cardId: card.cardId,
          clientId: site.clientId,
          amount: 1000,
          currency: 'KRW',
          description: 'race',
          contentRef: null,
          rating: 0,
        }),
      ),
    );
    const ok = results.filter((r) => r.status === 'fulfilled');
    const refused = results.filter((r) => r.status === 'rejected');
    expect(ok).to.have.length(10);
    for (const r of refused) expect((r as PromiseRejectedResult).reason).to.be.instanceOf(ApprovalRefusedError);
    const acct = await ts.db('accounts').where({ id: card.accountId }).first();
    expect(Number(acct.held_amount)).to.equal(10_000);
    expect(Number(acct.credit_limit) - Number(acct.posted_balance) - Number(acct.held_amount)).to.equal(0);
  });
});
