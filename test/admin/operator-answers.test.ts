import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { issueTestCard, registerTestSite, type TestCard, type TestSite } from '../helpers/fixtures.ts';
import { startCardManager, type TestServer } from '../helpers/server.ts';

type Answer = { error?: string; error_description?: string; fields?: Record<string, string> };

/** Text no operator answer may carry: zod's and node's own wording, or a field named as the code names it. */
const LEAKS = /Invalid input|Invalid option|expected (string|number|one of)|Too (small|big)|Unrecognized key|[<>]=|Unknown field\(s\)|[a-z][A-Z]\w*(?=[:\s"])/;

/** Every refusal of the operator API: one shape, sentences, fields under the request's snake_case names. */
function expectOperatorAnswer(label: string, status: number, body: Answer, expected: { status: number; fields?: Record<string, string | RegExp> }): void {
  expect(status, `${label}: ${JSON.stringify(body)}`).to.equal(expected.status);
  expect(Object.keys(body).filter((k) => !['error', 'error_description', 'fields', 'field_codes'].includes(k)), label).to.deep.equal([]);
  expect(body.error, label).to.match(/^[a-z_]+$/);
  expect(body.error_description, label).to.match(/^[A-Z].*[.!?]$/);
  expect(JSON.stringify(body), label).to.not.match(LEAKS);
  for (const [field, message] of Object.entries(body.fields ?? {})) {
    expect(field, label).to.match(/^[a-z][a-z0-9_]*$/);
    expect(message, `${label} ${field}`).to.match(/^[A-Z].*[.!?)]$/);
  }
  if (expected.fields) {
    expect(Object.keys(body.fields ?? {}), label).to.have.members(Object.keys(expected.fields));
    for (const [field, message] of Object.entries(expected.fields)) {
      if (message instanceof RegExp) expect(body.fields![field], `${label} ${field}`).to.match(message);
      else expect(body.fields![field], `${label} ${field}`).to.equal(message);
    }
  }
}

describe('operator API: every refusal in one language', function () {
  this.timeout(120_000);
  let ts: TestServer;
  let card: TestCard;
  let site: TestSite;
  const nobody = '00000000-0000-4000-8000-000000000000';

  before(async () => {
    ts = await startCardManager();
    card = await issueTestCard(ts);
    site = await registerTestSite(ts);
  });
  after(() => ts.stop());

  async function call(method: string, path: string, body?: unknown): Promise<{ status: number; body: Answer }> {
    const res = await fetch(`${ts.url}/admin/api${path}`, {
      method,
      headers: { authorization: `Bearer ${ts.config.secrets.operatorToken}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    return { status: res.status, body: (await res.json()) as Answer };
  }

  /** What a refused request must leave as it was. */
  async function state() {
    const count = async (table: string) => Number((await ts.db(table).count({ n: '*' }).first())!.n);
    return {
      audit: await count('audit_log'),
      sites: await count('member_sites'),
      repayments: await count('repayments'),
      card: await ts.db('cards').where({ id: card.cardId }).first('status'),
      account: await ts.db('accounts').where({ id: card.accountId }).first('credit_limit', 'email'),
      site: await ts.db('member_sites').where({ client_id: site.clientId }).first('status', 'name'),
    };
  }

  it('names an unknown field, in body or query, the same way on every endpoint', async () => {
    const before = await state();
    const surprise = { surprise: 'Unknown field.' };
    for (const [method, path, body] of [
      ['GET', '/applications?surprise=1'],
      ['POST', `/applications/${nobody}/approve`, { surprise: 1 }],
      ['POST', `/applications/${nobody}/reject`, { reason: 'r', surprise: 1 }],
      ['POST', '/cards/search', { name: 'Kim', surprise: 1 }],
      ['POST', `/cards/${card.cardId}/block`, { reason: 'r', surprise: 1 }],
      ['PUT', `/cards/${card.cardId}/limit`, { credit_limit: 1, reason: 'r', surprise: 1 }],
      ['PUT', `/cards/${card.cardId}/contacts`, { email: 'new@example.test', reason: 'r', surprise: 1 }],
      ['GET', '/sites?surprise=1'],
      ['POST', '/sites', { name: 'S', redirect_uris: ['https://s.example.test/cb'], surprise: 1 }],
      ['PATCH', `/sites/${site.clientId}`, { surprise: 1 }],
      ['POST', `/sites/${site.clientId}/suspend`, { reason: 'r', surprise: 1 }],
      ['POST', `/sites/${site.clientId}/rotate-secret`, { surprise: 1 }],
      ['POST', '/ledger/repayments', { card_id: card.cardId, amount: 1, surprise: 1 }],
      ['POST', '/ledger/billing-runs', { surprise: 1 }],
      ['PUT', `/ledger/cards/${card.cardId}/statement-day`, { statement_day: 7, reason: 'r', surprise: 1 }],
      ['GET', '/ledger/settlements?month=2026-01&surprise=1'],
      ['POST', '/ledger/settlements/close', { month: '2026-01', surprise: 1 }],
    ] as Array<[string, string, unknown?]>) {
      const res = await call(method, path, body);
      expectOperatorAnswer(`${method} ${path}`, res.status, res.body, { status: 400, fields: surprise });
      expect(res.body.error_description).to.equal('Some fields need attention.');
    }
    // A member site's field by the domain's own name is no alias: the API's names are snake_case.
    const camel = await call('POST', '/sites', { name: 'S', redirect_uris: ['https://s.example.test/cb'], contentRating: 19 });
    expect(camel.body.fields).to.deep.equal({ contentRating: 'Unknown field.' });
    expect(await state()).to.deep.equal(before);
  });

  it('says what is missing, of the wrong type or out of range in sentences, under snake_case names', async () => {
    const before = await state();
    const tag = randomBytes(3).toString('hex');
    const shop = { name: 'S', redirect_uris: [`https://s-${tag}.example.test/cb`] };
    for (const [method, path, body, fields] of [
      ['GET', '/applications/xyz', undefined, { application_id: 'Not an application id.' }],
      ['POST', `/applications/${nobody}/approve`, { accept_duplicate: 'yes' }, { accept_duplicate: 'Must be true or false.' }],
      ['POST', `/applications/${nobody}/reject`, {}, { reason: 'Say why (it goes into the audit trail).' }],
      ['GET', '/cards/xyz', undefined, { card_id: 'Not a card id.' }],
      ['POST', `/cards/${card.cardId}/block`, {}, { reason: 'Say why (it goes into the audit trail).' }],
      ['PUT', `/cards/${card.cardId}/limit`, { credit_limit: -1, reason: 'r' }, { credit_limit: 'A whole number of minor units from 0 to 1000000000000.' }],
      ['GET', '/sites?status=deleted', undefined, { status: 'Must be one of active, suspended, closed.' }],
      ['GET', '/sites/no%20such', undefined, { client_id: 'Not a client id.' }],
      ['POST', '/sites', { redirect_uris: shop.redirect_uris }, { name: 'Must be given.' }],
      ['POST', '/sites', { ...shop, content_rating: 'adult' }, { content_rating: 'Must be an age from 0 to 99.' }],
      ['POST', '/sites', { ...shop, access_token_ttl: 5 }, { access_token_ttl: 'Must be a whole number of seconds from 30 to 86400.' }],
      ['POST', '/sites', { ...shop, max_amount: 0 }, { max_amount: 'Must be a whole number of minor units from 1 to 1000000000000.' }],
      ['POST', '/sites', { ...shop, token_endpoint_auth_method: 'none' }, { token_endpoint_auth_method: 'Must be one of client_secret_basic, client_secret_post, private_key_jwt.' }],
      ['POST', '/sites', { ...shop, redirect_uris: ['https://a.example.test/cb', 'https://b.example.test/cb'] }, { redirect_uris: /^All redirect URIs must be on one host/ }],
      ['POST', '/sites', { ...shop, token_endpoint_auth_method: 'private_key_jwt' }, { jwks: /jwks or jwks_uri\.$/ }],
      ['POST', `/sites/${site.clientId}/suspend`, { reason: 'x'.repeat(501) }, { reason: 'Use at most 500 characters.' }],
      ['POST', `/sites/${site.clientId}/rotate-secret`, { overlap_seconds: 'soon' }, { overlap_seconds: /^A whole number of seconds from 0 to 604800/ }],
      ['GET', '/ledger/statements/xyz', undefined, { statement_id: 'Not a statement id.' }],
      ['POST', '/ledger/repayments', { amount: 1 }, { card_id: 'Give either the card or the payment reference (exactly one).' }],
      ['POST', '/ledger/repayments', { card_id: card.cardId, amount: true }, { amount: /minor units/ }],
      ['GET', '/ledger/settlements?month=2026-01&format=xml', undefined, { format: 'One of json, csv.' }],
    ] as Array<[string, string, unknown, Record<string, string | RegExp>]>) {
      const res = await call(method, path, body);
      expectOperatorAnswer(`${method} ${path} ${JSON.stringify(body)}`, res.status, res.body, { status: 400, fields });
    }
    const nothing = await call('PATCH', `/sites/${site.clientId}`, {});
    expectOperatorAnswer('PATCH {}', nothing.status, nothing.body, { status: 400 });
    expect(nothing.body).to.deep.equal({ error: 'invalid_request', error_description: 'Nothing to change.' });
    expect(await state()).to.deep.equal(before);
  });

  it('names the field to blame in a 404 or 409', async () => {
    const before = await state();
    const noCard = { card_id: 'There is no such card.' };
    for (const [method, path, body, status, fields] of [
      ['GET', `/cards/${nobody}`, undefined, 404, noCard],
      ['POST', `/cards/${nobody}/block`, { reason: 'r' }, 404, noCard],
      ['PUT', `/cards/${nobody}/limit`, { credit_limit: 1, reason: 'r' }, 404, noCard],
      ['GET', `/applications/${nobody}`, undefined, 404, { application_id: 'There is no such application.' }],
      ['GET', '/sites/nosuch', undefined, 404, { client_id: 'There is no member site nosuch.' }],
      ['POST', '/sites/nosuch/suspend', { reason: 'r' }, 404, { client_id: 'There is no member site nosuch.' }],
      ['GET', '/ledger/statements/999999', undefined, 404, { statement_id: 'There is no such statement.' }],
      ['POST', '/ledger/repayments', { card_id: nobody, amount: 1 }, 404, noCard],
      ['POST', '/ledger/repayments', { payment_reference: 'CC00000000000195', amount: 1 }, 404, { payment_reference: 'No account has this payment reference.' }],
    ] as Array<[string, string, unknown, number, Record<string, string>]>) {
      const res = await call(method, path, body);
      expectOperatorAnswer(`${method} ${path}`, res.status, res.body, { status, fields });
    }
    // A client id taken by another site: 409 on client_id.
    const taken = `taken-${randomBytes(3).toString('hex')}`;
    expect((await call('POST', '/sites', { client_id: taken, name: 'S', redirect_uris: [`https://${taken}.example.test/cb`] })).status).to.equal(201);
    const again = await call('POST', '/sites', { client_id: taken, name: 'S', redirect_uris: [`https://${taken}.example.test/cb`] });
    expectOperatorAnswer('taken client_id', again.status, again.body, { status: 409, fields: { client_id: 'Taken by another member site.' } });
    // A bank transaction id used for another repayment: 409 on transaction_id.
    expect((await call('POST', '/ledger/repayments', { card_id: card.cardId, amount: 5, transaction_id: `T-${taken}` })).status).to.equal(201);
    const conflict = await call('POST', '/ledger/repayments', { card_id: card.cardId, amount: 6, transaction_id: `T-${taken}` });
    expectOperatorAnswer('reused transaction_id', conflict.status, conflict.body, { status: 409, fields: { transaction_id: /^Transaction T-taken-\w+ was already applied \(repayment \d+\) with a different amount/ } });
    const after = await state();
    expect({ ...after, audit: before.audit, sites: before.sites, repayments: before.repayments }).to.deep.equal(before);
    expect([after.sites, after.repayments]).to.deep.equal([before.sites + 1, before.repayments + 1]);
  });
});
