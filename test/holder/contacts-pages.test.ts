import { expect } from 'chai';
import { csrfOf, ForwardedAgent, location } from '../helpers/agent.ts';
import { APPLY_SERVER, issueByApplication, latestCode, uniqueEmail, uniqueIp } from '../helpers/applicant.ts';
import { alertText, fieldError, unescapeHtml } from '../helpers/html.ts';
import { signedInHolder } from '../helpers/holder.ts';
import { startCardManager, type TestServer } from '../helpers/server.ts';

/** The csrf token of the form posting to `action` (holder pages also carry the sign-out form). */
/** The holder's contact details pages: /card/contacts (form) → codes → done. */
describe('/card/contacts', () => {
  let ts: TestServer;
  before(async () => {
    ts = await startCardManager(APPLY_SERVER);
  });
  after(() => ts.stop());

  const signedIn = (card: { cardNumber?: string; number?: string; password: string }) => signedInHolder(ts.url, card);

  const account = (accountId: string) => ts.db('accounts').where({ id: accountId }).select('email', 'mobile').first();
  const proofFor = (accountId: string) => latestCode(ts, accountId, 'contacts_change_proof');
  const codeFor = (accountId: string, recipient: string) => latestCode(ts, accountId, 'contacts_change_code', recipient);

  it('sends a visitor who is not signed in to the sign-in page', async () => {
    const stranger = new ForwardedAgent(ts.url, uniqueIp());
    for (const path of ['/card/contacts', '/card/contacts/confirm']) {
      const res = await stranger.get(path);
      expect(res.status).to.equal(303);
      expect(location(res, ts.url).pathname).to.equal('/card/signin');
    }
    expect((await stranger.post('/card/contacts', { email: uniqueEmail(), password: 'x' })).status).to.equal(303);
  });

  it('changes the email through the form and the code page, linked from the holder navigation', async () => {
    const h = await issueByApplication(ts);
    const before = await account(h.accountId);
    const agent = await signedIn(h);
    const controls = await (await agent.get('/card/controls')).text();
    expect(controls).to.include('<a href="/card/contacts">Contact details</a>');

    const form = await (await agent.get('/card/contacts')).text();
    expect(form).to.include(`<dd id="current-email">${before.email}</dd>`);
    // The mobile written for reading, not as stored (E.164).
    const parts = /^\+82(\d{2})(\d{4})(\d{4})$/.exec(before.mobile);
    expect(parts, before.mobile).to.not.equal(null);
    expect(form).to.include(`<dd id="current-mobile">+82 ${parts![1]}-${parts![2]}-${parts![3]}</dd>`);
    const fresh = uniqueEmail('page');
    const asked = await agent.post('/card/contacts', { csrf: csrfOf(form, '/card/contacts'), email: fresh, mobile: '', password: h.password });
    const codes = await asked.text();
    expect(asked.status).to.equal(200);
    expect(codes).to.include('We sent a code to the new address and one to the contact you keep.');
    expect(codes).to.include('name="current_code"');
    expect(codes).to.include('A code works once and for 10 minutes.');
    expect(unescapeHtml(codes)).to.include(`Code sent to ${fresh.slice(0, 2)}***@example.com`);
    expect(codes).to.include('name="email_code"').and.not.include('name="mobile_code"');
    expect(await account(h.accountId)).to.deep.equal(before);

    // A wrong code: the page again, the field marked, nothing changed.
    const confirmCsrf = csrfOf(codes, '/card/contacts/confirm');
    const code = await codeFor(h.accountId, fresh);
    const current = await proofFor(h.accountId);
    const wrong = await agent.post('/card/contacts/confirm', { csrf: confirmCsrf, email_code: code === '000000' ? '111111' : '000000', current_code: current });
    expect(wrong.status).to.equal(400);
    const wrongHtml = await wrong.text();
    expect(fieldError(wrongHtml, 'email_code')).to.equal('Not correct.');
    expect(alertText(wrongHtml)).to.equal('That code is not correct. You can try 4 more times.');
    // The code page can be opened again (a reload, another tab).
    const reopened = await agent.get('/card/contacts/confirm');
    expect(reopened.status).to.equal(200);

    const done = await agent.post('/card/contacts/confirm', { csrf: confirmCsrf, email_code: code, current_code: current });
    const html = await done.text();
    expect(done.status).to.equal(200);
    expect(html).to.include('Your contact details are changed.');
    expect(html).to.include(`<dd id="current-email">${fresh}</dd>`);
    expect(await account(h.accountId)).to.deep.equal({ email: fresh, mobile: before.mobile });
    // Nothing is pending any more: the code page sends the holder back to the form.
    const after = await agent.get('/card/contacts/confirm');
    expect(after.status).to.equal(303);
    expect(location(after, ts.url).pathname).to.equal('/card/contacts');
    const again = await agent.post('/card/contacts/confirm', { csrf: confirmCsrf, email_code: code, current_code: current });
    expect(again.status).to.equal(400);
    expect(await again.text()).to.include('No change is waiting');
  });

  it('refuses posts without or with a wrong CSRF token, the database unchanged', async () => {
    const h = await issueByApplication(ts);
    const before = await account(h.accountId);
    const agent = await signedIn(h);
    const form = await (await agent.get('/card/contacts')).text();
    const fresh = uniqueEmail('csrf');
    expect((await agent.post('/card/contacts', { email: fresh, password: h.password })).status).to.equal(403);
    expect((await agent.post('/card/contacts', { csrf: 'forged', email: fresh, password: h.password })).status).to.equal(403);
    // The token of another form (sign-out) is no token for this one.
    expect((await agent.post('/card/contacts', { csrf: csrfOf(form, '/card/signout'), email: fresh, password: h.password })).status).to.equal(403);
    expect(await ts.db('contact_changes').where({ account_id: h.accountId })).to.have.length(0);

    const asked = await agent.post('/card/contacts', { csrf: csrfOf(form, '/card/contacts'), email: fresh, password: h.password });
    expect(asked.status).to.equal(200);
    const code = await codeFor(h.accountId, fresh);
    expect((await agent.post('/card/contacts/confirm', { email_code: code })).status).to.equal(403);
    expect((await agent.post('/card/contacts/confirm', { csrf: csrfOf(form, '/card/contacts'), email_code: code })).status).to.equal(403);
    expect(await account(h.accountId)).to.deep.equal(before);
  });

  it('shows the form again with its values and the field errors on bad input, a wrong password or a taken address', async () => {
    const h = await issueByApplication(ts);
    const someone = await issueByApplication(ts);
    const before = await account(h.accountId);
    const agent = await signedIn(h);
    const csrf = csrfOf(await (await agent.get('/card/contacts')).text(), '/card/contacts');

    const bad = await agent.post('/card/contacts', { csrf, email: 'not "an" <address>', mobile: '010-12', password: h.password });
    const badHtml = await bad.text();
    expect(bad.status).to.equal(400);
    expect(fieldError(badHtml, 'email')).to.equal('Enter an email address like name@example.com.');
    expect(fieldError(badHtml, 'mobile')).to.include('Enter a mobile number like');
    expect(badHtml).to.include('value="not &#34;an&#34; &lt;address&gt;"').and.include('value="010-12"');
    expect(badHtml).to.not.include('<address>');

    const fresh = uniqueEmail('pw');
    const wrong = await agent.post('/card/contacts', { csrf, email: fresh, password: 'not the password' });
    const wrongHtml = await wrong.text();
    expect(wrong.status).to.equal(401);
    expect(fieldError(wrongHtml, 'password')).to.equal('The card password is not correct.');
    expect(wrongHtml).to.include(`value="${fresh}"`).and.not.include('not the password');

    const taken = await agent.post('/card/contacts', { csrf, email: someone.email, password: h.password });
    expect(taken.status).to.equal(400);
    expect(fieldError(await taken.text(), 'email')).to.equal('Another cyber card holder has this email address. Use one of your own.');

    const nul = await agent.post('/card/contacts', { csrf, email: 'a\u0000@example.com', password: h.password });
    expect(nul.status).to.equal(400);
    const twice = await agent.request('/card/contacts', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `csrf=${encodeURIComponent(csrf)}&email=a%40example.com&email=b%40example.com&password=x`,
    });
    expect(twice.status).to.equal(400);
    expect(await account(h.accountId)).to.deep.equal(before);
    expect(await ts.db('contact_changes').where({ account_id: h.accountId })).to.have.length(0);
  });

  it('says "too many" with Retry-After on the page past the hourly limit', async () => {
    const h = await issueByApplication(ts);
    const agent = await signedIn(h);
    const csrf = csrfOf(await (await agent.get('/card/contacts')).text(), '/card/contacts');
    for (let i = 0; i < ts.config.oneTimeCodes.maxPerHour; i++) {
      expect((await agent.post('/card/contacts', { csrf, email: uniqueEmail('often'), password: h.password })).status).to.equal(200);
    }
    const refused = await agent.post('/card/contacts', { csrf, email: uniqueEmail('often'), password: h.password });
    expect(refused.status).to.equal(429);
    expect(Number(refused.headers.get('retry-after'))).to.be.within(3500, 3600);
    expect(await refused.text()).to.include('Too many changes were asked for in the last hour.');
  });

  it('says before the holder fills it what the form takes: one contact at a time, a code to it and one to the contact kept', async () => {
    const h = await issueByApplication(ts);
    const agent = await signedIn(h);
    const form = unescapeHtml(await (await agent.get('/card/contacts')).text());
    expect(form).to.include('Fill in the one that changes, the email address or the mobile number');
    expect(form).not.to.include('a code to each new address');
    // As the form then holds to: both at once is refused.
    const both = await agent.post('/card/contacts', { csrf: csrfOf(form, '/card/contacts'), email: uniqueEmail('both'), mobile: '010-4444-0000', password: h.password });
    expect(both.status).to.equal(400);
    expect(alertText(await both.text())).to.equal('Change one contact at a time: the change is confirmed with a code sent to the one you keep.');
    const korean = await (await agent.request('/card/contacts', { headers: { 'accept-language': 'ko' } })).text();
    expect(unescapeHtml(korean)).to.include('이메일 주소나 휴대폰 번호 중 바꿀 하나만 입력하세요');
  });

  it('is in Korean for a Korean browser', async () => {
    const h = await issueByApplication(ts);
    const agent = await signedIn(h);
    const html = await (await agent.request('/card/contacts', { headers: { 'accept-language': 'ko-KR,ko;q=0.9' } })).text();
    expect(html).to.include('<h1 id="heading" tabindex="-1" autofocus>연락처</h1>');
    expect(html).to.include('새 이메일 주소').and.include('코드 보내기');
  });
});
