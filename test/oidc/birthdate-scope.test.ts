import { expect } from 'chai';
import { decodeJwt } from 'jose';
import * as client from 'openid-client';
import { registryRules } from '../../src/member-sites/registry-rules.ts';
import { updateSite } from '../../src/member-sites/update.ts';
import { registerMemberSite } from '../../src/member-sites/register.ts';
import { Agent, csrfFrom, location, runLogin, startInteraction } from '../helpers/agent.ts';
import { birthdateForAge } from '../helpers/applicant.ts';
import { announced } from '../helpers/directory.ts';
import { authRequest, issueTestCard, registerTestSite, siteClient, type AuthRequest, type TestSite } from '../helpers/fixtures.ts';
import { unescapeHtml } from '../helpers/html.ts';
import { startCardManager, type TestServer } from '../helpers/server.ts';

const GRANTED = 'openid profile offline_access birthdate';

/**
 * The `birthdate` scope (OIDC Core §5.4, the claim as §5.1 has it: YYYY-MM-DD): given only to a member site the operator
 * granted it, and only once the holder has agreed to it on the consent page, which names it whenever it is asked.
 */
describe('the birthdate scope', () => {
  let ts: TestServer;
  let granted: TestSite;
  let grantedConfig: client.Configuration;

  before(async () => {
    ts = await startCardManager();
    granted = await registerTestSite(ts, { scope: GRANTED });
    grantedConfig = await siteClient(ts, granted);
  });
  after(() => ts.stop());

  const BORN = birthdateForAge(30);
  const holder = () => issueTestCard(ts, BORN, 'Lee Birthday');

  /** The consent page's list of what the site asks for. */
  function asks(html: string): string[] {
    const list = /<ul class="claims">([\s\S]*?)<\/ul>/.exec(html)?.[1] ?? '';
    return [...list.matchAll(/<li>([^<]*)<\/li>/g)].map((m) => unescapeHtml(m[1]!));
  }

  /** Logs in at the request and answers its consent page with Allow; returns that page and the site's tokens. */
  async function consented(agent: Agent, config: client.Configuration, req: AuthRequest, card: { number: string; password: string }) {
    const { path, csrf } = await startInteraction(agent, req.url);
    const page = await (await agent.post(`${path}/login`, { csrf, card_number: card.number, password: card.password })).text();
    const back = location(await agent.post(`${path}/confirm`, { csrf: csrfFrom(page) }), ts.url);
    const tokens = await client.authorizationCodeGrant(config, back, { pkceCodeVerifier: req.verifier, expectedState: req.state, expectedNonce: req.nonce });
    return { page, tokens };
  }

  it('gives a granted site the birthdate once the holder agrees: in the ID token beside a JWT access token that does not carry it', async () => {
    const card = await holder();
    const req = await authRequest(grantedConfig, granted, { scope: 'openid birthdate', resource: granted.resource });
    const { page, tokens } = await consented(new Agent(ts.url), grantedConfig, req, card);
    expect(asks(page)).to.include.members(['Know that you hold a valid cyber card', 'See your date of birth']);
    expect(tokens.claims()!.birthdate).to.equal(BORN);
    // Minimal disclosure: the site's API learns what it needs (age_over_NN, standing), not the date.
    expect(decodeJwt(tokens.access_token)).to.not.have.property('birthdate');
    expect(JSON.stringify(decodeJwt(tokens.access_token))).to.not.include(BORN);
  });

  it('answers it at userinfo for a userinfo access token, and as the claims request asks with the scope', async () => {
    const card = await holder();
    const req = await authRequest(grantedConfig, granted, { scope: 'openid birthdate', claims: JSON.stringify({ id_token: { birthdate: { essential: true } } }) });
    const { tokens } = await consented(new Agent(ts.url), grantedConfig, req, card);
    expect(tokens.claims()!.birthdate).to.equal(BORN);
    const info = await client.fetchUserInfo(grantedConfig, tokens.access_token, tokens.claims()!.sub);
    expect(info.birthdate).to.equal(BORN);
  });

  /** A request at the granted site without prompt=consent: an existing grant that covers it answers at once. */
  async function withoutPrompt(params: Record<string, string>): Promise<AuthRequest> {
    const req = await authRequest(grantedConfig, granted, params);
    req.url.searchParams.delete('prompt');
    return req;
  }

  it('asks again when a signed-in holder with a grant without it is asked for it, naming only the date of birth; Korean too', async () => {
    const card = await holder();
    const agent = new Agent(ts.url);
    const first = await authRequest(grantedConfig, granted, { scope: 'openid profile' });
    expect((await runLogin(agent, first.url, card)).kind).to.equal('redirect');
    // No prompt=consent: the grant for openid profile would answer at once, were birthdate not asked.
    const again = await withoutPrompt({ scope: 'openid profile birthdate' });
    expect(asks((await startInteraction(agent, again.url)).html)).to.deep.equal(['See your date of birth']);
    // The same request in Korean (it takes over the browser's interaction), answered with Allow.
    const korean = await withoutPrompt({ scope: 'openid profile birthdate', ui_locales: 'ko' });
    const { path, html } = await startInteraction(agent, korean.url);
    expect(asks(html)).to.deep.equal(['생년월일 보기']);
    const back = location(await agent.post(`${path}/confirm`, { csrf: csrfFrom(html) }), ts.url);
    const tokens = await client.authorizationCodeGrant(grantedConfig, back, { pkceCodeVerifier: korean.verifier, expectedState: korean.state, expectedNonce: korean.nonce });
    expect((await client.fetchUserInfo(grantedConfig, tokens.access_token, tokens.claims()!.sub)).birthdate).to.equal(BORN);
  });

  it('gives nothing to a holder who declines on the consent page: access_denied, no code, no entry', async () => {
    const card = await holder();
    const agent = new Agent(ts.url);
    const req = await authRequest(grantedConfig, granted, { scope: 'openid birthdate' });
    const { path, csrf } = await startInteraction(agent, req.url);
    const page = await (await agent.post(`${path}/login`, { csrf, card_number: card.number, password: card.password })).text();
    expect(asks(page)).to.include('See your date of birth');
    const back = location(await agent.post(`${path}/abort`, { csrf: csrfFrom(page) }), ts.url);
    expect(back.origin + back.pathname).to.equal(granted.redirectUri);
    expect(back.searchParams.get('error')).to.equal('access_denied');
    expect(back.searchParams.get('code')).to.equal(null);
    expect(await ts.db('audit_log').where({ action: 'consent.birthdate_shared', subject_id: card.accountId }).first()).to.equal(undefined);
  });

  /** Where the browser is sent at once for this request, failing with the page's asks if a page is shown instead. */
  async function sentStraightBack(agent: Agent, url: URL): Promise<URL> {
    const res = await agent.get(url);
    if (res.status === 200) expect.fail(`a page asking ${JSON.stringify(asks(await res.text()))} instead of going back to the site`);
    return location(res, ts.url);
  }

  it('ignores a claims request for it from a site without the scope (OIDC Core §5.5): no consent page that grants nothing, no birthdate, no error', async () => {
    const plain = await registerTestSite(ts);
    const config = await siteClient(ts, plain);
    const card = await holder();
    const agent = new Agent(ts.url);
    const first = await authRequest(config, plain, { scope: 'openid profile' });
    expect((await runLogin(agent, first.url, card)).kind).to.equal('redirect');
    // Essential or not, in the ID token or at userinfo: the site's scope cannot give it, so it is not asked of the holder.
    const claims = JSON.stringify({ id_token: { birthdate: { essential: true } }, userinfo: { birthdate: null } });
    const req = await authRequest(config, plain, { scope: 'openid profile', claims });
    req.url.searchParams.delete('prompt');
    const back = await sentStraightBack(agent, req.url);
    expect(back.origin + back.pathname).to.equal(plain.redirectUri);
    expect(back.searchParams.get('error')).to.equal(null);
    const tokens = await client.authorizationCodeGrant(config, back, { pkceCodeVerifier: req.verifier, expectedState: req.state, expectedNonce: req.nonce });
    expect(tokens.claims()).to.not.have.property('birthdate');
    expect(await client.fetchUserInfo(config, tokens.access_token, tokens.claims()!.sub)).to.not.have.property('birthdate');
    // A first sign-in's consent page names only what the scope asks for.
    const fresh = await authRequest(config, plain, { scope: 'openid', claims });
    const { page, tokens: again } = await consented(new Agent(ts.url), config, fresh, card);
    expect(asks(page)).to.deep.equal(['Know that you hold a valid cyber card']);
    expect(again.claims()).to.not.have.property('birthdate');
  });

  it('ignores it too from a granted site whose request leaves the scope out: the holder who agreed before is not asked again', async () => {
    const card = await holder();
    const agent = new Agent(ts.url);
    expect((await runLogin(agent, (await authRequest(grantedConfig, granted, { scope: 'openid profile' })).url, card)).kind).to.equal('redirect');
    const req = await withoutPrompt({ scope: 'openid profile', claims: JSON.stringify({ id_token: { birthdate: null } }) });
    const back = await sentStraightBack(agent, req.url);
    expect(back.origin + back.pathname).to.equal(granted.redirectUri);
    const tokens = await client.authorizationCodeGrant(grantedConfig, back, { pkceCodeVerifier: req.verifier, expectedState: req.state, expectedNonce: req.nonce });
    expect(tokens.claims()).to.not.have.property('birthdate');
  });

  it('refuses it to a site the operator did not grant it (every site, by default): invalid_scope, at /auth and at PAR', async () => {
    const plain = await registerTestSite(ts);
    expect((await ts.db('member_sites').where({ client_id: plain.clientId }).first()).scope).to.not.include('birthdate');
    const config = await siteClient(ts, plain);
    const req = await authRequest(config, plain, { scope: 'openid birthdate' });
    const back = location(await new Agent(ts.url).get(req.url), ts.url);
    expect(back.origin + back.pathname).to.equal(plain.redirectUri);
    expect(back.searchParams.get('error')).to.equal('invalid_scope');
    expect(back.searchParams.get('error_description')).to.equal('requested scope is not allowed');
    const pushed = await client
      .buildAuthorizationUrlWithPAR(config, { redirect_uri: plain.redirectUri, scope: 'openid birthdate', code_challenge: 'x'.repeat(43), code_challenge_method: 'S256' })
      .then(() => undefined, (e: unknown) => e);
    expect(pushed).to.be.instanceOf(client.ResponseBodyError);
    expect((pushed as client.ResponseBodyError).error).to.equal('invalid_scope');
  });

  it('stops giving it once the operator takes the scope from the site: no birthdate by refresh or userinfo, claims request or not', async () => {
    const site = await registerTestSite(ts, { scope: GRANTED });
    const config = await siteClient(ts, site);
    const card = await holder();
    const claims = JSON.stringify({ id_token: { birthdate: null }, userinfo: { birthdate: null } });
    const req = await authRequest(config, site, { scope: 'openid offline_access birthdate', claims });
    const { tokens } = await consented(new Agent(ts.url), config, req, card);
    const sub = tokens.claims()!.sub;
    expect(tokens.claims()!.birthdate).to.equal(BORN);
    expect((await client.fetchUserInfo(config, tokens.access_token, sub)).birthdate).to.equal(BORN);
    await announced(ts.cm.directory, `site:${site.clientId}`, () =>
      updateSite({ db: ts.db, ...registryRules(ts.config) }, site.clientId, { scope: 'openid profile offline_access' }, 'operator'),
    );
    expect((await client.fetchUserInfo(config, tokens.access_token, sub)).birthdate).to.equal(undefined);
    const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token!);
    expect(refreshed.claims()).to.not.have.property('birthdate');
    expect(refreshed.scope?.split(' ')).to.not.include('birthdate');
    expect(await client.fetchUserInfo(config, refreshed.access_token, sub)).to.not.have.property('birthdate');
  });

  it('shows the holder, in their activity, which site they let see their date of birth', async () => {
    const card = await holder();
    await consented(new Agent(ts.url), grantedConfig, await authRequest(grantedConfig, granted, { scope: 'openid birthdate' }), card);
    // A consent without it is not such an entry.
    await consented(new Agent(ts.url), grantedConfig, await authRequest(grantedConfig, granted, { scope: 'openid profile' }), card);
    const agent = new Agent(ts.url);
    const form = await agent.request('/card/signin?next=/card/activity');
    await agent.post('/card/signin', { csrf: csrfFrom(await form.text()), card_number: card.number, password: card.password, next: '/card/activity' });
    const res = await agent.request('/api/holder/activity', { headers: { accept: 'application/json' } });
    const { entries } = (await res.json()) as { entries: Array<{ kind: string; text: string }> };
    const name = (await ts.db('member_sites').where({ client_id: granted.clientId }).first()).name as string;
    expect(entries.filter((e) => e.kind === 'birthdate_shared').map((e) => e.text)).to.deep.equal([`Let ${name} see your date of birth.`]);
  });

  it('refuses a scope that is not one of ours when the operator registers a site, storing nothing', async () => {
    const before = await ts.db('member_sites').count({ n: '*' }).first();
    for (const scope of ['openid birthday', 'openid Birthdate', 'openid birthdate_verified']) {
      const err = await registerMemberSite(
        { db: ts.db, requireHttps: false, ratings: ts.config.ratings },
        { name: 'Wrong scope', redirectUris: ['https://wrong.example.test/cb'], tokenEndpointAuthMethod: 'client_secret_basic', scope },
        'test',
      ).then(() => undefined, (e: unknown) => e as Error & { fields?: Record<string, string> });
      expect(err, scope).to.be.instanceOf(Error);
      expect(err!.fields?.scope, scope).to.equal('only openid, profile, offline_access, birthdate');
    }
    expect(await ts.db('member_sites').count({ n: '*' }).first()).to.deep.equal(before);
  });
});
