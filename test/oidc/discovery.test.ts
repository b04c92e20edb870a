import { expect } from 'chai';
import { startCardManager, type TestServer } from '../helpers/server.ts';

describe('/.well-known/openid-configuration', () => {
  let ts: TestServer;
  let doc: Record<string, unknown>;

  before(async () => {
    ts = await startCardManager();
    const res = await fetch(`${ts.url}/.well-known/openid-configuration`);
    expect(res.status).to.equal(200);
    doc = (await res.json()) as Record<string, unknown>;
  });
  after(() => ts.stop());

  it('names this issuer and its endpoints', () => {
    expect(doc.issuer).to.equal(ts.url);
    for (const key of [
      'authorization_endpoint',
      'token_endpoint',
      'userinfo_endpoint',
      'jwks_uri',
      'introspection_endpoint',
      'revocation_endpoint',
      'end_session_endpoint',
      'pushed_authorization_request_endpoint',
    ]) {
      expect(doc[key], key).to.be.a('string').and.satisfy((u: string) => u.startsWith(ts.url));
    }
  });

  it('offers only the authorization code flow, with S256 PKCE (client_credentials is for the approvals API)', () => {
    expect(doc.response_types_supported).to.deep.equal(['code']);
    expect(doc.code_challenge_methods_supported).to.deep.equal(['S256']);
    expect(doc.grant_types_supported).to.have.members(['authorization_code', 'refresh_token', 'client_credentials']);
  });

  it('offers client_secret_basic, client_secret_post and private_key_jwt, and nothing weaker', () => {
    expect(doc.token_endpoint_auth_methods_supported).to.have.members([
      'client_secret_basic',
      'client_secret_post',
      'private_key_jwt',
    ]);
    expect(doc.token_endpoint_auth_signing_alg_values_supported).to.not.include.members(['HS256', 'none']);
  });

  it('uses pairwise subjects and ES256 ID tokens', () => {
    expect(doc.subject_types_supported).to.deep.equal(['pairwise']);
    expect(doc.id_token_signing_alg_values_supported).to.deep.equal(['ES256']);
  });

  it('names the hosted pages\' languages for ui_locales, and how introspection and revocation authenticate (as /token)', () => {
    expect(doc.ui_locales_supported).to.deep.equal(['en', 'ko']);
    for (const endpoint of ['introspection', 'revocation']) {
      expect(doc[`${endpoint}_endpoint_auth_methods_supported`], endpoint).to.deep.equal(doc.token_endpoint_auth_methods_supported);
      expect(doc[`${endpoint}_endpoint_auth_signing_alg_values_supported`], endpoint).to.deep.equal(doc.token_endpoint_auth_signing_alg_values_supported);
    }
  });

  it('advertises no DPoP: the kit and the approvals API take Bearer tokens, and would drop a binding unchecked', () => {
    expect(doc).to.not.have.property('dpop_signing_alg_values_supported');
  });

  it('advertises nothing development-only', async () => {
    const text = JSON.stringify(doc);
    expect(text).to.not.match(/dev|interaction|none/i);
    const res = await fetch(`${ts.url}/.well-known/openid-configuration`);
    expect(res.headers.get('content-type')).to.match(/application\/json/);
  });

  it('publishes an ES256 signing key without its private part', async () => {
    const jwks = (await (await fetch(`${ts.url}/jwks`)).json()) as { keys: Record<string, unknown>[] };
    expect(jwks.keys.length).to.be.greaterThan(0);
    for (const k of jwks.keys) {
      expect(k.kty).to.equal('EC');
      expect(k.alg).to.equal('ES256');
      expect(k.kid).to.be.a('string');
      expect(k).to.not.have.property('d');
    }
  });

  it('answers /healthz and /readyz', async () => {
    expect((await fetch(`${ts.url}/healthz`)).status).to.equal(200);
    const ready = await fetch(`${ts.url}/readyz`);
    expect(ready.status).to.equal(200);
    expect(await ready.json()).to.deep.equal({ status: 'ok', database: 'ok' });
  });
});
