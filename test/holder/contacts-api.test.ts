import { expect } from 'chai';
import { findThrottle } from '../../src/db/throttles.ts';
import { cardThrottleKey } from '../../src/throttles/check-card-password.ts';
import { ForwardedAgent } from '../helpers/agent.ts';
import { APPLY_SERVER, birthdateForAge, e164, issueByApplication, latestCode, uniqueEmail, uniqueIp, uniqueMobile, uniqueName } from '../helpers/applicant.ts';
import { signedInHolder } from '../helpers/holder.ts';
import { startCardManager, type TestServer } from '../helpers/server.ts';

type Holder = Awaited<ReturnType<typeof issueByApplication>>;

/** The holder's change of email and mobile through /api/holder/contacts: codes to the new addresses, then the change. */
describe('/api/holder/contacts', () => {
  let ts: TestServer;
  before(async () => {
    ts = await startCardManager(APPLY_SERVER);
  });
  after(() => ts.stop());

  const signedIn = (card: { cardNumber?: string; number?: string; password: string }) => signedInHolder(ts.url, card);

  async function post(agent: ForwardedAgent, path: string, body: unknown, contentType = 'application/json') {
    const res = await agent.request(path, {
      method: 'POST',
      headers: { 'content-type': contentType, accept: 'application/json' },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
    return { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, any> };
  }

  const account = (h: Holder) => ts.db('accounts').where({ id: h.accountId }).select('email', 'mobile').first();
  const outbox = (h: Holder, template: string) =>
    ts.db('notifications_outbox').where({ account_id: h.accountId, template }).orderBy('id').select('channel', 'recipient', 'data');
  const codeFor = (h: Holder, recipient: string) => latestCode(ts, h.accountId, 'contacts_change_code', recipient);
  /** The code sent to the contact the holder keeps, which proves the change. */
  const proofFor = (h: Holder) => latestCode(ts, h.accountId, 'contacts_change_proof');
  /** A code that is not `code`. */
  const other = (code: string) => String((Number(code) + 1) % 1_000_000).padStart(6, '0');

  it('changes the email once the code sent to the new address is entered: audited, the old contacts told, the code used up', async () => {
    const h = await issueByApplication(ts);
    const before = await account(h);
    const agent = await signedIn(h);
    const fresh = uniqueEmail('moved');

    const asked = await post(agent, '/api/holder/contacts', { email: fresh.toUpperCase(), password: h.password });
    expect(asked.status, JSON.stringify(asked.body)).to.equal(202);
    expect(asked.body).to.deep.include({ status: 'pending', expires_in: 600 });
    expect(asked.body.sent_to).to.deep.equal({ email: `${fresh.slice(0, 2)}***@example.com`, mobile: null, current: asked.body.sent_to.current });
    // The change is proven by a code to the mobile the holder keeps, which also hears of it before it is made.
    expect(asked.body.sent_to.current).to.match(/^\+82\*+\d{4}$/);
    expect((await outbox(h, 'contacts_change_proof')).map((m: { channel: string; recipient: string }) => [m.channel, m.recipient])).to.deep.equal([['sms', before.mobile]]);
    // One code, by email, to the new address; nothing changed yet.
    const codes = await outbox(h, 'contacts_change_code');
    expect(codes.map((m: { channel: string; recipient: string }) => [m.channel, m.recipient])).to.deep.equal([['email', fresh]]);
    expect(await account(h)).to.deep.equal(before);
    expect((await (await agent.request('/api/holder/contacts')).json()).pending).to.include({ email: asked.body.sent_to.email, mobile: null });

    const code = await codeFor(h, fresh);
    const done = await post(agent, '/api/holder/contacts/confirm', { email_code: code, current_code: await proofFor(h) });
    expect(done.status, JSON.stringify(done.body)).to.equal(200);
    expect(done.body).to.deep.equal({ status: 'changed', email: fresh, mobile: before.mobile });
    expect(await account(h)).to.deep.equal({ email: fresh, mobile: before.mobile });

    const audit = await ts.db('audit_log').where({ action: 'account.contacts_changed', subject_id: h.accountId });
    expect(audit).to.have.length(1);
    expect(audit[0].actor).to.equal(`card:${h.cardId}`);
    expect(audit[0].details.email).to.deep.equal({ from: `${before.email.slice(0, 2)}***@example.com`, to: `${fresh.slice(0, 2)}***@example.com` });
    expect(JSON.stringify(audit[0].details)).to.not.include(fresh).and.not.include(before.email).and.not.include(code);

    // Told at every contact the account had; the new address confirmed.
    const told = await outbox(h, 'contacts_changed');
    expect(told.map((m: { recipient: string }) => m.recipient).sort()).to.deep.equal([before.email, before.mobile].sort());
    expect(told[0].data).to.include({ last4: h.cardNumber.slice(-4), by: 'holder', newEmail: `${fresh.slice(0, 2)}***@example.com` });
    expect((await outbox(h, 'contacts_confirmed')).map((m: { recipient: string }) => m.recipient)).to.deep.equal([fresh]);

    // Single use: the same code again changes nothing and is refused.
    const again = await post(agent, '/api/holder/contacts/confirm', { email_code: code, current_code: await proofFor(h) });
    expect(again.status).to.equal(400);
    expect(again.body.error).to.equal('invalid_code');
    expect(await ts.db('audit_log').where({ action: 'account.contacts_changed', subject_id: h.accountId })).to.have.length(1);
  });

  it('changes one contact at a time, proven by a code sent to the one kept: never with the card password alone', async () => {
    const h = await issueByApplication(ts);
    const before = await account(h);
    const agent = await signedIn(h);
    const email = uniqueEmail('both');
    const mobile = uniqueMobile();
    // Both at once would leave no contact of the holder's to prove it: whoever stole the number and password could move both.
    const both = await post(agent, '/api/holder/contacts', { email, mobile, password: h.password });
    expect(both.status).to.equal(400);
    expect(both.body.field_codes).to.deep.equal({ mobile: 'one_at_a_time' });
    expect(await outbox(h, 'contacts_change_code')).to.have.length(0);

    const asked = await post(agent, '/api/holder/contacts', { mobile, password: h.password });
    expect(asked.status).to.equal(202);
    expect(asked.body.sent_to).to.deep.include({ email: null, current: `${before.email.slice(0, 2)}***@example.com` });
    const proof = await outbox(h, 'contacts_change_proof');
    expect(proof.map((m: { channel: string; recipient: string }) => [m.channel, m.recipient])).to.deep.equal([['email', before.email]]);
    expect(proof[0].data).to.include({ newMobile: asked.body.sent_to.mobile });
    const mobileCode = await codeFor(h, e164(mobile));
    const current = await proofFor(h);

    const half = await post(agent, '/api/holder/contacts/confirm', { mobile_code: mobileCode });
    expect(half.status).to.equal(400);
    expect(Object.keys(half.body.fields)).to.deep.equal(['current_code']);
    // The new number's code in the kept contact's place is wrong: it is not one code for both.
    const swapped = await post(agent, '/api/holder/contacts/confirm', { mobile_code: mobileCode, current_code: mobileCode });
    expect(swapped.status).to.equal(400);
    expect(Object.keys(swapped.body.fields)).to.deep.equal(['current_code']);
    expect(await account(h)).to.deep.equal(before);

    const done = await post(agent, '/api/holder/contacts/confirm', { mobile_code: mobileCode, current_code: current });
    expect(done.status, JSON.stringify(done.body)).to.equal(200);
    expect(await account(h)).to.deep.equal({ email: before.email, mobile: e164(mobile) });
    expect((await outbox(h, 'contacts_confirmed')).map((m: { channel: string; recipient: string }) => [m.channel, m.recipient])).to.deep.equal([['sms', e164(mobile)]]);
  });

  it('retires the codes already sent to the old contacts (password reset here) once the change is made', async () => {
    const h = await issueByApplication(ts);
    const before = await account(h);
    const resetCode = async () => {
      const res = await fetch(`${ts.url}/api/cards/password/reset/code`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-forwarded-for': uniqueIp() }, body: JSON.stringify({ card_number: h.cardNumber }) });
      expect(res.status).to.equal(202);
      return latestCode(ts, h.accountId, 'password_reset_code', before.email);
    };
    // Whoever still reads the old mailbox asks for a reset code just before the holder moves away from it.
    const old = await resetCode();
    const agent = await signedIn(h);
    const fresh = uniqueEmail('away');
    expect((await post(agent, '/api/holder/contacts', { email: fresh, password: h.password })).status).to.equal(202);
    expect((await post(agent, '/api/holder/contacts/confirm', { email_code: await codeFor(h, fresh), current_code: await proofFor(h) })).status).to.equal(200);
    const reset = await fetch(`${ts.url}/api/cards/password/reset`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-forwarded-for': uniqueIp() },
      body: JSON.stringify({ card_number: h.cardNumber, code: old, new_password: 'Quiet orange lanterns' }),
    });
    expect(reset.status).to.equal(400);
  });

  it('refuses wrong codes, at most maxAttempts of them, then even the right one; the account unchanged', async () => {
    const h = await issueByApplication(ts);
    const before = await account(h);
    const agent = await signedIn(h);
    const fresh = uniqueEmail('guess');
    expect((await post(agent, '/api/holder/contacts', { email: fresh, password: h.password })).status).to.equal(202);
    const code = await codeFor(h, fresh);
    const max = ts.config.oneTimeCodes.maxAttempts;
    for (let i = 1; i < max; i++) {
      const wrong = await post(agent, '/api/holder/contacts/confirm', { email_code: other(code), current_code: await proofFor(h) });
      expect(wrong.status).to.equal(400);
      expect(wrong.body.fields).to.have.property('email_code');
    }
    expect((await post(agent, '/api/holder/contacts/confirm', { email_code: other(code), current_code: await proofFor(h) })).status).to.equal(429);
    const right = await post(agent, '/api/holder/contacts/confirm', { email_code: code, current_code: await proofFor(h) });
    expect(right.status).to.equal(429);
    expect(right.body.error).to.equal('too_many_attempts');
    expect(await account(h)).to.deep.equal(before);
    expect((await ts.db('contact_changes').where({ account_id: h.accountId }).first()).attempts).to.equal(max);
  });

  it('refuses an expired change and a confirmation with none pending', async () => {
    const h = await issueByApplication(ts);
    const before = await account(h);
    const agent = await signedIn(h);
    const none = await post(agent, '/api/holder/contacts/confirm', { email_code: '123456', current_code: '123456' });
    expect(none.status).to.equal(400);
    expect(none.body.error).to.equal('invalid_code');

    const fresh = uniqueEmail('late');
    expect((await post(agent, '/api/holder/contacts', { email: fresh, password: h.password })).status).to.equal(202);
    const code = await codeFor(h, fresh);
    await ts.db('contact_changes').where({ account_id: h.accountId }).update({ expires_at: ts.db.raw("now() - interval '1 second'") });
    const late = await post(agent, '/api/holder/contacts/confirm', { email_code: code, current_code: await proofFor(h) });
    expect(late.status).to.equal(400);
    expect(late.body.error).to.equal('invalid_code');
    expect(await account(h)).to.deep.equal(before);
  });

  it('a newer request replaces the pending one: its code no longer works', async () => {
    const h = await issueByApplication(ts);
    const agent = await signedIn(h);
    const first = uniqueEmail('first');
    const second = uniqueEmail('second');
    expect((await post(agent, '/api/holder/contacts', { email: first, password: h.password })).status).to.equal(202);
    const firstCode = await codeFor(h, first);
    expect((await post(agent, '/api/holder/contacts', { email: second, password: h.password })).status).to.equal(202);
    const stale = await post(agent, '/api/holder/contacts/confirm', { email_code: firstCode, current_code: await proofFor(h) });
    expect(stale.status).to.equal(400);
    expect((await post(agent, '/api/holder/contacts/confirm', { email_code: await codeFor(h, second), current_code: await proofFor(h) })).status).to.equal(200);
    expect((await account(h)).email).to.equal(second);
  });

  it('refuses an email or mobile another holder with an open card has, at the request and again at the confirmation', async () => {
    const h = await issueByApplication(ts);
    const someone = await issueByApplication(ts);
    const theirs = await account(someone);
    const before = await account(h);
    const agent = await signedIn(h);

    const taken = await post(agent, '/api/holder/contacts', { email: theirs.email.toUpperCase(), password: h.password });
    expect(taken.status).to.equal(400);
    expect(taken.body.field_codes).to.deep.equal({ email: 'duplicate_email' });
    const takenMobile = await post(agent, '/api/holder/contacts', { mobile: theirs.mobile, password: h.password });
    expect(takenMobile.status).to.equal(400);
    expect(takenMobile.body.field_codes).to.deep.equal({ mobile: 'duplicate_mobile' });
    expect(await outbox(h, 'contacts_change_code')).to.have.length(0);

    // Taken by someone else between the request and the code: refused then too, and the change can still be replaced.
    const fresh = uniqueEmail('race');
    expect((await post(agent, '/api/holder/contacts', { email: fresh, password: h.password })).status).to.equal(202);
    await ts.db('accounts').where({ id: someone.accountId }).update({ email: fresh });
    const late = await post(agent, '/api/holder/contacts/confirm', { email_code: await codeFor(h, fresh), current_code: await proofFor(h) });
    expect(late.status).to.equal(400);
    expect(late.body.field_codes).to.deep.equal({ email: 'duplicate_email' });
    expect(await account(h)).to.deep.equal(before);

    // Once their card is closed, the address is free again.
    await ts.db('cards').where({ account_id: someone.accountId }).update({ status: 'closed' });
    expect((await post(agent, '/api/holder/contacts/confirm', { email_code: await codeFor(h, fresh), current_code: await proofFor(h) })).status).to.equal(200);
  });

  it('lets a minor take the guardian’s email and mobile (the application’s family rule), but no one else', async () => {
    const guardian = await issueByApplication(ts, { legal_name: 'Han Guardian', birthdate: '1975-02-02' });
    const g = await account(guardian);
    const minor = await issueByApplication(ts, {
      legal_name: uniqueName('Han'),
      birthdate: birthdateForAge(15),
      guardian_card_number: guardian.cardNumber,
      guardian_password: guardian.password,
    });
    const stranger = await issueByApplication(ts);

    const strangerAgent = await signedIn(stranger);
    const refused = await post(strangerAgent, '/api/holder/contacts', { email: g.email, password: stranger.password });
    expect(refused.status).to.equal(400);
    expect(refused.body.field_codes).to.deep.equal({ email: 'duplicate_email' });

    const agent = await signedIn(minor);
    const asked = await post(agent, '/api/holder/contacts', { email: g.email, password: minor.password });
    expect(asked.status, JSON.stringify(asked.body)).to.equal(202);
    const done = await post(agent, '/api/holder/contacts/confirm', { email_code: await codeFor(minor, g.email), current_code: await proofFor(minor) });
    expect(done.status, JSON.stringify(done.body)).to.equal(200);
    expect((await post(agent, '/api/holder/contacts', { mobile: g.mobile, password: minor.password })).status).to.equal(202);
    const then = await post(agent, '/api/holder/contacts/confirm', { mobile_code: await codeFor(minor, g.mobile), current_code: await proofFor(minor) });
    expect(then.status, JSON.stringify(then.body)).to.equal(200);
    expect(await account(minor)).to.deep.equal(g);
  });

  it('refuses bad values with field errors and sends nothing: malformed, unchanged, neither given', async () => {
    const h = await issueByApplication(ts);
    const before = await account(h);
    const agent = await signedIn(h);
    for (const [body, fields] of [
      [{ email: 'not an address', password: h.password }, ['email']],
      [{ mobile: '12', password: h.password }, ['mobile']],
      [{ email: before.email, password: h.password }, ['email']],
      [{ mobile: before.mobile, password: h.password }, ['mobile']],
      [{ password: h.password }, ['email']],
      [{ email: '', mobile: ' ', password: h.password }, ['email']],
    ] as const) {
      const res = await post(agent, '/api/holder/contacts', body);
      expect(res.status, JSON.stringify(body)).to.equal(400);
      expect(Object.keys(res.body.fields), JSON.stringify(body)).to.deep.equal(fields);
    }
    expect(await outbox(h, 'contacts_change_code')).to.have.length(0);
    expect(await account(h)).to.deep.equal(before);
  });

  it('refuses a wrong card password, counted towards the card lockout like every password proof', async () => {
    const h = await issueByApplication(ts);
    const before = await account(h);
    const agent = await signedIn(h);
    const fresh = uniqueEmail('thief');
    const max = ts.config.lockout.maxFailures;
    for (let i = 1; i < max; i++) {
      const res = await post(agent, '/api/holder/contacts', { email: fresh, password: `wrong ${i}` });
      expect(res.status).to.equal(401);
      expect(res.body.fields).to.have.property('password');
    }
    const failures = await findThrottle(ts.db, { scope: 'card', key: cardThrottleKey(ts.config.secrets.cardHmacKey, h.cardNumber)! });
    expect(failures?.count).to.equal(max - 1);
    const audited = await ts.db('audit_log').where({ action: 'card.password_failed' }).whereRaw("details->>'accountId' = ?", [h.accountId]);
    expect(audited.map((r: { details: { page: string } }) => r.details.page)).to.deep.equal(Array(max - 1).fill('contact_change'));
    expect((await post(agent, '/api/holder/contacts', { email: fresh, password: 'wrong again' })).status).to.equal(423);
    expect((await post(agent, '/api/holder/contacts', { email: fresh, password: h.password })).status).to.equal(423);
    expect(await outbox(h, 'contacts_change_code')).to.have.length(0);
    expect(await account(h)).to.deep.equal(before);
  });

  it('counts requests refused for another holder\'s address towards the hourly limit: addresses cannot be probed without bound', async () => {
    const h = await issueByApplication(ts);
    const agent = await signedIn(h);
    const max = ts.config.oneTimeCodes.maxPerHour;
    const answers: number[] = [];
    for (let i = 0; i <= max; i++) {
      const someone = await issueByApplication(ts);
      answers.push((await post(agent, '/api/holder/contacts', { email: someone.email, password: h.password })).status);
    }
    expect(answers).to.deep.equal([...Array(max).fill(400), 429]);
  });

  it('answers 429 with Retry-After past the hourly limit of requests', async () => {
    const h = await issueByApplication(ts);
    const agent = await signedIn(h);
    for (let i = 0; i < ts.config.oneTimeCodes.maxPerHour; i++) {
      expect((await post(agent, '/api/holder/contacts', { email: uniqueEmail('often'), password: h.password })).status).to.equal(202);
    }
    const refused = await post(agent, '/api/holder/contacts', { email: uniqueEmail('often'), password: h.password });
    expect(refused.status).to.equal(429);
    expect(Number(refused.headers.get('retry-after'))).to.be.within(3500, 3600);
    expect(await outbox(h, 'contacts_change_code')).to.have.length(ts.config.oneTimeCodes.maxPerHour);
  });

  it('refuses the 11th change in a day with 429, even spread over hours: the code to the contact kept is guessed at no faster', async () => {
    const h = await issueByApplication(ts);
    const agent = await signedIn(h);
    const { maxPerHour, maxPerDay } = ts.config.oneTimeCodes;
    expect(maxPerDay).to.equal(10);
    const earlier = (hours: number) =>
      ts.db('contact_changes').where({ account_id: h.accountId }).update({ created_at: ts.db.raw("created_at - make_interval(hours => ?)", [hours]) });
    for (const hoursLater of [3, 2]) {
      for (let i = 0; i < maxPerHour; i++) {
        expect((await post(agent, '/api/holder/contacts', { email: uniqueEmail('daily'), password: h.password })).status).to.equal(202);
      }
      await earlier(hoursLater);
    }
    const refused = await post(agent, '/api/holder/contacts', { email: uniqueEmail('daily'), password: h.password });
    expect(refused.status).to.equal(429);
    expect(refused.body.error_description).to.equal('Too many changes were asked for today. Try again in 19 hours, or contact cybercard if you did not ask for them.');
    expect(Number(refused.headers.get('retry-after'))).to.be.within(19 * 3600 - 60, 19 * 3600);
    expect(await outbox(h, 'contacts_change_proof')).to.have.length(maxPerDay);
  });

  it('refuses a caller who is not signed in', async () => {
    const stranger = new ForwardedAgent(ts.url, uniqueIp());
    expect((await post(stranger, '/api/holder/contacts', { email: uniqueEmail(), password: 'x' })).status).to.equal(401);
    expect((await post(stranger, '/api/holder/contacts/confirm', { email_code: '123456', current_code: '123456' })).status).to.equal(401);
    expect((await stranger.request('/api/holder/contacts', { headers: { accept: 'application/json' } })).status).to.equal(401);
  });

  it('refuses bad input with 4xx and the database unchanged: not JSON, arrays, wrong types, huge strings, NUL bytes, unknown keys', async () => {
    const h = await issueByApplication(ts);
    const before = await account(h);
    const agent = await signedIn(h);
    expect((await post(agent, '/api/holder/contacts', 'email=a@b.co', 'application/x-www-form-urlencoded')).status).to.equal(415);
    expect((await post(agent, '/api/holder/contacts', '{"email": ', 'application/json')).status).to.equal(400);
    // Past the body limit: refused before it is parsed.
    expect((await post(agent, '/api/holder/contacts', { email: `${'a'.repeat(200_000)}@example.com`, password: h.password })).status).to.equal(413);
    for (const body of [
      [],
      [{ email: uniqueEmail() }],
      { email: ['a@example.com'], password: h.password },
      { email: 42, password: h.password },
      { email: `${'a'.repeat(2_000)}@example.com`, password: h.password },
      { mobile: '1'.repeat(5000), password: h.password },
      { email: 'a\u0000b@example.com', password: h.password },
      { email: uniqueEmail(), password: 'x\u0000' },
      { email: uniqueEmail(), password: h.password, surprise: true },
      { email: uniqueEmail() },
    ]) {
      const res = await post(agent, '/api/holder/contacts', body);
      expect(res.status, JSON.stringify(body).slice(0, 80)).to.equal(400);
    }
    for (const body of [[], { email_code: ['123456'] }, { email_code: 'x'.repeat(10_000) }, { email_code: '12\u00003456' }, { code: '123456' }]) {
      expect((await post(agent, '/api/holder/contacts/confirm', body)).status, JSON.stringify(body).slice(0, 80)).to.equal(400);
    }
    expect(await account(h)).to.deep.equal(before);
    expect(await ts.db('contact_changes').where({ account_id: h.accountId })).to.have.length(0);
  });
});
