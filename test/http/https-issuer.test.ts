import { expect } from 'chai';
import { registerTestSite } from '../helpers/fixtures.ts';
import { startCardManager, type TestServer } from '../helpers/server.ts';

/**
 * An https issuer behind a load balancer that terminates TLS: the instance sees plain http, and knows the client
 * came over https only from X-Forwarded-Proto (read with trustProxy on, as production has it).
 */
describe('an https issuer behind a load balancer', () => {
  let ts: TestServer;
  const lines: string[] = [];

  before(async () => {
    ts = await startCardManager({ issuer: 'https://cards.example.test', trustProxy: true, logLevel: 'info' }, { logStream: { write: (l: string) => void lines.push(l) } });
  });
  after(() => ts.stop());

  const overHttps = { 'x-forwarded-proto': 'https' };
  const warnings = () => lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((p) => p.level === 40);

  it('serves the pages and sets Secure cookies when the load balancer says the client came over https', async () => {
    const res = await fetch(`${ts.url}/card/signin`, { headers: overHttps });
    expect(res.status).to.equal(200);
    const cookies = res.headers.getSetCookie();
    expect(cookies).to.not.be.empty;
    for (const c of cookies) expect(c).to.match(/;\s*secure/i);
  });

  it('refuses a page request it sees as plain http (no X-Forwarded-Proto) with a clear 400, sets no cookie, and logs what to fix', async () => {
    const site = await registerTestSite(ts);
    const auth = new URLSearchParams({
      client_id: site.clientId,
      redirect_uri: site.redirectUri,
      response_type: 'code',
      scope: 'openid',
      code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeKb8tHsNGrCoswsU3o-w',
      code_challenge_method: 'S256',
    });
    // Over https (as the load balancer says) the authorization request opens the login page.
    expect((await fetch(`${ts.url}/auth?${auth}`, { headers: overHttps })).status).to.equal(200);
    lines.length = 0;
    for (const path of [`/auth?${auth}`, '/card/signin', '/admin/signin']) {
      const res = await fetch(`${ts.url}${path}`, { headers: { accept: 'text/html' } });
      expect(res.status, path).to.equal(400);
      expect(res.headers.getSetCookie(), path).to.be.empty;
      expect(await res.text(), path).to.include('This card manager answers over https only.');
    }
    const api = await fetch(`${ts.url}/admin/api/sites`, { headers: { authorization: `Bearer ${ts.config.secrets.operatorToken}` } });
    expect(api.status).to.equal(400);
    expect(await api.json()).to.deep.equal({ error: 'https_required', error_description: 'This card manager answers over https only.' });
    const logged = warnings().filter((w) => w.msg === 'request over http while the issuer is https');
    expect(logged).to.have.length(4);
    expect(logged[0]!.hint).to.equal('the load balancer must send X-Forwarded-Proto: https, and trustProxy (TRUST_PROXY) be on');
    expect(lines.join('\n')).to.not.include('Cannot send secure cookie');
  });

  it('keeps health, readiness and metrics open over plain http, for the load balancer and Prometheus reaching an instance', async () => {
    lines.length = 0;
    expect((await fetch(`${ts.url}/healthz`)).status).to.equal(200);
    expect((await fetch(`${ts.url}/readyz`)).status).to.equal(200);
    const metrics = await fetch(`${ts.url}/metrics`, { headers: { authorization: `Bearer ${ts.config.secrets.metricsToken}` } });
    expect(metrics.status).to.equal(200);
    expect(warnings()).to.be.empty;
  });
});
