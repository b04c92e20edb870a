import { expect } from 'chai';
import * as client from 'openid-client';
import { registryRules } from '../../src/member-sites/registry-rules.ts';
import { updateSite } from '../../src/member-sites/update.ts';
import { Agent, csrfFrom, location, startInteraction } from '../helpers/agent.ts';
import { birthdateForAge } from '../helpers/applicant.ts';
import { announced } from '../helpers/directory.ts';
import { authRequest, issueTestCard, pushedRequest, registerTestSite, siteClient, type AuthRequest, type TestSite } from '../helpers/fixtures.ts';
import { unescapeHtml } from '../helpers/html.ts';
import { startCardManager, type TestServer } from '../helpers/server.ts';

/**
 * A member site's allowed claims (issue 6: "allowed scopes and claims"): the operator may narrow what a site learns
 * below what its scopes give, and which age_over_NN it may ask for. No list (the default) leaves the scopes in charge.
 */
describe('a member site’s allowed claims', () => {
  let ts: TestServer;
  /** Granted profile, but only age_over_19 of the claims: no name. */
  let ageOnly: TestSite;
  let ageOnlyConfig: client.Configuration;
  /** Granted profile and the name, but no age claim. */
  let nameOnly: TestSite;
  let nameOnlyConfig: client.Configuration;

  before(async () => {
    ts = await startCardManager();
    ageOnly = await registerTestSite(ts, { scope: 'openid profile', allowedClaims: ['age_over_19'] });
    ageOnlyConfig = await siteClient(ts, ageOnly);
    nameOnly = await registerTestSite(ts, { scope: 'openid profile', allowedClaims: ['name'] });
    nameOnlyConfig = await siteClient(ts, nameOnly);
  });
  after(() => ts.stop());

  function asks(html: string): string[] {
    const list = /<ul class="claims">([\s\S]*?)<\/ul>/.exec(html)?.[1] ?? '';
    return [...list.matchAll(/<li>([^<]*)<\/li>/g)].map((m) => unescapeHtml(m[1]!));
  }

  async function consented(config: client.Configuration, req: AuthRequest) {
    const card = await issueTestCard(ts, birthdateForAge(30), 'Kim Claims');
    const agent = new Agent(ts.url);
    const { path, csrf } = await startInteraction(agent, req.url);
    const page = await (await agent.post(`${path}/login`, { csrf, card_number: card.number, password: card.password })).text();
    const back = location(await agent.post(`${path}/confirm`, { csrf: csrfFrom(page) }), ts.url);
    const tokens = await client.authorizationCodeGrant(config, back, { pkceCodeVerifier: req.verifier, expectedState: req.state, expectedNonce: req.nonce });
    return { page, tokens };
  }

  it('gives no name to a site whose list leaves it out, though granted profile: not in the ID token, not asked on the consent page', async () => {
    // With resource (a JWT access token) the ID token carries the scope's claims.
    const req = await authRequest(ageOnlyConfig, ageOnly, { scope: 'openid profile', resource: ageOnly.resource });
    const { page, tokens } = await consented(ageOnlyConfig, req);
    expect(asks(page)).to.include('Know that you hold a valid cyber card').and.not.include('See your name');
    expect(tokens.claims()!.sub).to.be.a('string');
    expect(tokens.claims()).to.not.have.property('name');
  });

  it('nor at userinfo, which still answers the age claim the list allows', async () => {
    const req = await authRequest(ageOnlyConfig, ageOnly, { scope: 'openid profile', claims: JSON.stringify({ userinfo: { age_over_19: null } }) });
    const { tokens } = await consented(ageOnlyConfig, req);
    const info = await client.fetchUserInfo(ageOnlyConfig, tokens.access_token, tokens.claims()!.sub);
    expect(info).to.not.have.property('name');
    expect(info.age_over_19).to.equal(true);
  });

  it('gives the name to a site whose list has it', async () => {
    const req = await authRequest(nameOnlyConfig, nameOnly, { scope: 'openid profile', resource: nameOnly.resource });
    const { page, tokens } = await consented(nameOnlyConfig, req);
    expect(asks(page)).to.include('See your name');
    expect(tokens.claims()!.name).to.equal('Kim Claims');
  });

  it('refuses a claims request for a claim outside the list with invalid_request at PAR, naming it, rather than ignore an age gate', async () => {
    for (const [claims, name] of [
      [{ id_token: { age_over_19: { essential: true } } }, 'age_over_19'],
      [{ userinfo: { age_over_15: null } }, 'age_over_15'],
    ] as const) {
      const err = await pushedRequest(nameOnlyConfig, nameOnly, { claims: JSON.stringify(claims) }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).to.be.instanceOf(client.ResponseBodyError);
      expect((err as client.ResponseBodyError).error).to.equal('invalid_request');
      expect((err as client.ResponseBodyError).error_description).to.include(name).and.include('not among the claims this member site may ask for');
    }
    const name = await pushedRequest(ageOnlyConfig, ageOnly, { scope: 'openid profile', claims: JSON.stringify({ id_token: { name: null } }) }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect((name as client.ResponseBodyError).error).to.equal('invalid_request');
    // The list's own claim passes.
    await pushedRequest(ageOnlyConfig, ageOnly, { claims: JSON.stringify({ id_token: { age_over_19: { essential: true } } }) });
  });

  it('ignores a name or birthdate asked without its scope, as for a site with no list (OIDC Core §5.5): no refusal, nothing given', async () => {
    for (const claims of [{ id_token: { name: null } }, { userinfo: { birthdate: { essential: true } } }]) {
      await pushedRequest(ageOnlyConfig, ageOnly, { scope: 'openid', claims: JSON.stringify(claims) });
    }
    const req = await authRequest(ageOnlyConfig, ageOnly, { scope: 'openid', resource: ageOnly.resource, claims: JSON.stringify({ id_token: { name: null } }) });
    const { tokens } = await consented(ageOnlyConfig, req);
    expect(tokens.claims()).to.not.have.property('name');
  });

  it('stops giving an age claim once the operator’s list leaves it out: not by refresh, nor at userinfo, nor in the access token', async () => {
    const site = await registerTestSite(ts, { scope: 'openid profile offline_access' });
    const config = await siteClient(ts, site);
    const claims = JSON.stringify({ id_token: { age_over_19: null }, userinfo: { age_over_19: null } });
    // One grant with a JWT access token for the site's API, one with a userinfo access token.
    const withApi = (await consented(config, await authRequest(config, site, { scope: 'openid offline_access', claims, resource: site.resource }))).tokens;
    const forUserinfo = (await consented(config, await authRequest(config, site, { scope: 'openid offline_access', claims }))).tokens;
    const sub = forUserinfo.claims()!.sub;
    expect(withApi.claims()!.age_over_19).to.equal(true);
    expect((await client.fetchUserInfo(config, forUserinfo.access_token, sub)).age_over_19).to.equal(true);
    await announced(ts.cm.directory, `site:${site.clientId}`, () =>
      updateSite({ db: ts.db, ...registryRules(ts.config) }, site.clientId, { allowedClaims: ['name'] }, 'operator'),
    );
    const refreshed = await client.refreshTokenGrant(config, withApi.refresh_token!, { resource: site.resource });
    expect(refreshed.claims()).to.not.have.property('age_over_19');
    const jwt = JSON.parse(Buffer.from(refreshed.access_token.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;
    expect(jwt).to.not.have.property('age_over_19');
    expect(await client.fetchUserInfo(config, forUserinfo.access_token, sub)).to.not.have.property('age_over_19');
  });

  it('nor at introspection: an opaque access token issued before the list left the age out no longer reads it', async () => {
    const site = await registerTestSite(ts, { scope: 'openid profile offline_access' });
    const config = await siteClient(ts, site);
    const claims = JSON.stringify({ userinfo: { age_over_19: null } });
    const { tokens } = await consented(config, await authRequest(config, site, { scope: 'openid offline_access', claims }));
    expect((await client.tokenIntrospection(config, tokens.access_token)).age_over_19).to.equal(true);
    await announced(ts.cm.directory, `site:${site.clientId}`, () =>
      updateSite({ db: ts.db, ...registryRules(ts.config) }, site.clientId, { allowedClaims: ['name'] }, 'operator'),
    );
    const now = await client.tokenIntrospection(config, tokens.access_token);
    expect(now.active).to.equal(true);
    expect(now).to.not.have.property('age_over_19');
    // The age of the site's own rating is the gate's answer, not asked for: it stays whatever the list says.
    const rated = await registerTestSite(ts, { scope: 'openid profile offline_access', contentRating: 19, allowedClaims: ['name'] });
    const ratedConfig = await siteClient(ts, rated);
    const own = (await consented(ratedConfig, await authRequest(ratedConfig, rated, { scope: 'openid offline_access' }))).tokens;
    expect((await client.tokenIntrospection(ratedConfig, own.access_token)).age_over_19).to.equal(true);
  });

  it('takes effect at the next request once the operator clears the list (null: the scopes decide again)', async () => {
    const site = await registerTestSite(ts, { scope: 'openid profile', allowedClaims: ['age_over_19'] });
    const config = await siteClient(ts, site);
    await announced(ts.cm.directory, `site:${site.clientId}`, () => updateSite({ db: ts.db, ...registryRules(ts.config) }, site.clientId, { allowedClaims: null }, 'test'));
    const req = await authRequest(config, site, { scope: 'openid profile', resource: site.resource });
    const { tokens } = await consented(config, req);
    expect(tokens.claims()!.name).to.equal('Kim Claims');
  });
});
