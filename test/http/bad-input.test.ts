import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import * as client from 'openid-client';
import { Agent, csrfFrom, location, startInteraction, runLogin } from '../helpers/agent.ts';
import { authRequest, issueTestCard, registerTestSite, siteClient, type TestCard, type TestSite } from '../helpers/fixtures.ts';
import { startCardManager, type TestServer } from '../helpers/server.ts';

const FORM = 'application/x-www-form-urlencoded';

interface Snapshot {
  payloads: Record<string, number>;
  audit: number;
  cards: number;
}

/** What a refused request must not change: oidc-provider rows by model, the audit log, the cards. */
async function snapshot(ts: TestServer): Promise<Snapshot> {
  const rows = (await ts.db('oidc_payloads').select('model').count({ n: '*' }).groupBy('model')) as { model: string; n: string | number }[];
  const audit = await ts.db('audit_log').count({ n: '*' }).first();
  const cards = await ts.db('cards').count({ n: '*' }).first();
  return {
    payloads: Object.fromEntries(rows.map((r) => [r.model, Number(r.n)])),
    audit: Number(audit?.n ?? 0),
    cards: Number(cards?.n ?? 0),
  };
}

/** Runs `work` and asserts the database looks the same afterwards. */
async function unchanged<T>(ts: TestServer, work: () => Promise<T>): Promise<T> {
  const before = await snapshot(ts);
  const result = await work();
  expect(await snapshot(ts), 'database rows after the refused request').to.deep.equal(before);
  return result;
}

/** No stack frames, no error class names, no file paths: causes are logged, never sent. */
function expectNoLeak(body: string): void {
  expect(body).to.not.match(/^\s*at\s+\S/m, 'a stack-trace line');
  expect(body).to.not.match(/\bat .*:\d+:\d+/, 'a stack frame');
  expect(body).to.not.include('Error:');
  expect(body).to.not.include('node_modules');
  expect(body).to.not.match(/\/work\/|\/src\/|\.ts:\d+/, 'a source path');
}

/** A refused request answered with one of our HTML pages; returns its text. */
async function expectPage(res: Response, status: number): Promise<string> {
  const body = await res.text();
  expect(res.status, body.slice(0, 500)).to.equal(status);
  expect(res.headers.get('content-type')).to.match(/^text\/html; charset=utf-8/);
  expect(body).to.match(/^<!DOCTYPE html>/i);
  expectNoLeak(body);
  return body;
}

/** A refused request answered with OAuth JSON ({ error, error_description }); returns the parsed body. */
async function expectOAuthError(res: Response, status: number, error?: string): Promise<Record<string, unknown>> {
  const text = await res.text();
  expect(res.status, text.slice(0, 500)).to.equal(status);
  expect(res.headers.get('content-type')).to.match(/^application\/json/);
  expectNoLeak(text);
  const body = JSON.parse(text) as Record<string, unknown>;
  if (error) expect(body.error).to.equal(error);
  else expect(body.error).to.be.a('string').and.not.equal('');
  expect(body).to.not.have.property('stack');
  return body;
}

/** The text a page shows in its alert, unescaped enough to compare. */
function alertOf(html: string): string {
  const m = /role="alert"[^>]*>([^<]*)</.exec(html);
  return (m?.[1] ?? '').replace(/&#39;/g, "'");
}

function refilledCardNumber(html: string): string | undefined {
  return /name="card_number"[^>]*value="([^"]*)"/.exec(html)?.[1];
}

function basic(site: TestSite, secret = site.clientSecret): string {
  return `Basic ${Buffer.from(`${encodeURIComponent(site.clientId)}:${encodeURIComponent(secret)}`).toString('base64')}`;
}

describe('bad input', () => {
  let ts: TestServer;
  let site: TestSite;
  let card: TestCard;
  let config: client.Configuration;

  before(async () => {
    ts = await startCardManager();
    site = await registerTestSite(ts);
    card = await issueTestCard(ts);
    config = await siteClient(ts, site);
  });
  after(() => ts.stop());

  afterEach(async function serverStillAnswers() {
    const res = await fetch(`${ts.url}/readyz`);
    expect(res.status, 'the server answers /readyz after the test').to.equal(200);
  });

  /** A browser sitting on the hosted login page of a fresh authorization request. */
  async function onLoginPage(agent = new Agent(ts.url)) {
    const req = await authRequest(config, site);
    // The authorization endpoint answers with the login page itself.
    const { path, csrf, status } = await startInteraction(agent, req.url);
    expect(status).to.equal(200);
    return { agent, req, path, uid: path.split('/')[2]!, csrf };
  }

  function rawPost(agent: Agent, path: string, body: string | Buffer, contentType = FORM): Promise<Response> {
    // Raw bytes go as they are (a Uint8Array copy only satisfies fetch's BodyInit type).
    const bytes = typeof body === 'string' ? body : new Uint8Array(body);
    return agent.request(path, { method: 'POST', headers: { 'content-type': contentType, accept: 'text/html' }, body: bytes });
  }

  describe('/auth', () => {
    it('shows an error page, and stores nothing, for a request without client_id', async () => {
      const html = await unchanged(ts, async () =>
        expectPage(await new Agent(ts.url).get('/auth?response_type=code&scope=openid&redirect_uri=https%3A%2F%2Fx.example.test%2Fcb'), 400),
      );
      expect(alertOf(html)).to.include('client_id');
    });

    it('shows an error page, and never redirects, for an unknown client_id', async () => {
      const res = await unchanged(ts, () =>
        new Agent(ts.url).get(`/auth?client_id=site_nobody&response_type=code&scope=openid&redirect_uri=${encodeURIComponent(site.redirectUri)}`),
      );
      expect(res.headers.get('location')).to.equal(null);
      expect(alertOf(await expectPage(res, 400))).to.match(/client/);
    });

    it('sends invalid_request back to the site, and stores nothing, when response_type is missing', async () => {
      const req = await authRequest(config, site);
      req.url.searchParams.delete('response_type');
      const res = await unchanged(ts, () => new Agent(ts.url).get(req.url));
      expect(res.status).to.equal(303);
      const back = location(res, ts.url);
      expect(back.origin + back.pathname).to.equal(site.redirectUri);
      expect(back.searchParams.get('error')).to.equal('invalid_request');
      expect(back.searchParams.get('code')).to.equal(null);
    });

    it('refuses response_type=token with unsupported_response_type and issues no token', async () => {
      const req = await authRequest(config, site);
      req.url.searchParams.set('response_type', 'token');
      const res = await unchanged(ts, () => new Agent(ts.url).get(req.url));
      expect(res.status).to.equal(303);
      const back = location(res, ts.url);
      expect(back.origin + back.pathname).to.equal(site.redirectUri);
      const answer = new URLSearchParams(back.hash.slice(1) || back.search.slice(1));
      expect(answer.get('error')).to.equal('unsupported_response_type');
      expect(answer.get('access_token')).to.equal(null);
    });

    it('refuses a huge state (a 20 KB URL) before anything is stored', async () => {
      const req = await authRequest(config, site);
      req.url.searchParams.set('state', 'x'.repeat(20_000));
      const res = await unchanged(ts, () => new Agent(ts.url).get(req.url));
      expect(res.status).to.equal(431);
      expect(await res.text()).to.equal('');
    });

    it('sends invalid_request back to the site, and stores nothing, for a NUL character in a parameter', async () => {
      for (const name of ['state', 'nonce', 'login_hint', 'ui_locales']) {
        const req = await authRequest(config, site);
        req.url.searchParams.set(name, 'a\u0000b');
        const res = await unchanged(ts, () => new Agent(ts.url).get(req.url));
        expect(res.status, name).to.equal(303);
        const back = location(res, ts.url);
        expect(back.origin + back.pathname).to.equal(site.redirectUri);
        expect(back.searchParams.get('error'), name).to.equal('invalid_request');
        expect(back.searchParams.get('code')).to.equal(null);
      }
      // Pushed first (the request object holds it as text), then used at /auth: the same answer.
      const pushed = await client.buildAuthorizationUrlWithPAR(config, {
        redirect_uri: site.redirectUri,
        scope: 'openid',
        state: 'a\u0000b',
        code_challenge: 'x'.repeat(43),
        code_challenge_method: 'S256',
      });
      const res = await new Agent(ts.url).get(pushed);
      expect(res.status).to.equal(303);
      expect(location(res, ts.url).searchParams.get('error')).to.equal('invalid_request');
    });

    it('answers a garbage resume uid with an error page', async () => {
      const html = await unchanged(ts, async () => expectPage(await new Agent(ts.url).get(`/auth/${randomBytes(16).toString('hex')}`), 400));
      expect(alertOf(html)).to.not.equal('');
    });
  });

  it('answers an unknown address with 404 not_found, as JSON for an API caller and as a page for a browser', async () => {
    for (const path of ['/admin/api/nonexistent', '/api/nowhere', '/token/nowhere']) {
      const res = await fetch(`${ts.url}${path}`, { headers: { accept: 'application/json', authorization: `Bearer ${ts.config.secrets.operatorToken}` } });
      expect(res.status, path).to.equal(404);
      expect(((await res.json()) as { error: string }).error, path).to.equal('not_found');
    }
    expect((await expectPage(await new Agent(ts.url).get('/nowhere'), 404)).length).to.be.above(0);
  });

  it('refuses a lone UTF-16 surrogate in a JSON body with a 400 naming the field, and changes nothing', async () => {
    const card = await issueTestCard(ts);
    const raw = (path: string, body: string, headers: Record<string, string> = {}) =>
      fetch(`${ts.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
    const operator = { authorization: `Bearer ${ts.config.secrets.operatorToken}` };
    for (const [path, body, field, headers] of [
      [`/admin/api/cards/${card.cardId}/block`, '{"reason":"bad \\ud800 reason"}', 'reason', operator],
      ['/api/cards/lost', `{"card_number":"${card.number}","password":"\\udfff"}`, 'password', {}],
      ['/api/applications', '{"legal_name":"Kim \\ud800","birthdate":"1990-01-01"}', 'legal_name', {}],
    ] as const) {
      const res = await raw(path, body, headers);
      expect(res.status, path).to.equal(400);
      expect(((await res.json()) as { fields: Record<string, string> }).fields, path).to.have.property(field);
    }
    expect((await ts.db('cards').where({ id: card.cardId }).first()).status).to.equal('active');
  });

  it('tells a JSON API caller what is wrong with a body it cannot read: broken JSON, a bare value, an unknown encoding', async () => {
    const card = await issueTestCard(ts);
    const operator = { authorization: `Bearer ${ts.config.secrets.operatorToken}` };
    const cases: Array<[string, string, Record<string, string>, number, string, RegExp]> = [
      ['/api/applications', '{"legal_name":', {}, 400, 'invalid_request', /not valid JSON/],
      ['/api/applications', 'null', {}, 400, 'invalid_request', /JSON object/],
      [`/admin/api/cards/${card.cardId}/block`, '{"reason": "stolen",}', operator, 400, 'invalid_request', /not valid JSON/],
      ['/api/applications', '{}', { 'content-encoding': 'compress-me' }, 415, 'unsupported_media_type', /Content-Encoding/],
      // Said to be compressed, and not: zlib's error had no status and was answered as the server's own (500).
      ['/api/applications', '{"legal_name":"Kim"}', { 'content-encoding': 'gzip' }, 400, 'invalid_request', /decompressed/],
      ['/api/applications', '{"legal_name":"Kim"}', { 'content-encoding': 'br' }, 400, 'invalid_request', /decompressed/],
    ];
    await unchanged(ts, async () => {
      for (const [path, body, headers, status, code, description] of cases) {
        const res = await fetch(`${ts.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
        const json = (await res.json()) as { error: string; error_description: string };
        expect(res.status, `${path} ${body}`).to.equal(status);
        expect(json.error, `${path} ${body}`).to.equal(code);
        expect(json.error_description, `${path} ${body}`).to.match(description);
      }
      // A browser's form, the same: a 400 page saying so.
      const form = await fetch(`${ts.url}/apply`, { method: 'POST', headers: { 'content-type': FORM, 'content-encoding': 'deflate' }, body: 'legal_name=Kim' });
      expect(form.status).to.equal(400);
      expect(await form.text()).to.include('The body could not be decompressed as its Content-Encoding says.');
    });
  });

  describe('/token', () => {
    function token(body: string | Uint8Array<ArrayBuffer>, headers: Record<string, string> = {}): Promise<Response> {
      return new Agent(ts.url).request('/token', {
        method: 'POST',
        headers: { 'content-type': FORM, authorization: basic(site), ...headers },
        body,
      });
    }

    it('refuses a request without grant_type [invalid_request]', async () => {
      const body = await unchanged(ts, async () => expectOAuthError(await token(''), 400, 'invalid_request'));
      expect(body.error_description).to.include('grant_type');
    });

    it('refuses an unknown grant_type [unsupported_grant_type]', async () => {
      await unchanged(ts, async () => expectOAuthError(await token('grant_type=urn%3Aexample%3Amagic'), 400, 'unsupported_grant_type'));
    });

    it('refuses a code or refresh token holding a NUL character [invalid_grant], and introspects or revokes nothing', async () => {
      await unchanged(ts, async () => {
        expectOAuthError(await token(`grant_type=authorization_code&code=abc%00&redirect_uri=${encodeURIComponent(site.redirectUri)}&code_verifier=${client.randomPKCECodeVerifier()}`), 400, 'invalid_grant');
        expectOAuthError(await token('grant_type=refresh_token&refresh_token=x%00y'), 400, 'invalid_grant');
        for (const path of ['/token/introspection', '/token/revocation']) {
          const res = await new Agent(ts.url).request(path, { method: 'POST', headers: { 'content-type': FORM, authorization: basic(site) }, body: 'token=x%00' });
          expect(res.status, path).to.equal(200);
        }
      });
    });

    it('refuses a garbage code [invalid_grant]', async () => {
      const body = new URLSearchParams({
        grant_type: 'authorization_code',
        code: randomBytes(32).toString('base64url'),
        redirect_uri: site.redirectUri,
        code_verifier: client.randomPKCECodeVerifier(),
      });
      await unchanged(ts, async () => expectOAuthError(await token(body.toString()), 400, 'invalid_grant'));
    });

    it('refuses a real code without its code_verifier and issues no token [invalid_grant]', async () => {
      const req = await authRequest(config, site);
      const result = await runLogin(new Agent(ts.url), req.url, card);
      if (result.kind !== 'redirect') throw new Error(`login failed: ${result.status}`);
      const code = result.url.searchParams.get('code')!;
      expect(code).to.be.a('string');
      const body = new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: site.redirectUri });
      const before = await snapshot(ts);
      await expectOAuthError(await token(body.toString()), 400, 'invalid_grant');
      const after = await snapshot(ts);
      expect(after.payloads.AccessToken ?? 0).to.equal(before.payloads.AccessToken ?? 0);
      expect(after.payloads.RefreshToken ?? 0).to.equal(before.payloads.RefreshToken ?? 0);
    });

    it('refuses a wrong client secret [invalid_client]', async () => {
      const body = new URLSearchParams({ grant_type: 'authorization_code', code: 'x', redirect_uri: site.redirectUri, code_verifier: 'y' });
      await unchanged(ts, async () => expectOAuthError(await token(body.toString(), { authorization: basic(site, 'not-the-secret') }), 401, 'invalid_client'));
    });

    it('refuses a request without any client authentication', async () => {
      await unchanged(ts, async () => {
        const res = await new Agent(ts.url).request('/token', {
          method: 'POST',
          headers: { 'content-type': FORM },
          body: 'grant_type=authorization_code&code=x',
        });
        const body = await expectOAuthError(res, 400, 'invalid_request');
        expect(body.error_description).to.match(/client authentication/);
      });
    });

    it('refuses a JSON body with nested objects and arrays', async () => {
      await unchanged(ts, async () =>
        expectOAuthError(
          await token(JSON.stringify({ grant_type: { nested: ['authorization_code'] }, code: ['a', 'b'] }), { 'content-type': 'application/json' }),
          400,
          'invalid_request',
        ),
      );
    });

    it('refuses repeated parameters', async () => {
      await unchanged(ts, async () =>
        expectOAuthError(await token('grant_type=authorization_code&code=a&code=b&code_verifier=x'), 400, 'invalid_request'),
      );
    });

    it('refuses an oversized body (100 KB) before reading a client or a code [invalid_request]', async () => {
      const body = await unchanged(ts, async () => expectOAuthError(await token(`grant_type=authorization_code&code=${'a'.repeat(100_000)}`), 400, 'invalid_request'));
      expect(body.error_description).to.equal('failed to parse the request body');
    });

    it('refuses a code of invalid UTF-8 [invalid_grant], never a 500', async () => {
      const bytes = Buffer.concat([Buffer.from(`grant_type=authorization_code&redirect_uri=${encodeURIComponent(site.redirectUri)}&code_verifier=${client.randomPKCECodeVerifier()}&code=`), Buffer.from([0xff, 0xfe, 0xc3])]);
      await unchanged(ts, async () => expectOAuthError(await token(new Uint8Array(bytes) as Uint8Array<ArrayBuffer>), 400, 'invalid_grant'));
    });
  });

  describe('/request (pushed authorization requests)', () => {
    function par(body: string, headers: Record<string, string> = {}): Promise<Response> {
      return new Agent(ts.url).request('/request', {
        method: 'POST',
        headers: { 'content-type': FORM, authorization: basic(site), ...headers },
        body,
      });
    }

    it('refuses response_type=token and stores no request', async () => {
      const body = new URLSearchParams({
        client_id: site.clientId,
        response_type: 'token',
        redirect_uri: site.redirectUri,
        scope: 'openid',
        code_challenge: 'x'.repeat(43),
        code_challenge_method: 'S256',
      });
      await unchanged(ts, async () => expectOAuthError(await par(body.toString()), 400, 'unsupported_response_type'));
    });

    it('refuses an unregistered redirect_uri and stores no request', async () => {
      const body = new URLSearchParams({
        client_id: site.clientId,
        response_type: 'code',
        redirect_uri: 'https://evil.example.test/cb',
        scope: 'openid',
        code_challenge: 'x'.repeat(43),
        code_challenge_method: 'S256',
      });
      await unchanged(ts, async () => {
        const json = await expectOAuthError(await par(body.toString()), 400, 'invalid_request');
        expect(json.error_description).to.match(/redirect_uri/);
        expect(json).to.not.have.property('request_uri');
      });
    });

    it('refuses a request without client authentication', async () => {
      const body = new URLSearchParams({ client_id: site.clientId, response_type: 'code', redirect_uri: site.redirectUri });
      await unchanged(ts, async () => {
        const res = await new Agent(ts.url).request('/request', { method: 'POST', headers: { 'content-type': FORM }, body: body.toString() });
        await expectOAuthError(res, 401, 'invalid_client');
      });
    });

    it('refuses a JSON body', async () => {
      await unchanged(ts, async () =>
        expectOAuthError(await par(JSON.stringify({ client_id: { a: 1 }, response_type: ['code'] }), { 'content-type': 'application/json' }), 400, 'invalid_request'),
      );
    });
  });

  describe('/token/introspection and /token/revocation', () => {
    for (const path of ['/token/introspection', '/token/revocation']) {
      it(`refuses ${path} without client authentication`, async () => {
        await unchanged(ts, async () => {
          const res = await new Agent(ts.url).request(path, { method: 'POST', headers: { 'content-type': FORM }, body: 'token=abc' });
          expect((await expectOAuthError(res, 400, 'invalid_request')).error_description).to.match(/client authentication/);
        });
      });

      it(`refuses ${path} with a wrong client secret [invalid_client]`, async () => {
        await unchanged(ts, async () => {
          const res = await new Agent(ts.url).request(path, {
            method: 'POST',
            headers: { 'content-type': FORM, authorization: basic(site, 'wrong') },
            body: 'token=abc',
          });
          await expectOAuthError(res, 401, 'invalid_client');
        });
      });
    }
  });

  describe('/interaction/:uid/login', () => {
    it('answers an oversized body (100 KB) with the 413 page and leaves the sign-in usable', async () => {
      const { agent, path, csrf } = await onLoginPage();
      const html = await unchanged(ts, async () =>
        expectPage(await agent.post(`${path}/login`, { csrf, card_number: card.number, password: 'x'.repeat(100 * 1024) }), 413),
      );
      expect(alertOf(html)).to.equal('The request body is larger than this server accepts.');
      expect(html).to.not.include('x'.repeat(100));
      // The refusal touched nothing: the same page still logs the holder in.
      const ok = await agent.post(`${path}/login`, { csrf, card_number: card.number, password: card.password });
      expect(ok.status).to.equal(200);
      expect(await ok.text()).to.include(`${path}/confirm"`);
    });

    it('refuses a JSON body with nested objects and arrays in its fields with the login page, field by field', async () => {
      const { agent, path, csrf } = await onLoginPage();
      const html = await unchanged(ts, async () =>
        expectPage(
          await rawPost(agent, `${path}/login`, JSON.stringify({ csrf, card_number: { digits: [4, 1, 1, 1] }, password: ['a', 'b'] }), 'application/json'),
          400,
        ),
      );
      expect(alertOf(html)).to.equal('Some fields could not be read.');
      expect(html.match(/Send this field once, as text\./g)).to.have.length(2);
      expect(refilledCardNumber(html)).to.equal('');
    });

    it('refuses bracketed form fields that would parse as objects', async () => {
      const { agent, path, csrf } = await onLoginPage();
      const body = `csrf=${encodeURIComponent(csrf)}&card_number[a]=1&password[]=x`;
      const html = await unchanged(ts, async () => expectPage(await rawPost(agent, `${path}/login`, body), 400));
      expect(html).to.include('Send this field once, as text.');
    });

    it('refuses a card number sent twice, and refills nothing ambiguous', async () => {
      const { agent, path, csrf } = await onLoginPage();
      const body = new URLSearchParams([
        ['csrf', csrf],
        ['card_number', card.number],
        ['card_number', '4111111111111111'],
        ['password', card.password],
      ]);
      const html = await unchanged(ts, async () => expectPage(await rawPost(agent, `${path}/login`, body.toString()), 400));
      expect(alertOf(html)).to.equal('Some fields could not be read.');
      expect(html).to.include('Send this field once, as text.');
      expect(refilledCardNumber(html)).to.equal('');
    });

    it('refuses invalid UTF-8 in the password with a clear message and refills the readable card number', async () => {
      const { agent, path, csrf } = await onLoginPage();
      const body = Buffer.concat([
        Buffer.from(`csrf=${encodeURIComponent(csrf)}&card_number=${card.number}&password=pa`),
        Buffer.from([0xc3, 0x28]),
        Buffer.from('ss'),
      ]);
      const html = await unchanged(ts, async () => expectPage(await rawPost(agent, `${path}/login`, body), 400));
      expect(alertOf(html)).to.equal('Some fields could not be read.');
      expect(html).to.include('Contains characters that are not allowed.');
      expect(refilledCardNumber(html)).to.equal(card.number);
      expect(html).to.not.include('\uFFFD');
    });

    it('refuses invalid UTF-8 in the card number and does not refill it', async () => {
      const { agent, path, csrf } = await onLoginPage();
      const body = Buffer.concat([
        Buffer.from(`csrf=${encodeURIComponent(csrf)}&card_number=4111`),
        Buffer.from([0xc3, 0x28, 0xff]),
        Buffer.from(`&password=${encodeURIComponent(card.password)}`),
      ]);
      const html = await unchanged(ts, async () => expectPage(await rawPost(agent, `${path}/login`, body), 400));
      expect(alertOf(html)).to.equal('Some fields could not be read.');
      expect(refilledCardNumber(html)).to.equal('');
      expect(html).to.not.include('\uFFFD');
    });

    it('treats percent-encoded invalid UTF-8 as a wrong password, never a crash', async () => {
      const { agent, path, csrf } = await onLoginPage();
      const body = `csrf=${encodeURIComponent(csrf)}&card_number=${card.number}&password=%C3%28`;
      const before = await snapshot(ts);
      const html = await expectPage(await rawPost(agent, `${path}/login`, body), 401);
      // A wrong password is audited for its holder (card.password_failed); nothing else changes.
      expect(await snapshot(ts), 'database rows after the refused request').to.deep.equal({ ...before, audit: before.audit + 1 });
      expect(alertOf(html)).to.equal('The card number or password is not correct. 5 wrong passwords lock the card for a while.');
    });

    for (const [name, ch] of [
      ['a NUL', '\u0000'],
      ['an ESC', '\u001b'],
    ] as const) {
      it(`refuses ${name} control character in the password and refills the card number`, async () => {
        const { agent, path, csrf } = await onLoginPage();
        const html = await unchanged(ts, async () =>
          expectPage(await agent.post(`${path}/login`, { csrf, card_number: card.number, password: `${card.password}${ch}` }), 400),
        );
        expect(alertOf(html)).to.equal('Some fields could not be read.');
        expect(html).to.include('Contains characters that are not allowed.');
        expect(refilledCardNumber(html)).to.equal(card.number);
      });

      it(`refuses ${name} control character in the card number and does not echo it`, async () => {
        const { agent, path, csrf } = await onLoginPage();
        const html = await unchanged(ts, async () =>
          expectPage(await agent.post(`${path}/login`, { csrf, card_number: `4111${ch}1111`, password: card.password }), 400),
        );
        expect(refilledCardNumber(html)).to.equal('');
        expect(html).to.not.include(ch);
      });
    }

    it('escapes markup in a refilled card number', async () => {
      const { agent, path, csrf } = await onLoginPage();
      const html = await unchanged(ts, async () =>
        expectPage(await agent.post(`${path}/login`, { csrf, card_number: '"><script>alert(1)</script>', password: 'x' }), 401),
      );
      expect(html).to.not.include('<script>alert(1)');
      expect(refilledCardNumber(html)).to.equal('&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;');
    });

    it('refuses a too-long password before checking it', async () => {
      const { agent, path, csrf } = await onLoginPage();
      const html = await unchanged(ts, async () =>
        expectPage(await agent.post(`${path}/login`, { csrf, card_number: card.number, password: 'p'.repeat(5000) }), 400),
      );
      expect(alertOf(html)).to.equal('That password is too long.');
      expect(refilledCardNumber(html)).to.equal(card.number);
    });

    it('refuses a login without the csrf field with 403', async () => {
      const { agent, path } = await onLoginPage();
      const html = await unchanged(ts, async () =>
        expectPage(await agent.post(`${path}/login`, { card_number: card.number, password: card.password }), 403),
      );
      expect(alertOf(html)).to.match(/form has expired or was not sent from this site/);
    });

    it('refuses a login with a wrong csrf token with 403, even with the right password', async () => {
      const { agent, path, csrf } = await onLoginPage();
      const wrong = `${csrf.slice(0, -2)}${csrf.endsWith('AA') ? 'BB' : 'AA'}`;
      await unchanged(ts, async () => expectPage(await agent.post(`${path}/login`, { csrf: wrong, card_number: card.number, password: card.password }), 403));
    });

    it('refuses a csrf token minted for another sign-in of the same browser with 403', async () => {
      const first = await onLoginPage();
      const second = await onLoginPage(first.agent);
      expect(second.csrf).to.not.equal(first.csrf);
      await unchanged(ts, async () =>
        expectPage(await second.agent.post(`${second.path}/login`, { csrf: first.csrf, card_number: card.number, password: card.password }), 403),
      );
    });

    it('refuses a forged interaction uid (the cookie names another sign-in) with 400', async () => {
      const { agent, csrf } = await onLoginPage();
      const forged = `/interaction/${randomBytes(21).toString('base64url')}`;
      const html = await unchanged(ts, async () =>
        expectPage(await agent.post(`${forged}/login`, { csrf, card_number: card.number, password: card.password }), 400),
      );
      expect(alertOf(html)).to.match(/does not belong to your current sign-in/);
      await expectPage(await agent.get(forged), 400);
    });

    it('answers a login without any cookies with a 400 page that says what happened', async () => {
      const { path, csrf } = await onLoginPage();
      const stranger = new Agent(ts.url);
      const html = await unchanged(ts, async () =>
        expectPage(await stranger.post(`${path}/login`, { csrf, card_number: card.number, password: card.password }), 400),
      );
      expect(alertOf(html)).to.match(/expired or your browser did not keep its cookies/);
      expect(alertOf(await expectPage(await stranger.get(path), 400))).to.match(/expired/);
    });

    it('answers an interaction page that never was, or a uid no interaction has, with the same 400 page', async () => {
      const stranger = new Agent(ts.url);
      for (const uid of ['not-an-interaction', 'x'.repeat(300), "a'%20OR%201=1--", '%00']) {
        const html = await unchanged(ts, async () => expectPage(await stranger.get(`/interaction/${uid}`), 400));
        expect(alertOf(html), uid).to.match(/expired or your browser did not keep its cookies/);
        await unchanged(ts, async () => expectPage(await stranger.post(`/interaction/${uid}/confirm`, { csrf: 'x' }), 400));
      }
    });

    it('refuses a login whose csrf cookie is missing with 403', async () => {
      const { agent, path, csrf } = await onLoginPage();
      agent.cookies.delete('cc.csrf');
      agent.cookies.delete('cc.csrf.sig');
      await unchanged(ts, async () => expectPage(await agent.post(`${path}/login`, { csrf, card_number: card.number, password: card.password }), 403));
    });

    it('refuses a malformed JSON body with a 400 page', async () => {
      const { agent, path } = await onLoginPage();
      await unchanged(ts, async () => expectPage(await rawPost(agent, `${path}/login`, '{"csrf": ', 'application/json'), 400));
    });

    it('refuses a body of an unsupported content type without logging anyone in', async () => {
      const { agent, path, csrf } = await onLoginPage();
      const body = `csrf=${csrf}&card_number=${card.number}&password=${card.password}`;
      await unchanged(ts, async () => expectPage(await rawPost(agent, `${path}/login`, body, 'text/plain'), 403));
    });
  });

  describe('unknown paths', () => {
    for (const path of ['/nothing-here', '/interaction', '/interaction/abc/def/ghi', '/session/end/abc', '/.well-known/nothing']) {
      it(`answers ${path} with the 404 page`, async () => {
        const html = await unchanged(ts, async () => expectPage(await new Agent(ts.url).request(path, { headers: { accept: 'text/html' } }), 404));
        expect(html).to.include('Page not found');
      });
    }

    it('gives the 404 page of a card page a way on to the card pages, in the page\'s language [no dead end]', async () => {
      const html = await expectPage(await new Agent(ts.url).request('/card/statements', { headers: { accept: 'text/html' } }), 404);
      expect(html).to.include('<a href="/card/account" id="way-on">Go to your card pages</a>');
      const ko = await expectPage(await new Agent(ts.url).request('/card/statements', { headers: { accept: 'text/html', 'accept-language': 'ko' } }), 404);
      expect(ko).to.include('<a href="/card/account" id="way-on">내 카드 페이지로 가기</a>');
      // The operator's console is not the holder's: its pages get no link to the card pages.
      const console = await expectPage(await new Agent(ts.url).request('/admin/nothing-here', { headers: { accept: 'text/html' } }), 404);
      expect(console).to.not.include('id="way-on"');
    });

    it('answers a wrong method on a provider endpoint with the 404 page', async () => {
      await unchanged(ts, async () => expectPage(await new Agent(ts.url).request('/auth', { method: 'PUT', headers: { accept: 'text/html' } }), 404));
    });

    it('answers an API client asking for JSON with a JSON 404', async () => {
      const res = await new Agent(ts.url).request('/nothing-here', { headers: { accept: 'application/json' } });
      await expectOAuthError(res, 404);
    });
  });
});
