import { expect } from 'chai';
import type { Approval } from '../../src/db/approvals.ts';
import { registerTestSite, type TestSite } from '../helpers/fixtures.ts';
import type { TestServer } from '../helpers/server.ts';
import { approveFor, basicAuth, cardWithLimit, startLedgerServer } from '../ledger/fixtures.ts';

/**
 * RFC 9110 §15.5.6: a member-site API address asked with a method it does not take is 405 Method Not Allowed with an
 * Allow header naming those it does, not 404 (the address exists), and changes nothing.
 */
describe('the member-site API (/api/approvals, /api/settlements) answering a method it does not take', () => {
  let ts: TestServer;
  let site: TestSite;
  let approval: Approval;

  before(async () => {
    ts = await startLedgerServer();
    site = await registerTestSite(ts);
    approval = await approveFor(ts, await cardWithLimit(ts, 100_000), site, 1_000, 'Item');
  });
  after(() => ts.stop());

  async function call(method: string, path: string) {
    const res = await fetch(`${ts.url}${path}`, {
      method,
      headers: { authorization: basicAuth(site), 'idempotency-key': `k-${method}-${path}`, ...(method === 'GET' || method === 'HEAD' ? {} : { 'content-type': 'application/json' }) },
      ...(method === 'GET' || method === 'HEAD' ? {} : { body: '{}' }),
    });
    const text = await res.text();
    return { status: res.status, allow: res.headers.get('allow'), type: res.headers.get('content-type') ?? '', text };
  }

  it('answers 405 with Allow and a JSON error for each address, and the approval is untouched', async () => {
    const no = approval.approvalNo;
    const cases: Array<[string, string, string]> = [
      ['DELETE', '/api/approvals', 'GET, HEAD'],
      ['POST', '/api/approvals', 'GET, HEAD'],
      ['DELETE', `/api/approvals/${no}`, 'GET, HEAD'],
      ['PUT', `/api/approvals/${no}`, 'GET, HEAD'],
      ['GET', `/api/approvals/${no}/capture`, 'POST'],
      ['PUT', `/api/approvals/${no}/void`, 'POST'],
      ['DELETE', `/api/approvals/${no}/refund`, 'POST'],
      ['POST', '/api/settlements/2026-11', 'GET, HEAD'],
    ];
    for (const [method, path, allow] of cases) {
      const res = await call(method, path);
      const what = `${method} ${path}`;
      expect(res.status, what).to.equal(405);
      expect(res.allow, what).to.equal(allow);
      expect(res.type, what).to.include('application/json');
      expect(JSON.parse(res.text), what).to.deep.equal({
        error: 'method_not_allowed',
        error_description: `${method} is not allowed here; this address takes ${allow}.`,
      });
    }
    expect((await ts.db('approvals').where({ approval_no: no }).first()).status).to.equal('approved');
    expect(await ts.db('idempotency_keys').where({ client_id: site.clientId }).first()).to.equal(undefined);
  });

  it('answers OPTIONS and a malformed body the same way, before reading the body or the credentials', async () => {
    const options = await fetch(`${ts.url}/api/approvals/${approval.approvalNo}/capture`, { method: 'OPTIONS' });
    expect(options.status).to.equal(405);
    expect(options.headers.get('allow')).to.equal('POST');
    const garbage = await fetch(`${ts.url}/api/approvals/${approval.approvalNo}`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/json' },
      body: '{"amount": ',
    });
    expect(garbage.status).to.equal(405);
    expect(garbage.headers.get('allow')).to.equal('GET, HEAD');
    expect(((await garbage.json()) as { error: string }).error).to.equal('method_not_allowed');
  });

  it('still answers 404 for an address the API does not have, and the right method as before', async () => {
    const missing = await call('GET', '/api/nothing-here');
    expect(missing.status).to.equal(404);
    expect(missing.allow).to.equal(null);
    const ok = await call('GET', `/api/approvals/${approval.approvalNo}`);
    expect(ok.status).to.equal(200);
    expect(JSON.parse(ok.text)).to.include({ approval_no: approval.approvalNo, status: 'approved' });
  });
});
