import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { startCardManager, type TestServer } from '../helpers/server.ts';

/**
 * The operator API's addresses are nobody's business but the operator's: without a valid operator token every request
 * under /admin/api is 401 with WWW-Authenticate, whether the address exists, and whether it takes the method, so that
 * no answer tells a caller which addresses are there. With a token, an address asked with a method it does not take
 * is 405 with Allow (RFC 9110 §15.5.6), and one that does not exist 404.
 */
describe('operator API: what an address answers before and after the token', () => {
  const token = randomBytes(32).toString('base64url');
  let ts: TestServer;

  before(async () => {
    ts = await startCardManager({}, { env: { OPERATOR_TOKEN: token } });
  });
  after(() => ts.stop());

  const ask = (method: string, path: string, authorization?: string) =>
    fetch(`${ts.url}${path}`, {
      method,
      headers: { accept: 'application/json', 'content-type': 'application/json', ...(authorization ? { authorization } : {}) },
      ...(method === 'GET' || method === 'HEAD' ? {} : { body: '{}' }),
    });

  const addresses: Array<[string, string]> = [
    ['POST', '/admin/api/ledger/billing-runs'], // exists, takes POST
    ['GET', '/admin/api/ledger/billing-runs'], // exists, takes only POST
    ['DELETE', '/admin/api/sites'], // exists, takes GET and POST
    ['OPTIONS', '/admin/api/sites'],
    ['HEAD', '/admin/api/ledger/billing-runs'],
    ['GET', '/admin/api/cards/00000000-0000-0000-0000-000000000000/block'],
    ['GET', '/ADMIN/API/ledger/billing-runs'], // the routers match any case
    ['GET', '/admin/api/no-such-thing'],
    ['POST', '/admin/api'],
    ['GET', '/admin/api/'],
  ];

  it('answers 401 with WWW-Authenticate to every request without a valid token, whatever the address and method', async () => {
    for (const authorization of [undefined, 'Bearer wrong-token-of-the-right-sort-0123456789', `Basic ${token}`]) {
      for (const [method, path] of addresses) {
        const res = await ask(method, path, authorization);
        const what = `${method} ${path} (${authorization ?? 'no token'})`;
        expect(res.status, what).to.equal(401);
        expect(res.headers.get('www-authenticate'), what).to.equal('Bearer realm="cybercard-operator"');
        expect(res.headers.get('allow'), what).to.equal(null);
        if (method !== 'HEAD') {
          expect(await res.json(), what).to.deep.equal({ error: 'unauthorized', error_description: 'The operator API needs a valid operator bearer token.' });
        }
      }
    }
  });

  it('answers a method an address does not take 405 with Allow once the token is valid, and an address it lacks 404', async () => {
    const bearer = `Bearer ${token}`;
    const billing = await ask('GET', '/admin/api/ledger/billing-runs', bearer);
    expect(billing.status).to.equal(405);
    expect(billing.headers.get('allow')).to.equal('POST');
    expect(((await billing.json()) as { error: string }).error).to.equal('method_not_allowed');
    const sites = await ask('DELETE', '/admin/api/sites', bearer);
    expect([sites.status, sites.headers.get('allow')]).to.deep.equal([405, 'GET, HEAD, POST']);
    const none = await ask('GET', '/admin/api/no-such-thing', bearer);
    expect([none.status, ((await none.json()) as { error: string }).error]).to.deep.equal([404, 'not_found']);
    expect((await ask('GET', '/admin/api/sites', bearer)).status).to.equal(200);
  });
});
