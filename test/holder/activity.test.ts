import { expect } from 'chai';
import { reissue } from '../../src/cards/reissue.ts';
import { appendAudit } from '../../src/db/audit-log.ts';
import { formatLocalTime } from '../../src/lib/local-time.ts';
import { Agent, csrfFrom, location, runLogin, startInteraction } from '../helpers/agent.ts';
import { authRequest, issueTestCard, registerTestSite, siteClient, type TestCard, type TestSite } from '../helpers/fixtures.ts';
import { unescapeHtml, withoutCellLabels } from '../helpers/html.ts';
import { startCardManager, type TestServer } from '../helpers/server.ts';
import { approveFor, cardWithLimit } from '../ledger/fixtures.ts';

interface Entry {
  at: string;
  kind: string;
  text: string;
  card_last4: string | null;
  about: string;
  site: string | null;
  page: string | null;
  amount: number | null;
  currency: string | null;
}
interface ActivityJson {
  entries: Entry[];
  next_before: number | null;
}

const WRONG = 'Not the password at all';

describe("the holder's activity (/card/activity, /api/holder/activity)", () => {
  let ts: TestServer;
  let site: TestSite;

  before(async () => {
    ts = await startCardManager();
    site = await registerTestSite(ts, { name: 'Comics <Daily>' } as never);
  });
  after(() => ts?.stop());

  /** A browser signed in to the card pages with `card`. */
  async function signedIn(card: { number: string; password: string }, headers: Record<string, string> = {}): Promise<Agent> {
    const agent = new Agent(ts.url);
    const form = await agent.request('/card/signin?next=/card/activity', { headers });
    const res = await agent.request('/card/signin', {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ csrf: csrfFrom(await form.text()), card_number: card.number, password: card.password, next: '/card/activity' }).toString(),
    });
    expect(res.status).to.equal(303);
    expect(location(res, ts.url).pathname).to.equal('/card/activity');
    return agent;
  }

  /** A wrong password typed on the member site's login page. */
  async function wrongAtSite(card: TestCard): Promise<void> {
    const config = await siteClient(ts, site);
    const agent = new Agent(ts.url);
    const { path, csrf } = await startInteraction(agent, (await authRequest(config, site)).url);
    expect((await agent.post(`${path}/login`, { csrf, card_number: card.number, password: WRONG })).status).to.equal(401);
  }

  async function activity(agent: Agent, query = ''): Promise<ActivityJson> {
    const res = await agent.request(`/api/holder/activity${query}`, { headers: { accept: 'application/json' } });
    expect(res.status, await res.clone().text()).to.equal(200);
    expect(res.headers.get('cache-control')).to.equal('no-store');
    return (await res.json()) as ActivityJson;
  }

  it("shows a wrong password at a member site's login page and the holder's sign-in, newest first, on the page and as JSON", async () => {
    const card = await issueTestCard(ts);
    const last4 = card.number.slice(-4);
    await wrongAtSite(card);
    const agent = await signedIn(card);

    const body = await activity(agent);
    expect(body.entries.map((e) => e.kind)).to.deep.equal(['signed_in_to_card_pages', 'wrong_password', 'card_issued']);
    expect(body.entries[1]).to.deep.include({
      text: 'Wrong password at the login page of Comics <Daily>.',
      card_last4: last4,
      site: 'Comics <Daily>',
      page: 'site_login',
    });
    expect(body.entries[0]).to.deep.include({ text: 'Signed in to these card pages.', card_last4: last4 });
    expect(Date.parse(body.entries[0]!.at)).to.be.at.least(Date.parse(body.entries[1]!.at));
    expect(body.next_before).to.equal(null);
    // No internal ids, request ids, addresses or raw details.
    const raw = JSON.stringify(body);
    for (const secret of [site.clientId, card.cardId, card.accountId, card.number, '127.0.0.1', 'requestId', 'details']) expect(raw).to.not.include(secret);

    const page = await agent.get('/card/activity');
    expect(page.status).to.equal(200);
    const html = withoutCellLabels(await page.text());
    const signIn = html.indexOf('Signed in to these card pages.');
    const wrong = html.indexOf('Wrong password at the login page of Comics &lt;Daily&gt;.');
    expect(signIn, 'the sign-in is listed').to.be.greaterThan(0);
    expect(wrong, 'the wrong password is listed, escaped, below the newer sign-in').to.be.greaterThan(signIn);
    expect(html).to.include(`ending ${last4}`).and.not.include(site.clientId).and.not.include('Comics <Daily>');
    expect(html).to.not.include('id="older"');
    // Times in the deployment's time zone (billing.timeZone), named once in the column's heading.
    const [date, time] = formatLocalTime(new Date(body.entries[0]!.at), 'Asia/Seoul').split(' ');
    expect(html).to.include('<th>When (Asia/Seoul)</th>');
    expect(html).to.include(`<td><span class="d">${date}</span> <span class="d">${time}</span></td>`);
    expect(await (await agent.get('/card/account')).text()).to.include('<a href="/card/activity">Activity</a>');

    const ko = await signedIn(card, { 'accept-language': 'ko' });
    const korean = await (await ko.request('/card/activity', { headers: { 'accept-language': 'ko' } })).text();
    expect(korean).to.include('카드 이용 내역').and.include('Comics &lt;Daily&gt; 로그인 페이지에서 잘못된 비밀번호가 입력되었습니다.');
    // The JSON stays in English, as every JSON API.
    const json = (await (await ko.request('/api/holder/activity', { headers: { 'accept-language': 'ko', accept: 'application/json' } })).json()) as ActivityJson;
    expect(json.entries[2]!.text).to.equal('Wrong password at the login page of Comics <Daily>.');
  });

  it('shows a login at a member site as signed in at the site, and a payment with its site and amount', async () => {
    const card = await cardWithLimit(ts, 100_000);
    const config = await siteClient(ts, site);
    const login = await runLogin(new Agent(ts.url), (await authRequest(config, site)).url, card);
    expect(login.kind).to.equal('redirect');
    await approveFor(ts, card, site, 8_000, 'Volume 1');
    const { entries } = await activity(await signedIn(card));
    expect(entries.slice(1, 3).map((e) => [e.kind, e.text, e.site])).to.deep.equal([
      ['payment_approved', 'Payment of 8,000 KRW approved at Comics <Daily>.', 'Comics <Daily>'],
      ['signed_in_at_site', 'Signed in at Comics <Daily>.', 'Comics <Daily>'],
    ]);
    expect(entries[1]).to.deep.include({ amount: 8_000, currency: 'KRW', card_last4: card.number.slice(-4) });
  });

  it('writes amounts and times in the page language: 8,000원 and 한국 시간 in Korean, 8,000 KRW and Asia/Seoul in English', async () => {
    const card = await cardWithLimit(ts, 100_000);
    await approveFor(ts, card, site, 8_000, 'Volume 1');
    const until = new Date('2026-11-30T01:30:00Z');
    await appendAudit(ts.db, { actor: 'test', action: 'card.locked', subjectType: 'card', subjectId: card.cardId, details: { accountId: card.accountId, until: until.toISOString(), strikes: 5 } });
    const ko = { 'accept-language': 'ko' };
    const korean = unescapeHtml(withoutCellLabels(await (await (await signedIn(card, ko)).request('/card/activity', { headers: ko })).text()));
    expect(korean).to.include('Comics <Daily>에서 8,000원 결제가 승인되었습니다.').and.not.include('KRW');
    expect(korean).to.include('잘못된 비밀번호나 코드가 너무 많이 입력되어 2026-11-30 10:30 한국 시간까지 카드가 잠겼습니다.').and.not.include('Asia/Seoul');
    const english = unescapeHtml(withoutCellLabels(await (await (await signedIn(card)).get('/card/activity')).text()));
    expect(english).to.include('Payment of 8,000 KRW approved at Comics <Daily>.');
    expect(english).to.include('Card locked after too many wrong passwords or codes, until 2026-11-30 10:30 Asia/Seoul.');
  });

  it('shows a wrong one-time code, saying what it was for', async () => {
    const card = await issueTestCard(ts);
    await ts.db('accounts').where({ id: card.accountId }).update({ email: `codes-${card.cardId.slice(0, 8)}@example.test` });
    const asked = await fetch(`${ts.url}/api/cards/lost/code`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ card_number: card.number }) });
    expect(asked.status).to.equal(202);
    const wrong = await fetch(`${ts.url}/api/cards/lost`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ card_number: card.number, code: '000000' }) });
    expect(wrong.status).to.equal(400);
    const { entries } = await activity(await signedIn(card));
    expect(entries.slice(0, 2).map((e) => [e.kind, e.text])).to.deep.equal([
      ['signed_in_to_card_pages', 'Signed in to these card pages.'],
      ['wrong_code_lost_card', 'Wrong code when reporting the card lost.'],
    ]);
  });

  it('shows once a day that codes were stopped after too many were asked for, saying what they were for', async () => {
    const card = await issueTestCard(ts);
    await ts.db('accounts').where({ id: card.accountId }).update({ email: `stopped-${card.cardId.slice(0, 8)}@example.test` });
    const ask = () => fetch(`${ts.url}/api/cards/lost/code`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ card_number: card.number }) });
    const { maxPerHour, maxPerDay } = ts.config.oneTimeCodes;
    for (let i = 0; i < maxPerDay; i++) {
      expect((await ask()).status).to.equal(202);
      // Spread over hours, within the hourly limit.
      if ((i + 1) % maxPerHour === 0) await ts.db('one_time_codes').where({ card_id: card.cardId }).update({ created_at: ts.db.raw("created_at - interval '2 hours'") });
    }
    expect((await ask()).status).to.equal(429);
    expect((await ask()).status).to.equal(429);
    const { entries } = await activity(await signedIn(card));
    expect(entries.slice(0, 2).map((e) => [e.kind, e.text])).to.deep.equal([
      ['signed_in_to_card_pages', 'Signed in to these card pages.'],
      ['codes_stopped_lost_card', 'Codes to report the card lost were asked for too many times in a day: no more were sent that day.'],
    ]);
    expect(entries.filter((e) => e.kind.startsWith('codes_stopped'))).to.have.length(1);
  });

  it('shows a change of email or mobile, and says so when cybercard made it', async () => {
    const card = await issueTestCard(ts);
    const res = await fetch(`${ts.url}/admin/api/cards/${card.cardId}/contacts`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${ts.config.secrets.operatorToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ email: `moved-${card.cardId.slice(0, 8)}@example.test`, reason: 'the holder called from the new address' }),
    });
    expect(res.status, await res.clone().text()).to.equal(200);
    const { entries } = await activity(await signedIn(card));
    expect(entries.slice(0, 2).map((e) => [e.kind, e.text])).to.deep.equal([
      ['signed_in_to_card_pages', 'Signed in to these card pages.'],
      ['contacts_corrected', 'Email address or mobile number changed by cybercard.'],
    ]);
  });

  it('shows a copy of the data cybercard gave out on a request, so a holder sees one they did not ask for', async () => {
    const card = await issueTestCard(ts);
    const res = await fetch(`${ts.url}/admin/api/cards/${card.cardId}/export`, { headers: { authorization: `Bearer ${ts.config.secrets.operatorToken}` } });
    expect(res.status, await res.clone().text()).to.equal(200);
    const { entries } = await activity(await signedIn(card));
    expect(entries.slice(0, 2).map((e) => [e.kind, e.about, e.text])).to.deep.equal([
      ['signed_in_to_card_pages', 'card', 'Signed in to these card pages.'],
      ['data_given_by_cybercard', 'account', 'cybercard gave out a copy of your data on a request.'],
    ]);
  });

  it("warns on the account page of wrong passwords since the holder's previous sign-in, with the count, linking to the activity", async () => {
    const card = await issueTestCard(ts);
    await signedIn(card);
    for (let i = 0; i < 3; i++) await wrongAtSite(card);
    // A sign-in that asked for no page lands on the account page, where the warning is.
    const agent = new Agent(ts.url);
    const form = await (await agent.get('/card/signin')).text();
    const landed = await agent.post('/card/signin', { csrf: csrfFrom(form), card_number: card.number, password: card.password });
    expect(location(landed, ts.url).pathname).to.equal('/card/account');
    const html = await (await agent.get(location(landed, ts.url))).text();
    const warning = /<p class="error" role="alert" id="wrong-passwords">([\s\S]*?)<\/p>/.exec(html)?.[1];
    expect(warning, 'the warning').to.be.a('string');
    expect(unescapeHtml(warning!).replace(/\s+/g, ' ')).to.include(
      '3 wrong passwords were entered for this card since your last sign-in. If that was not you, change your password.',
    );
    expect(warning).to.include('href="/card/activity"');
    // Signed in again, the holder has seen them: no warning.
    expect(await (await (await signedIn(card)).get('/card/account')).text()).to.not.include('id="wrong-passwords"');

    // Never signed in before: the last 30 days.
    const fresh = await issueTestCard(ts);
    await wrongAtSite(fresh);
    const first = await (await (await signedIn(fresh)).get('/card/account')).text();
    expect(unescapeHtml(first).replace(/\s+/g, ' ')).to.include(
      'A wrong password was entered for this card in the last 30 days. If that was not you, change your password.',
    );
  });

  it("keeps an older card's entries after a reissue, marked with its last four digits, and never shows another holder's", async () => {
    const card = await issueTestCard(ts);
    const stranger = await issueTestCard(ts);
    await wrongAtSite(card);
    await wrongAtSite(stranger);
    await signedIn(stranger);
    const issued = await reissue(ts.cm.cards, { cardId: card.cardId, actor: 'test', reason: 'test' });
    const [oldLast4, newLast4] = [card.number.slice(-4), issued.cardNumber.slice(-4)];
    const { entries } = await activity(await signedIn({ number: issued.cardNumber, password: issued.password }));
    expect(entries.map((e) => [e.kind, e.card_last4])).to.deep.equal([
      ['signed_in_to_card_pages', newLast4],
      ['card_replaced', oldLast4],
      ['card_closed', oldLast4],
      ['wrong_password', oldLast4],
      ['card_issued', oldLast4],
    ]);
    expect(entries[1]!.text).to.equal(`Card replaced by a new card ending ${newLast4}.`);
    expect(JSON.stringify(entries)).to.not.include(stranger.number.slice(-4));
  });

  it('says what a change of spending controls changed, and marks entries about the whole account as such', async () => {
    const card = await issueTestCard(ts);
    const agent = await signedIn(card);
    const controls = async (body: Record<string, unknown>) => {
      const res = await agent.request('/api/holder/controls', {
        method: 'PUT',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        // With the card password: some of these loosen the controls, which asks for it.
        body: JSON.stringify({ max_per_approval: null, monthly_cap: null, blocked_sites: [], adult_content_off: false, password: card.password, ...body }),
      });
      expect(res.status, await res.clone().text()).to.equal(200);
    };
    // An entry written before the change was recorded keeps the plain words.
    await appendAudit(ts.db, { actor: 'test', action: 'account.controls_changed', subjectType: 'account', subjectId: card.accountId, details: { maxPerApproval: 1 } });
    await controls({ max_per_approval: 10_000 });
    await controls({ max_per_approval: 20_000, monthly_cap: 50_000, adult_content_off: true, blocked_sites: [site.clientId] });
    await controls({ max_per_approval: 20_000, monthly_cap: 50_000 });
    await controls({ max_per_approval: 20_000, monthly_cap: 50_000 });

    const { entries } = await activity(agent);
    const changes = entries.filter((e) => e.kind === 'spending_controls_changed') as Array<Entry & { control_changes: unknown; about: string }>;
    expect(changes.map((e) => e.text)).to.deep.equal([
      'Spending controls saved, nothing changed.',
      'Spending controls changed: adult content on again; Comics <Daily> unblocked.',
      'Spending controls changed: maximum per payment 10,000 KRW → 20,000 KRW; monthly cap no limit → 50,000 KRW; adult content off; Comics <Daily> blocked.',
      'Spending controls changed: maximum per payment no limit → 10,000 KRW.',
      'Spending controls changed.',
    ]);
    expect(changes[2]!.control_changes).to.deep.equal([
      { control: 'max_per_approval', from: 10_000, to: 20_000 },
      { control: 'monthly_cap', from: null, to: 50_000 },
      { control: 'adult_content_off', to: true },
      { control: 'blocked_sites', site: 'Comics <Daily>', blocked: true },
    ]);
    expect(changes[2]).to.include({ currency: 'KRW', about: 'account', card_last4: null });
    expect(changes[4]!.control_changes).to.equal(null);
    expect(entries.find((e) => e.kind === 'signed_in_to_card_pages')).to.include({ about: 'card', card_last4: card.number.slice(-4) });
    expect(JSON.stringify(entries)).to.not.include(site.clientId);

    const html = withoutCellLabels(await (await agent.get('/card/activity')).text());
    expect(html).to.include('Spending controls changed: maximum per payment 10,000 KRW → 20,000 KRW; monthly cap no limit → 50,000 KRW; adult content off; Comics &lt;Daily&gt; blocked.');
    const row = (kind: string) => new RegExp(`<tr class="${kind}"><td>.*?</td><td class="d">(.*?)</td>`).exec(html)?.[1];
    expect(row('spending_controls_changed')).to.equal('<span class="muted">whole account</span>');
    expect(row('signed_in_to_card_pages')).to.equal(`ending ${card.number.slice(-4)}`);
    const korean = await (await agent.request('/card/activity', { headers: { 'accept-language': 'ko' } })).text();
    expect(korean).to.include('사용 제한을 변경했습니다: 성인 콘텐츠 다시 켜기; Comics &lt;Daily&gt; 차단 해제.').and.include('계정 전체');
  });

  it('pages 50 entries at a time with before, leaving out internal and unknown entries', async () => {
    const card = await issueTestCard(ts);
    const agent = await signedIn(card);
    for (let i = 0; i < 60; i++) {
      await appendAudit(ts.db, { actor: 'test', action: 'account.controls_changed', subjectType: 'account', subjectId: card.accountId, details: { i } });
      if (i % 20 === 0) {
        await appendAudit(ts.db, { actor: 'test', action: 'account.tokens_revoked', subjectType: 'account', subjectId: card.accountId, details: { reason: 'x' } });
        await appendAudit(ts.db, { actor: 'test', action: 'some.future_action', subjectType: 'card', subjectId: card.cardId, details: { secret: 'internal' } });
        // Read, then left out (a card's activation is its issue): the page is filled from older entries.
        await appendAudit(ts.db, { actor: 'test', action: 'card.status_changed', subjectType: 'card', subjectId: card.cardId, details: { from: 'pending', to: 'active', reason: 'internal' } });
      }
    }
    const first = await activity(agent);
    expect(first.entries).to.have.length(50);
    expect(first.entries.every((e) => e.kind === 'spending_controls_changed')).to.equal(true);
    expect(first.next_before).to.be.a('number');
    const second = await activity(agent, `?before=${first.next_before}`);
    // 60 changes, the sign-in and the card's issue: 62 shown in all.
    expect(second.entries.map((e) => e.kind)).to.deep.equal([...Array(10).fill('spending_controls_changed'), 'signed_in_to_card_pages', 'card_issued']);
    expect(second.next_before).to.equal(null);
    expect(JSON.stringify([first, second])).to.not.include('internal');

    const page = await (await agent.get('/card/activity')).text();
    expect(page).to.include(`id="older" href="/card/activity?before=${first.next_before}"`);
    const older = await (await agent.get(`/card/activity?before=${first.next_before}`)).text();
    expect(older).to.include('id="newest" href="/card/activity"').and.not.include('id="older"');
    expect(older.match(/<tr class="/g)).to.have.length(12);
  });

  it('refuses a bad before with 400 and a clear message, on the page and as JSON', async () => {
    const agent = await signedIn(await issueTestCard(ts));
    const message = 'To see older activity, before= must be one whole number from 1, as the "Older activity" link gives it.';
    for (const bad of ['abc', '-1', '0', '1.5', '1e3', '', '99999999999999999999', '9007199254740993', '1&before=2', '%00']) {
      const api = await agent.request(`/api/holder/activity?before=${bad}`, { headers: { accept: 'application/json' } });
      expect(api.status, bad).to.equal(400);
      expect(await api.json(), bad).to.deep.equal({ error: 'invalid_request', error_description: message, fields: { before: message } });
      const page = await agent.get(`/card/activity?before=${bad}`);
      expect(page.status, bad).to.equal(400);
      expect(unescapeHtml(await page.text()), bad).to.include(message);
    }
  });

  it('sends a visitor without a session to the sign-in page, and an API caller a 401', async () => {
    const stranger = new Agent(ts.url);
    const page = await stranger.get('/card/activity');
    expect(page.status).to.equal(303);
    expect(location(page, ts.url).pathname + location(page, ts.url).search).to.equal('/card/signin?next=%2Fcard%2Factivity');
    const api = await stranger.request('/api/holder/activity', { headers: { accept: 'application/json' } });
    expect(api.status).to.equal(401);
    expect(((await api.json()) as { error: string }).error).to.equal('not_signed_in');
  });
});
