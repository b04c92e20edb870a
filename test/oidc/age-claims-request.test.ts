import { expect } from 'chai';
import { decodeJwt } from 'jose';
import * as client from 'openid-client';
import { listAudit } from '../../src/db/audit-log.ts';
import { Agent, csrfFrom, location, runLogin, startInteraction, type FlowResult } from '../helpers/agent.ts';
import { birthdateForAge } from '../helpers/applicant.ts';
import { authRequest, issueTestCard, payRequest, pushedRequest, registerTestSite, siteClient, type TestCard, type TestSite } from '../helpers/fixtures.ts';
import { alertText, unescapeHtml } from '../helpers/html.ts';
import { startCardManager, type TestServer } from '../helpers/server.ts';

const REQUEST_RATED = "under_age: the card holder is under the age this content requires (the rating this request asked for, above the member site's own).";
const AGE_19 = JSON.stringify({ id_token: { age_over_19: { essential: true } } });

/**
 * OIDC Core §5.5's claims parameter: a site, rated or not, gates a free section by asking for age_over_NN. The request
 * is then rated NN, through the same age gate as a payment's `rating`, and its tokens say age_over_NN.
 */
describe('a claims request for age_over_NN', () => {
  let ts: TestServer;
  let site: TestSite;
  let config: client.Configuration;
  let siteName: string;

  before(async () => {
    ts = await startCardManager();
    site = await registerTestSite(ts);
    config = await siteClient(ts, site);
    siteName = (await ts.db('member_sites').where({ client_id: site.clientId }).first()).name as string;
  });
  after(() => ts.stop());

  const holder = (age: number): Promise<TestCard> => issueTestCard(ts, birthdateForAge(age));

  /** The refusal page: its heading and message. */
  function refusalPage(result: FlowResult) {
    if (result.kind !== 'page') throw new Error(`expected a refusal page, got a redirect to ${result.url.href}`);
    expect(result.status).to.equal(403);
    return { heading: unescapeHtml(/<h1[^>]*>([^<]*)<\/h1>/.exec(result.html)![1]!), message: alertText(result.html), html: result.html };
  }

  /** What the member site gets once the holder goes back from the refusal page. */
  async function siteGets(agent: Agent, html: string): Promise<URL> {
    const link = /href="([^"]+)" id="return"/.exec(html);
    if (link) return location(await agent.get(new URL(unescapeHtml(link[1]!), ts.url)), ts.url);
    const uid = /\/interaction\/([^/]+)\/abort/.exec(html)![1]!;
    return location(await agent.post(`/interaction/${uid}/abort`, { csrf: csrfFrom(html) }), ts.url);
  }

  async function expectRefusedAt19(card: TestCard, agent: Agent, result: FlowResult): Promise<void> {
    const page = refusalPage(result);
    expect(page.heading).to.equal('This content is for 19 and over');
    expect(page.message).to.equal(`This content on ${siteName} is for 19 and over, so your cyber card cannot be used for it.`);
    const back = await siteGets(agent, page.html);
    expect(back.searchParams.get('error')).to.equal('access_denied');
    expect(back.searchParams.get('error_description')).to.equal(REQUEST_RATED);
    expect(back.searchParams.get('code')).to.equal(null);
    const audit = await listAudit(ts.db, 'account', card.accountId);
    expect(audit.filter((a) => a.action === 'access.refused_under_age').map((a) => a.details)).to.deep.include({
      clientId: site.clientId, requiredAge: 19, siteRating: 0, ratedBy: 'request',
    });
  }

  /** The PAR a site sends for a free gated section: openid, its API, and the claims request. */
  const parRequest = (claims: string, extra: Record<string, string> = {}) => pushedRequest(config, site, { claims, ...extra });

  async function refusedAtPar(claims: string, extra: Record<string, string> = {}): Promise<client.ResponseBodyError> {
    const err = await parRequest(claims, extra).then(() => undefined, (e: unknown) => e);
    expect(err, 'the pushed request was refused').to.be.instanceOf(client.ResponseBodyError);
    return err as client.ResponseBodyError;
  }

  it('keeps a 17-year-old out of an unrated site asking age_over_19: the 19+ page, access_denied, an audit row, no code', async () => {
    const minor = await holder(17);
    const agent = new Agent(ts.url);
    const req = await authRequest(config, site, { claims: AGE_19 });
    await expectRefusedAt19(minor, agent, await runLogin(agent, req.url, minor));
    expect(await ts.db('approvals').where({ account_id: minor.accountId }).first()).to.equal(undefined);
  });

  it('keeps them out through PAR, and inside their signed-in session with an existing grant (prompt=none too)', async () => {
    const minor = await holder(17);
    const agent = new Agent(ts.url);
    const plain = await authRequest(config, site);
    expect((await runLogin(agent, plain.url, minor)).kind, 'an unrated site without the claims request lets them in').to.equal('redirect');

    const pushed = await parRequest(AGE_19);
    await expectRefusedAt19(minor, agent, await runLogin(agent, pushed.url, minor));

    const silent = await authRequest(config, site, { claims: AGE_19, prompt: 'none' });
    const back = location(await agent.get(silent.url), ts.url);
    expect(back.searchParams.get('error')).to.equal('access_denied');
    expect(back.searchParams.get('error_description')).to.equal(REQUEST_RATED);
    expect(back.searchParams.get('code')).to.equal(null);
  });

  it('takes the pushed request’s claims only: a claims parameter beside its request_uri neither lifts nor adds an age gate', async () => {
    // Pushed with age_over_19, the link given no claims of its own: still gated.
    const minor = await holder(17);
    const agent = new Agent(ts.url);
    const gated = await parRequest(AGE_19);
    gated.url.searchParams.set('claims', JSON.stringify({ id_token: {} }));
    await expectRefusedAt19(minor, agent, await runLogin(agent, gated.url, minor));

    // Pushed without claims, the link given age_over_19: the request is not rated by it, nor do its tokens say it.
    const verifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const plain = await client.buildAuthorizationUrlWithPAR(config, {
      redirect_uri: site.redirectUri,
      scope: 'openid',
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
    });
    plain.searchParams.set('claims', AGE_19);
    const young = await holder(17);
    const back = await runLogin(new Agent(ts.url), plain, young);
    expect(back.kind, 'a claims parameter beside request_uri rates nothing').to.equal('redirect');
    if (back.kind !== 'redirect') return;
    const tokens = await client.authorizationCodeGrant(config, back.url, { pkceCodeVerifier: verifier, expectedState: state });
    expect(tokens.claims()).to.not.have.property('age_over_19');
  });

  it('lets an adult in once they agree, and the ID token and access token say age_over_19: true, refreshes too', async () => {
    const adult = await holder(30);
    const agent = new Agent(ts.url);
    const req = await authRequest(config, site, { claims: AGE_19, resource: site.resource });
    const { path, csrf } = await startInteraction(agent, req.url);
    const consent = await (await agent.post(`${path}/login`, { csrf, card_number: adult.number, password: adult.password })).text();
    expect(consent).to.include('Know that you are 19 or over');
    const back = location(await agent.post(`${path}/confirm`, { csrf: csrfFrom(consent) }), ts.url);
    const tokens = await client.authorizationCodeGrant(config, back, { pkceCodeVerifier: req.verifier, expectedState: req.state, expectedNonce: req.nonce });
    expect(tokens.claims()!.age_over_19).to.equal(true);
    expect(decodeJwt(tokens.access_token).age_over_19).to.equal(true);
    expect(tokens.claims()).to.not.have.property('birthdate');

    const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token!, { resource: site.resource });
    expect(decodeJwt(refreshed.access_token).age_over_19).to.equal(true);
    expect(refreshed.claims()!.age_over_19).to.equal(true);
  });

  it('rates a payment by its claims request too: a minor is refused, an adult pays and the token says age_over_19', async () => {
    const item = [{ type: 'payment', amount: 2500, currency: 'KRW', description: 'Late-night special' }];
    const minor = await holder(17);
    await ts.db('accounts').where({ id: minor.accountId }).update({ credit_limit: 100_000 });
    const agent = new Agent(ts.url);
    await expectRefusedAt19(minor, agent, await runLogin(agent, (await payRequest(config, site, item, { claims: AGE_19 })).url, minor));
    expect(await ts.db('approvals').where({ account_id: minor.accountId }).first()).to.equal(undefined);

    const adult = await holder(30);
    await ts.db('accounts').where({ id: adult.accountId }).update({ credit_limit: 100_000 });
    const req = await payRequest(config, site, item, { claims: AGE_19 });
    const result = await runLogin(new Agent(ts.url), req.url, adult);
    if (result.kind !== 'redirect') throw new Error(`expected a redirect, got page ${result.status}`);
    const tokens = await client.authorizationCodeGrant(config, result.url, { pkceCodeVerifier: req.verifier, expectedState: req.state });
    expect(decodeJwt(tokens.access_token)).to.include({ age_over_19: true });
    expect(decodeJwt(tokens.access_token).approval_no).to.be.a('string');
  });

  it("decides a payment's claims-request age again at the approval (a birthdate corrected meanwhile)", async () => {
    const card = await holder(30);
    await ts.db('accounts').where({ id: card.accountId }).update({ credit_limit: 100_000 });
    const agent = new Agent(ts.url);
    const req = await payRequest(config, site, [{ type: 'payment', amount: 2500, currency: 'KRW', description: 'Late-night special' }], { claims: AGE_19 });
    const { path, csrf } = await startInteraction(agent, req.url);
    const approvePage = await (await agent.post(`${path}/login`, { csrf, card_number: card.number, password: card.password })).text();
    expect(approvePage).to.include(`${path}/confirm"`);
    await ts.db('accounts').where({ id: card.accountId }).update({ birthdate: birthdateForAge(17) });
    const refused = await agent.post(`${path}/confirm`, { csrf: csrfFrom(approvePage) });
    const html = await refused.text();
    expect(refused.status).to.equal(403);
    expect(alertText(html)).to.equal(`This content on ${siteName} is for 19 and over, so your cyber card cannot be used for it.`);
    expect((await siteGets(agent, html)).searchParams.get('error_description')).to.equal(REQUEST_RATED);
    expect(await ts.db('approvals').where({ account_id: card.accountId }).first()).to.equal(undefined);
  });

  it('answers age_over_19 at userinfo when the claims request asks for it there', async () => {
    const adult = await holder(30);
    const req = await authRequest(config, site, { claims: JSON.stringify({ userinfo: { age_over_19: null } }) });
    const result = await runLogin(new Agent(ts.url), req.url, adult);
    if (result.kind !== 'redirect') throw new Error(`expected a redirect, got page ${result.status}`);
    const tokens = await client.authorizationCodeGrant(config, result.url, { pkceCodeVerifier: req.verifier, expectedState: req.state, expectedNonce: req.nonce });
    expect(tokens.claims()).to.not.have.property('age_over_19');
    const info = await client.fetchUserInfo(config, tokens.access_token, tokens.claims()!.sub);
    expect(info.age_over_19).to.equal(true);
  });

  it('gives a refresh no age the grant was not gated for, and refuses it once the holder is found under it', async () => {
    const adult = await holder(30);
    const plain = await authRequest(config, site, { resource: site.resource });
    const plainResult = await runLogin(new Agent(ts.url), plain.url, adult);
    if (plainResult.kind !== 'redirect') throw new Error('expected a redirect');
    const plainTokens = await client.authorizationCodeGrant(config, plainResult.url, { pkceCodeVerifier: plain.verifier, expectedState: plain.state, expectedNonce: plain.nonce });
    const again = await client.refreshTokenGrant(config, plainTokens.refresh_token!, { resource: site.resource, claims: AGE_19 });
    expect(decodeJwt(again.access_token)).to.not.have.property('age_over_19');
    expect(again.claims()).to.not.have.property('age_over_19');

    const gated = await authRequest(config, site, { claims: AGE_19, resource: site.resource });
    const result = await runLogin(new Agent(ts.url), gated.url, adult);
    if (result.kind !== 'redirect') throw new Error('expected a redirect');
    const tokens = await client.authorizationCodeGrant(config, result.url, { pkceCodeVerifier: gated.verifier, expectedState: gated.state, expectedNonce: gated.nonce });
    // The birthdate corrected: the holder is 17 after all. The grant was gated for 19, so its refresh is refused.
    await ts.db('accounts').where({ id: adult.accountId }).update({ birthdate: birthdateForAge(17) });
    const err = (await client.refreshTokenGrant(config, tokens.refresh_token!, { resource: site.resource }).then(() => undefined, (e: unknown) => e)) as client.ResponseBodyError;
    expect(err).to.be.instanceOf(client.ResponseBodyError);
    expect(err.error).to.equal('invalid_grant');
    expect(err.error_description).to.match(/^under_age: /);
    // The plain login's grant, at an unrated site, still refreshes.
    expect((await client.refreshTokenGrant(config, again.refresh_token!, { resource: site.resource })).access_token).to.be.a('string');
  });

  it('refuses a claims parameter that is not JSON, not an object, or names an age that is not a rating here', async () => {
    const before = await ts.db('audit_log').count({ n: '*' }).first();
    const notJson = await refusedAtPar('{"id_token": {');
    expect(notJson.error).to.equal('invalid_request');
    expect(notJson.error_description).to.equal('could not parse the claims parameter JSON');
    expect((await refusedAtPar('[1]')).error_description).to.equal('claims parameter should be a JSON object');
    expect((await refusedAtPar(JSON.stringify({ id_token: { age_over_19: true } }))).error_description).to.equal('claims.id_token members must be null or objects');
    for (const name of ['age_over_18', 'age_over_0', 'age_over_x', 'age_over_019']) {
      const unknown = await refusedAtPar(JSON.stringify({ userinfo: { [name]: { essential: true } } }));
      expect(unknown.error, name).to.equal('invalid_request');
      expect(unknown.error_description, name).to.equal(`claims.userinfo.${name} is not an age this card manager rates; ask for one of age_over_12, age_over_15, age_over_19`);
    }
    // Sent to /auth directly, the refusal goes back to the site.
    const direct = await authRequest(config, site, { claims: JSON.stringify({ id_token: { age_over_18: null } }) });
    const back = location(await new Agent(ts.url).get(direct.url), ts.url);
    expect(back.origin + back.pathname).to.equal(site.redirectUri);
    expect(back.searchParams.get('error')).to.equal('invalid_request');
    expect(back.searchParams.get('error_description')).to.match(/^claims\.id_token\.age_over_18 is not an age this card manager rates/);
    expect(await ts.db('audit_log').count({ n: '*' }).first()).to.deep.equal(before);
  });

  it('gives the birthdate only with the birthdate scope: a claims request for it alone is ignored, even at a site granted the scope', async () => {
    const adult = await holder(30);
    const claims = JSON.stringify({ id_token: { birthdate: { essential: true } }, userinfo: { birthdate: null } });
    const granted = await registerTestSite(ts, { scope: 'openid profile offline_access birthdate' });
    const grantedConfig = await siteClient(ts, granted);
    const login = async (c: client.Configuration, s: TestSite, scope: string) => {
      const req = await authRequest(c, s, { claims, scope });
      const result = await runLogin(new Agent(ts.url), req.url, adult);
      if (result.kind !== 'redirect') throw new Error(`expected a redirect, got page ${result.status}`);
      const tokens = await client.authorizationCodeGrant(c, result.url, { pkceCodeVerifier: req.verifier, expectedState: req.state, expectedNonce: req.nonce });
      return { id: decodeJwt(tokens.id_token!), info: await client.fetchUserInfo(c, tokens.access_token, tokens.claims()!.sub) };
    };
    for (const [c, s, name] of [[config, site, 'not granted'], [grantedConfig, granted, 'granted']] as const) {
      const { id, info } = await login(c, s, 'openid');
      expect(id, name).to.not.have.property('birthdate');
      expect(info, name).to.not.have.property('birthdate');
      expect(JSON.stringify(info)).to.not.include(birthdateForAge(30));
    }
    // With the scope, granted to the site and agreed to by the holder, the claims request gets it.
    const { id, info } = await login(grantedConfig, granted, 'openid birthdate');
    expect([id.birthdate, info.birthdate]).to.deep.equal([birthdateForAge(30), birthdateForAge(30)]);
  });

  it('lists age_over_NN, the birthdate (its scope too) and the claims parameter in discovery', async () => {
    const meta = config.serverMetadata();
    expect(meta.claims_parameter_supported).to.equal(true);
    expect(meta.claims_supported).to.include.members(['age_over_12', 'age_over_15', 'age_over_19', 'birthdate']);
    expect(meta.scopes_supported).to.include('birthdate');
  });
});
