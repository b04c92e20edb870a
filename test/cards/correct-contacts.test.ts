import { userInfo } from 'node:os';
import { expect } from 'chai';
import { ForwardedAgent, csrfFrom } from '../helpers/agent.ts';
import { APPLY_SERVER, birthdateForAge, e164, issueByApplication, latestCode, uniqueEmail, uniqueIp, uniqueMobile, uniqueName } from '../helpers/applicant.ts';
import { runCli } from '../helpers/cli.ts';
import { startCardManager, type TestServer } from '../helpers/server.ts';

const cli = runCli;

/** The operator's correction of a holder's email and mobile: PUT /admin/api/cards/:id/contacts and `cards contacts`. */
describe("the operator's correction of a holder's contacts", () => {
  let ts: TestServer;
  before(async () => {
    ts = await startCardManager(APPLY_SERVER);
  });
  after(() => ts.stop());

  async function put(cardId: string, body: unknown, token = ts.config.secrets.operatorToken) {
    const res = await fetch(`${ts.url}/admin/api/cards/${cardId}/contacts`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as Record<string, any> };
  }

  const account = (accountId: string) => ts.db('accounts').where({ id: accountId }).select('email', 'mobile').first();
  const outbox = (accountId: string, template: string) =>
    ts.db('notifications_outbox').where({ account_id: accountId, template }).orderBy('id').select('channel', 'recipient', 'data');

  it('sets a new email and mobile with a reason: audited with it, old and new addresses told, a pending holder change retired', async () => {
    const h = await issueByApplication(ts);
    const before = await account(h.accountId);
    // The holder had asked for a change of their own, still waiting for its code.
    const agent = new ForwardedAgent(ts.url, uniqueIp());
    const signin = await (await agent.get('/card/signin')).text();
    await agent.post('/card/signin', { csrf: csrfFrom(signin), card_number: h.cardNumber, password: h.password });
    const pendingEmail = uniqueEmail('pending');
    const asked = await agent.request('/api/holder/contacts', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: pendingEmail, password: h.password }),
    });
    expect(asked.status).to.equal(202);

    const email = uniqueEmail('corrected');
    const mobile = uniqueMobile();
    const res = await put(h.cardId, { email, mobile, reason: 'Holder called from the new number; identity checked by video call' });
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    expect(res.body).to.deep.equal({ account_id: h.accountId, email, mobile: e164(mobile) });
    expect(await account(h.accountId)).to.deep.equal({ email, mobile: e164(mobile) });

    const [entry] = await ts.db('audit_log').where({ action: 'account.contacts_changed', subject_id: h.accountId });
    expect(entry.actor).to.equal('operator');
    expect(entry.details).to.include({ by: 'operator', reason: 'Holder called from the new number; identity checked by video call', cardId: h.cardId });
    expect(entry.details.mobile.to).to.equal(`+82${'*'.repeat(e164(mobile).length - 7)}${e164(mobile).slice(-4)}`);
    expect(JSON.stringify(entry.details)).to.not.include(email).and.not.include(before.email);

    const told = await outbox(h.accountId, 'contacts_changed');
    expect(told.map((m: { recipient: string }) => m.recipient).sort()).to.deep.equal([before.email, before.mobile].sort());
    expect(told[0].data.by).to.equal('operator');
    expect((await outbox(h.accountId, 'contacts_confirmed')).map((m: { recipient: string }) => m.recipient)).to.deep.equal([email, e164(mobile)]);

    // A recovery signs the holder out everywhere (whoever has the old phone may hold a session); the holder's own
    // change, asked for before, can no longer be confirmed, even after signing in again.
    expect((await agent.request('/api/holder/account', { headers: { accept: 'application/json' } })).status).to.equal(401);
    expect(await ts.db('holder_sessions').where({ card_id: h.cardId })).to.have.length(0);
    expect(await ts.db('audit_log').where({ subject_id: h.accountId, action: 'account.tokens_revoked' })).to.have.length(1);
    const again = await (await agent.get('/card/signin')).text();
    await agent.post('/card/signin', { csrf: csrfFrom(again), card_number: h.cardNumber, password: h.password });
    const code = (await outbox(h.accountId, 'contacts_change_code'))[0].data.code;
    const late = await agent.request('/api/holder/contacts/confirm', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email_code: code }) });
    expect(late.status).to.equal(400);
    expect((await account(h.accountId)).email).to.equal(email);
  });

  it('retires the codes already sent to the old contacts (reissue here): they may be in the wrong hands', async () => {
    const h = await issueByApplication(ts);
    const old = await ts.db('accounts').where({ id: h.accountId }).first();
    const asked = await fetch(`${ts.url}/api/cards/reissue/code`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-forwarded-for': uniqueIp() }, body: JSON.stringify({ card_number: h.cardNumber }) });
    expect(asked.status).to.equal(202);
    const code = await latestCode(ts, h.accountId, 'reissue_code', old.mobile);
    const res = await fetch(`${ts.url}/admin/api/cards/${h.cardId}/contacts`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${ts.config.secrets.operatorToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ mobile: uniqueMobile(), reason: 'the old number was recycled' }),
    });
    expect(res.status).to.equal(200);
    const reissued = await fetch(`${ts.url}/api/cards/reissue`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-forwarded-for': uniqueIp() }, body: JSON.stringify({ card_number: h.cardNumber, code }) });
    expect(reissued.status).to.equal(400);
    expect((await ts.db('cards').where({ account_id: h.accountId })).map((c: { status: string }) => c.status)).to.deep.equal(['active']);
  });

  it('refuses a missing reason, bad or unchanged values, another holder’s address, and unknown keys with 400, the account unchanged', async () => {
    const h = await issueByApplication(ts);
    const someone = await issueByApplication(ts);
    const before = await account(h.accountId);
    for (const [body, field] of [
      [{ email: uniqueEmail() }, 'reason'],
      [{ email: uniqueEmail(), reason: '   ' }, 'reason'],
      [{ email: 'nope', reason: 'r' }, 'email'],
      [{ mobile: '12345', reason: 'r' }, 'mobile'],
      [{ email: before.email, reason: 'r' }, 'email'],
      [{ reason: 'r' }, 'email'],
      [{ email: someone.email, reason: 'r' }, 'email'],
      [{ email: ['a@example.com'], reason: 'r' }, 'email'],
      [{ email: 'a\u0000@example.com', reason: 'r' }, 'email'],
      [{ email: `${'a'.repeat(3000)}@example.com`, reason: 'r' }, 'email'],
      [{ phone: '010-1234-5678', reason: 'r' }, 'phone'],
    ] as const) {
      const res = await put(h.cardId, body);
      expect(res.status, JSON.stringify(body).slice(0, 80)).to.equal(400);
      expect(Object.keys(res.body.fields ?? {}), JSON.stringify(body).slice(0, 80)).to.include(field);
    }
    expect((await put(h.cardId, '[]')).status).to.equal(400);
    expect(await account(h.accountId)).to.deep.equal(before);
    expect(await ts.db('audit_log').where({ action: 'account.contacts_changed', subject_id: h.accountId })).to.have.length(0);
  });

  it('answers 404 for an unknown card, 400 for a malformed id, 401 without the operator token', async () => {
    expect((await put('00000000-0000-4000-8000-000000000000', { email: uniqueEmail(), reason: 'r' })).status).to.equal(404);
    expect((await put('not-a-uuid', { email: uniqueEmail(), reason: 'r' })).status).to.equal(400);
    const h = await issueByApplication(ts);
    expect((await put(h.cardId, { email: uniqueEmail(), reason: 'r' }, 'wrong')).status).to.equal(401);
    expect((await account(h.accountId)).email).to.equal(h.email);
  });

  it('lets a minor be given the guardian’s email (the family rule)', async () => {
    const guardian = await issueByApplication(ts, { legal_name: 'Oh Guardian', birthdate: '1970-04-04' });
    const minor = await issueByApplication(ts, {
      legal_name: uniqueName('Oh'),
      birthdate: birthdateForAge(14),
      guardian_card_number: guardian.cardNumber,
      guardian_password: guardian.password,
    });
    const res = await put(minor.cardId, { email: guardian.email, reason: 'the family shares one address' });
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    expect((await account(minor.accountId)).email).to.equal(guardian.email);
  });

  it('does the same from the CLI (cards contacts), by card number or id', async () => {
    const h = await issueByApplication(ts);
    const before = await account(h.accountId);
    const email = uniqueEmail('cli');
    const noReason = await cli('cards', 'contacts', '--card', h.cardId, '--email', email);
    expect(noReason.code).to.not.equal(0);
    expect(noReason.stderr).to.include('reason');
    const bad = await cli('cards', 'contacts', '--card', h.cardId, '--mobile', 'twelve', '--reason', 'typo');
    expect(bad.code).to.not.equal(0);
    expect(bad.stderr).to.include('mobile');
    const unknown = await cli('cards', 'contacts', '--card', '00000000-0000-4000-8000-000000000000', '--email', email, '--reason', 'r');
    expect(unknown.code).to.not.equal(0);
    expect(unknown.stderr).to.include('There is no such card.');
    expect(await account(h.accountId)).to.deep.equal(before);

    const done = await cli('cards', 'contacts', '--card', h.cardNumber, '--email', email, '--reason', 'moved, checked in person');
    expect(done.code, done.stderr).to.equal(0);
    expect(done.stdout).to.include(`email ${email}`);
    expect(done.stdout + done.stderr).to.not.include(h.cardNumber);
    expect(await account(h.accountId)).to.deep.equal({ email, mobile: before.mobile });
    const [entry] = await ts.db('audit_log').where({ action: 'account.contacts_changed', subject_id: h.accountId });
    expect(entry.actor).to.equal(`cli:${userInfo().username}`);
    expect(entry.details.reason).to.equal('moved, checked in person');
    expect((await outbox(h.accountId, 'contacts_changed')).map((m: { recipient: string }) => m.recipient).sort()).to.deep.equal([before.email, before.mobile].sort());
  });
});
