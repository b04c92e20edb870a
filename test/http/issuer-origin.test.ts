import { request } from 'node:http';
import { expect } from 'chai';
import { registerTestSite } from '../helpers/fixtures.ts';
import { startCardManager, type TestServer } from '../helpers/server.ts';

interface Raw {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/**
 * A request with the Host header and request target given as is (fetch sets Host itself), as a cache or CDN in front
 * would pass on a forged one.
 */
function raw(ts: TestServer, target: string, headers: Record<string, string>, method = 'GET', body?: string): Promise<Raw> {
  const { hostname, port } = new URL(ts.url);
  return new Promise((resolve, reject) => {
    const req = request({ hostname, port, method, path: target, headers, setHost: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Everything an answer says: its status line's headers (Location, Link, …) and its body. */
const said = (r: Raw) => `${JSON.stringify(r.headers)}\n${r.body}`;

const DISCOVERY = '/.well-known/openid-configuration';

describe('absolute URLs name the issuer, whatever Host the request came with [cache poisoning]', () => {
  describe('without trustProxy (Host only)', () => {
    let ts: TestServer;
    before(async () => {
      ts = await startCardManager({ registration: { enabled: true } });
    });
    after(() => ts.stop());

    it('answers discovery with a forged Host naming only the issuer', async () => {
      const res = await raw(ts, DISCOVERY, { host: 'evil.example' });
      expect(res.status).to.equal(200);
      expect(said(res)).to.not.include('evil.example');
      const doc = JSON.parse(res.body) as Record<string, unknown>;
      expect(doc.issuer).to.equal(ts.url);
      expect(doc.token_endpoint).to.equal(`${ts.url}/token`);
      expect(doc.jwks_uri).to.equal(`${ts.url}/jwks`);
    });

    it('ignores X-Forwarded-Host, which only a trusted proxy may send', async () => {
      const res = await raw(ts, DISCOVERY, { host: new URL(ts.url).host, 'x-forwarded-host': 'evil.example' });
      expect(res.status).to.equal(200);
      expect(said(res)).to.not.include('evil.example');
    });

    it('names the issuer for a request in absolute form (GET http://evil.example/… HTTP/1.1)', async () => {
      const res = await raw(ts, `http://evil.example${DISCOVERY}`, { host: 'evil.example' });
      expect(res.status).to.equal(200);
      expect(said(res)).to.not.include('evil.example');
      expect((JSON.parse(res.body) as Record<string, unknown>).token_endpoint).to.equal(`${ts.url}/token`);
    });

    it('answers dynamic registration with a registration_client_uri at the issuer', async () => {
      const body = JSON.stringify({ client_name: 'Self-registered shop', scope: 'openid', redirect_uris: ['https://shop.example.test/callback'], token_endpoint_auth_method: 'client_secret_basic' });
      const res = await raw(ts, '/reg', { host: 'evil.example', 'content-type': 'application/json', authorization: `Bearer ${ts.config.secrets.registrationToken!}` }, 'POST', body);
      expect(res.status, res.body).to.equal(201);
      expect(said(res)).to.not.include('evil.example');
      expect(String((JSON.parse(res.body) as Record<string, unknown>).registration_client_uri)).to.match(new RegExp(`^${ts.url}/reg/`));
    });

    it('shows the login page of an authorization request and the sign-out form with nothing of the forged Host', async () => {
      const site = await registerTestSite(ts);
      const auth = new URLSearchParams({
        client_id: site.clientId,
        redirect_uri: site.redirectUri,
        response_type: 'code',
        scope: 'openid',
        code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeKb8tHsNGrCoswsU3o-w',
        code_challenge_method: 'S256',
      });
      const login = await raw(ts, `/auth?${auth}`, { host: 'evil.example', accept: 'text/html' });
      expect(login.status).to.equal(200);
      expect(said(login)).to.not.include('evil.example');
      const signOut = await raw(ts, '/session/end', { host: 'evil.example', accept: 'text/html' });
      expect(signOut.status).to.equal(200);
      expect(signOut.body).to.include(`${ts.url}/session/end/confirm`);
      expect(said(signOut)).to.not.include('evil.example');
    });

    it('answers health, readiness and a request by the instance’s own address as before', async () => {
      for (const path of ['/healthz', '/readyz']) expect((await raw(ts, path, { host: '10.0.0.5:3000' })).status, path).to.equal(200);
      const res = await raw(ts, DISCOVERY, { host: new URL(ts.url).host });
      expect((JSON.parse(res.body) as Record<string, unknown>).authorization_endpoint).to.equal(`${ts.url}/auth`);
    });
  });

  describe('with trustProxy (X-Forwarded-Host and X-Forwarded-Proto read)', () => {
    let ts: TestServer;
    before(async () => {
      ts = await startCardManager({ trustProxy: true });
    });
    after(() => ts.stop());

    it('answers discovery with a forged X-Forwarded-Host, Host or X-Forwarded-Proto naming only the issuer', async () => {
      for (const headers of [
        { host: new URL(ts.url).host, 'x-forwarded-host': 'evil.example' },
        { host: 'evil.example', 'x-forwarded-host': 'evil.example, cards.example.test' },
        { host: 'evil.example' },
        { host: new URL(ts.url).host, 'x-forwarded-proto': 'https' },
      ] as Record<string, string>[]) {
        const res = await raw(ts, DISCOVERY, headers);
        expect(res.status, JSON.stringify(headers)).to.equal(200);
        expect(said(res), JSON.stringify(headers)).to.not.include('evil.example');
        expect((JSON.parse(res.body) as Record<string, unknown>).token_endpoint, JSON.stringify(headers)).to.equal(`${ts.url}/token`);
      }
    });
  });

  describe('an https issuer behind a load balancer', () => {
    let ts: TestServer;
    before(async () => {
      ts = await startCardManager({ issuer: 'https://cards.example.test', trustProxy: true });
    });
    after(() => ts.stop());

    it('answers discovery over https (X-Forwarded-Proto) at any Host or X-Forwarded-Host with the issuer’s addresses', async () => {
      for (const headers of [
        { host: '10.0.0.5:3000', 'x-forwarded-proto': 'https' },
        { host: 'cards.example.test', 'x-forwarded-proto': 'https', 'x-forwarded-host': 'evil.example' },
      ] as Record<string, string>[]) {
        const res = await raw(ts, DISCOVERY, headers);
        expect(res.status, JSON.stringify(headers)).to.equal(200);
        expect(said(res)).to.not.include('evil.example').and.not.include('10.0.0.5');
        expect((JSON.parse(res.body) as Record<string, unknown>).jwks_uri).to.equal('https://cards.example.test/jwks');
      }
    });

    it('still refuses discovery it sees as plain http', async () => {
      expect((await raw(ts, DISCOVERY, { host: 'cards.example.test' })).status).to.equal(400);
    });
  });

  describe('a forged Host is logged once per request, at warn, as sent but cut short and printable', () => {
    let ts: TestServer;
    const lines: string[] = [];
    before(async () => {
      ts = await startCardManager({ trustProxy: true, logLevel: 'info' }, { logStream: { write: (l: string) => void lines.push(l) } });
    });
    after(() => ts.stop());

    type Line = Record<string, unknown>;
    /** The log lines of one request (by its X-Request-Id). */
    const linesOf = (id: string): Line[] => lines.map((l) => JSON.parse(l) as Line).filter((l) => l.requestId === id);
    const forged = (id: string) => linesOf(id).filter((l) => l.msg === 'forged Host answered as the issuer');
    let n = 0;
    const nextId = () => `forged-host-${++n}-${Date.now()}`;

    it('logs a Host, X-Forwarded-Host or absolute-form target naming another host, with what was sent, once', async () => {
      const id = nextId();
      const res = await raw(ts, `http://evil.example/some/path?code=SECRET-CODE${DISCOVERY}`, { host: 'evil.example', 'x-forwarded-host': 'other.example', 'x-request-id': id });
      expect(res.status).to.be.below(500);
      const logged = forged(id);
      expect(logged).to.have.length(1);
      expect(logged[0]!.level).to.equal(40);
      expect(logged[0]).to.include({ host: 'evil.example', forwardedHost: 'other.example', target: 'http://evil.example' });
      // The target's path and query (a code, a state) are never logged, nor anything of them.
      expect(lines.filter((l) => l.includes(id)).join('\n')).to.not.include('SECRET-CODE');
    });

    it('cuts a long value to 100 characters and shows control and non-ASCII characters as escapes', async () => {
      const id = nextId();
      // Node's parser takes a tab and bytes 0x80-0xff in a header value (latin1), refusing other control characters.
      await raw(ts, DISCOVERY, { host: `${'a'.repeat(300)}.example`, 'x-forwarded-host': 'e\u00e9v\til.example\\x0a', 'x-request-id': id });
      const [line] = forged(id);
      expect(String(line!.host)).to.equal(`${'a'.repeat(100)}…`);
      // A backslash sent is escaped too: a sent "\\x0a" must not read as an escaped line break.
      expect(line!.forwardedHost).to.equal('e\\xe9v\\x09il.example\\x5cx0a');
    });

    it('logs nothing for the issuer\'s own Host, nor for health, readiness and metrics by an instance address', async () => {
      const issuerHost = new URL(ts.url).host;
      for (const [path, headers] of [
        [DISCOVERY, { host: issuerHost }],
        [DISCOVERY, { host: issuerHost, 'x-forwarded-host': issuerHost }],
        ['/healthz', { host: '10.0.0.5:3000' }],
        ['/readyz', { host: '10.0.0.5:3000' }],
      ] as Array<[string, Record<string, string>]>) {
        const id = nextId();
        await raw(ts, path, { ...headers, 'x-request-id': id });
        expect(forged(id), `${path} ${JSON.stringify(headers)}`).to.have.length(0);
        expect(linesOf(id).length, 'the request itself is logged').to.be.greaterThan(0);
      }
    });
  });
});
