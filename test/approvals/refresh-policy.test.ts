import { expect } from 'chai';
import * as client from 'openid-client';
import { Agent, runLogin } from '../helpers/agent.ts';
import { birthdateForAge } from '../helpers/applicant.ts';
import { announced } from '../helpers/directory.ts';
import { authRequest, issueTestCard, registerTestSite, siteClient, type TestCard } from '../helpers/fixtures.ts';
import { registryRules } from '../../src/member-sites/registry-rules.ts';
import { updateSite } from '../../src/member-sites/update.ts';
import { startCardManager, type TestServer } from '../helpers/server.ts';

/**
 * A plain login's refresh token lives for days; the rules that let the holder in may change meanwhile. The refresh
 * grant runs no interaction policy, so the card manager asks the policy's rules itself: a site refused now gets
 * invalid_grant saying why, and no new token.
 */
describe('refresh tokens under the rules of today', () => {
  let ts: TestServer;

  before(async () => {
    ts = await startCardManager();
  });
  after(() => ts.stop());

  async function loggedIn(card: TestCard, opts: { resource: boolean } = { resource: true }) {
    const site = await registerTestSite(ts);
    const config = await siteClient(ts, site);
    const req = await authRequest(config, site, opts.resource ? { resource: site.resource } : {});
    const result = await runLogin(new Agent(ts.url), req.url, card);
    if (result.kind !== 'redirect') throw new Error(`expected a redirect, got page ${result.status}`);
    const tokens = await client.authorizationCodeGrant(config, result.url, { pkceCodeVerifier: req.verifier, expectedState: req.state, expectedNonce: req.nonce });
    expect(tokens.refresh_token).to.be.a('string');
    const refresh = (token: string) => client.refreshTokenGrant(config, token, opts.resource ? { resource: site.resource } : {});
    return { site, config, refresh, token: tokens.refresh_token!, first: tokens };
  }

  async function refusal(p: Promise<unknown>): Promise<{ error: string; description: string }> {
    const err = await p.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err, 'the refresh was refused').to.be.instanceOf(client.ResponseBodyError);
    const e = err as client.ResponseBodyError;
    return { error: e.error, description: e.error_description ?? '' };
  }

  it('refuses a minor once the site is rated above their age, and audits it', async () => {
    const minor = await issueTestCard(ts, birthdateForAge(16));
    const { site, refresh, token } = await loggedIn(minor);
    const next = (await refresh(token)).refresh_token!;
    await announced(ts.cm.directory, `site:${site.clientId}`, () => ts.db('member_sites').where({ client_id: site.clientId }).update({ content_rating: 19 }));
    const refused = await refusal(refresh(next));
    expect(refused.error).to.equal('invalid_grant');
    expect(refused.description).to.match(/^under_age: /);
    expect(await ts.db('audit_log').where({ subject_id: minor.accountId }).whereLike('action', 'access.refused%')).to.have.length.at.least(1);
  });

  it('refuses a site the holder blocked, or adult content they turned off', async () => {
    const adult = await issueTestCard(ts, birthdateForAge(30));
    const { site, refresh, token } = await loggedIn(adult);
    await ts.db('accounts').where({ id: adult.accountId }).update({ blocked_sites: JSON.stringify([site.clientId]) });
    expect((await refusal(refresh(token))).description).to.match(/^spending_control: /);
    // Unblocked, the same token works again: the refusal spent nothing.
    await ts.db('accounts').where({ id: adult.accountId }).update({ blocked_sites: JSON.stringify([]) });
    const again = await refresh(token);
    expect(again.access_token).to.be.a('string');

    await announced(ts.cm.directory, `site:${site.clientId}`, () => ts.db('member_sites').where({ client_id: site.clientId }).update({ content_rating: 19 }));
    await ts.db('accounts').where({ id: adult.accountId }).update({ adult_content_off: true });
    expect((await refusal(refresh(again.refresh_token!))).description).to.match(/^spending_control: /);
  });

  /** The operator narrows the site's scope (sites update --scope), as every instance hears of it. */
  const narrow = (clientId: string, scope: string) =>
    announced(ts.cm.directory, `site:${clientId}`, () => updateSite({ db: ts.db, ...registryRules(ts.config) }, clientId, { scope }, 'operator'));

  it('gives no scope the operator has taken from the site since the login: no name once profile is gone, by refresh or userinfo', async () => {
    const adult = await issueTestCard(ts, birthdateForAge(30), 'Kim Narrowed');
    // A token for the site's API: the ID token carries what profile gives.
    const api = await loggedIn(adult);
    expect(api.first.claims()!.name).to.equal('Kim Narrowed');
    await narrow(api.site.clientId, 'openid offline_access');
    const refreshed = await api.refresh(api.token);
    expect(refreshed.claims()!.name).to.equal(undefined);
    expect(refreshed.access_token).to.be.a('string');
    // An opaque token for userinfo: neither one issued before the change nor one refreshed after it reads the name.
    const plain = await loggedIn(adult, { resource: false });
    const sub = plain.first.claims()!.sub;
    expect((await client.fetchUserInfo(plain.config, plain.first.access_token, sub)).name).to.equal('Kim Narrowed');
    await narrow(plain.site.clientId, 'openid offline_access');
    expect((await client.fetchUserInfo(plain.config, plain.first.access_token, sub)).name).to.equal(undefined);
    const again = await plain.refresh(plain.token);
    expect(again.scope?.split(' ')).to.not.include('profile');
    expect((await client.fetchUserInfo(plain.config, again.access_token, sub)).name).to.equal(undefined);
  });

  it('refuses a refresh token that outlives logout (offline_access) once the site no longer has offline_access, spending nothing', async () => {
    const adult = await issueTestCard(ts, birthdateForAge(30));
    const { site, refresh, token } = await loggedIn(adult);
    await narrow(site.clientId, 'openid profile');
    const refused = await refusal(refresh(token));
    expect(refused).to.deep.equal({ error: 'invalid_grant', description: 'offline_access is no longer granted to this site: log the holder in again' });
    // Given back, the same token works: the refusal spent nothing.
    await narrow(site.clientId, 'openid profile offline_access');
    expect((await refresh(token)).access_token).to.be.a('string');
  });

  it('introspects a refresh token as it would be used now: the scope the site still has, inactive once offline_access is taken', async () => {
    const adult = await issueTestCard(ts, birthdateForAge(30));
    const scopes = async (config: client.Configuration, token: string) => {
      const answer = await client.tokenIntrospection(config, token);
      return answer.active ? (answer.scope ?? '').split(' ').sort() : 'inactive';
    };
    const plain = await loggedIn(adult, { resource: false });
    expect(await scopes(plain.config, plain.token)).to.deep.equal(['offline_access', 'openid', 'profile']);
    await narrow(plain.site.clientId, 'openid offline_access');
    const now = await scopes(plain.config, plain.token);
    expect(now).to.deep.equal(['offline_access', 'openid']);
    // So does an opaque access token issued before the change: userinfo gives it no name any more.
    expect(await scopes(plain.config, plain.first.access_token)).to.not.include('profile');
    // What a refresh gives now is what introspection said (the refresh's access token, an opaque one, says the same).
    const again = await plain.refresh(plain.token);
    expect(now).to.include.members(again.scope!.split(' '));
    expect(await scopes(plain.config, again.refresh_token!)).to.deep.equal(now);
    expect(await scopes(plain.config, again.access_token)).to.deep.equal(again.scope!.split(' ').sort());

    // A token for the site's API keeps its API's scope beside what is left of the OIDC ones.
    const api = await loggedIn(adult);
    const before = await scopes(api.config, api.token);
    expect(before).to.include('profile');
    await narrow(api.site.clientId, 'openid offline_access');
    expect(await scopes(api.config, api.token)).to.deep.equal((before as string[]).filter((s) => s !== 'profile'));

    // Refused at a refresh, inactive at introspection; given back, active again (nothing was spent).
    await narrow(api.site.clientId, 'openid profile');
    expect(await scopes(api.config, api.token)).to.equal('inactive');
    await refusal(api.refresh(api.token));
    await narrow(api.site.clientId, 'openid profile offline_access');
    expect(await scopes(api.config, api.token)).to.deep.equal(before);
  });

  it("judges a refresh by the site's own rating: a rating in its authorization_details tells the site nothing of the holder's age or controls", async () => {
    // A refresh carries no payment (payments get no refresh token, and the details sent are not put in the token):
    // answered by the rating they name, an unrated site could learn at will, with no one asked, who is under 19 or
    // has adult content turned off.
    const rated19 = (resource: string) => ({ resource, authorization_details: JSON.stringify([{ type: 'payment', amount: 100, currency: 'KRW', description: 'probe', rating: '19' }]) });
    const minor = await issueTestCard(ts, birthdateForAge(16));
    const young = await loggedIn(minor);
    const probed = await client.refreshTokenGrant(await siteClient(ts, young.site), young.token, rated19(young.site.resource)).catch((e: client.ResponseBodyError) => { throw new Error(`${e.error}: ${e.error_description}`); });
    expect(probed.access_token).to.be.a('string');
    expect(probed.authorization_details ?? []).to.deep.equal([]);

    const adult = await issueTestCard(ts, birthdateForAge(30));
    const grown = await loggedIn(adult);
    await ts.db('accounts').where({ id: adult.accountId }).update({ adult_content_off: true });
    expect((await client.refreshTokenGrant(await siteClient(ts, grown.site), grown.token, rated19(grown.site.resource))).access_token).to.be.a('string');
    const refusals = await ts.db('audit_log').whereIn('subject_id', [minor.accountId, adult.accountId]).whereLike('action', 'access.refused%');
    expect(refusals).to.deep.equal([]);
  });
});
