import { expect } from 'chai';
import { createHmac } from 'node:crypto';
import { renderMessage } from '../../src/notifications/templates.ts';
import { csrfOf, type ForwardedAgent } from '../helpers/agent.ts';
import { APPLY_SERVER, issueByApplication } from '../helpers/applicant.ts';
import { signedInHolder } from '../helpers/holder.ts';
import { alertText, fieldError, unescapeHtml } from '../helpers/html.ts';
import { startCardManager, type TestServer } from '../helpers/server.ts';
import { billingToday, nextDateOnDay, plusDays, STATEMENT_DAY_RANGE } from '../ledger/fixtures.ts';

type Holder = Awaited<ReturnType<typeof issueByApplication>>;

/** The holder's statement day: /card/statement-day and GET/PUT /api/holder/statement-day, on today's real date. */
describe("the holder's statement day (/card/statement-day, /api/holder/statement-day)", () => {
  let ts: TestServer;

  before(async () => {
    ts = await startCardManager(APPLY_SERVER);
  });
  after(() => ts.stop());

  const today = () => billingToday(ts);

  const schedule = (h: Holder) => ts.db('accounts').where({ id: h.accountId }).select('statement_day', 'previous_statement_day', 'statement_day_from').first();
  const audit = (h: Holder) => ts.db('audit_log').where({ subject_id: h.accountId, action: 'account.statement_day_changed' });
  const unchangedSince = async (h: Holder) => ({ schedule: await schedule(h), audit: (await audit(h)).length });

  async function page(agent: ForwardedAgent): Promise<{ html: string; csrf: string }> {
    const res = await agent.get('/card/statement-day');
    expect(res.status).to.equal(200);
    const html = await res.text();
    return { html, csrf: csrfOf(html, '/card/statement-day') };
  }

  function put(agent: ForwardedAgent, body: unknown, contentType = 'application/json') {
    return agent.request('/api/holder/statement-day', {
      method: 'PUT',
      headers: { 'content-type': contentType, accept: 'application/json' },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
  }

  it('shows the day, the next statement and its due date, and changes it on the page: audited, told, and in the activity', async () => {
    const h = await issueByApplication(ts);
    const agent = await signedInHolder(ts.url, h);
    const account = unescapeHtml(await (await agent.get('/card/account')).text());
    expect(account).to.include('id="statement-day">Day 1 of each month <a href="/card/statement-day">Change the statement day</a>');
    const shown = await page(agent);
    const html = unescapeHtml(shown.html);
    const next = nextDateOnDay(1, today());
    expect(html).to.include('id="day">Day 1 of each month<');
    expect(html).to.include(`id="next">${next}, payment due on ${plusDays(next, 14)}<`);
    expect(html).to.include('A statement closes at the start of its day (Asia/Seoul time) and bills everything booked before; payment is due 14 days after it.');
    expect(html).to.match(/<option value="1" selected>/);

    const day = 20;
    const first = nextDateOnDay(day, today());
    const closes = first < next ? first : next;
    const res = await agent.post('/card/statement-day', { csrf: shown.csrf, statement_day: String(day) });
    expect(res.status).to.equal(200);
    const notice = /id="notice">([^<]*)</.exec(await res.text())?.[1];
    expect(unescapeHtml(notice ?? '')).to.equal(
      first === closes
        ? `Statements now close on day ${day}. Your current period closes early, on ${closes}, with payment due on ${plusDays(closes, 14)}; every statement after it closes on day ${day} too.`
        : `Statements now close on day ${day}. Your current period still closes on ${closes}, with payment due on ${plusDays(closes, 14)}; the statement of ${first}, covering the days between, is the first on day ${day}.`,
    );
    expect(await schedule(h)).to.deep.equal({ statement_day: day, previous_statement_day: 1, statement_day_from: first });

    const [entry, ...more] = await audit(h);
    expect(more).to.have.length(0);
    expect(entry.actor).to.equal(`card:${h.cardId}`);
    expect(entry.request_id).to.be.a('string');
    expect(entry.details).to.deep.equal({ from: 1, to: day, firstStatementDate: first, currentPeriodCloses: closes, dueDate: plusDays(closes, 14), by: 'holder' });
    const told = await ts.db('notifications_outbox').where({ account_id: h.accountId, template: 'statement_day_changed' });
    expect(told.map((m) => m.channel).sort()).to.deep.equal(['email', 'sms']);
    expect(told[0].data).to.deep.equal({ day, previous: 1, closes, due: plusDays(closes, 14), first, by: 'holder' });
    expect(renderMessage('statement_day_changed', told[0].data, ts.url, 'en', 'email').text).to.equal(
      `You changed the statement day of your cyber card from day 1 to day ${day} of each month. Your current statement period closes on ${closes}, ` +
        `with payment due on ${plusDays(closes, 14)}${first === closes ? '.' : `; the statement of ${first} is the first on day ${day}.`} ` +
        `If this was not you, block your card at once: ${ts.url}/card/lost`,
    );

    const activity = unescapeHtml(await (await agent.get('/card/activity')).text());
    expect(activity).to.include(`Statement day changed from day 1 to day ${day}, from the statement of ${first} on.`);
    const json = (await (await agent.request('/api/holder/account', { headers: { accept: 'application/json' } })).json()) as Record<string, unknown>;
    expect(json).to.deep.include({ statement_day: day, statement_day_from: first, previous_statement_day: 1 });
  });

  it('refuses bad choices on the page, the form shown again and nothing changed: 0, 29, x, 1.5, empty, missing, repeated, an extra field', async () => {
    const h = await issueByApplication(ts);
    const agent = await signedInHolder(ts.url, h);
    const { csrf } = await page(agent);
    const before = await unchangedSince(h);
    for (const bad of ['0', '29', 'x', '1.5', '', ' 5', '05', '<script>alert(1)</script>']) {
      const res = await agent.post('/card/statement-day', { csrf, statement_day: bad });
      expect(res.status, bad).to.equal(400);
      const html = await res.text();
      expect(fieldError(html, 'statement_day'), bad).to.equal('Choose a day from 1 to 28.');
      expect(alertText(html)).to.equal('Some fields need attention.');
      expect(html).to.include('<select id="statement_day" name="statement_day"');
      expect(html).to.not.include('<script>alert(1)');
    }
    const missing = await agent.post('/card/statement-day', { csrf });
    expect(missing.status).to.equal(400);
    expect(fieldError(await missing.text(), 'statement_day')).to.equal('Choose a day from 1 to 28.');
    const repeated = await agent.request('/card/statement-day', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `csrf=${encodeURIComponent(csrf)}&statement_day=5&statement_day=6`,
    });
    expect(repeated.status).to.equal(400);
    expect(fieldError(await repeated.text(), 'statement_day')).to.equal('Send this field once, as text.');
    // The form names no account: a field naming one (or anything else) is refused, the day chosen kept.
    const other = await issueByApplication(ts);
    const extra = await agent.post('/card/statement-day', { csrf, statement_day: '5', account_id: other.accountId });
    expect(extra.status).to.equal(400);
    const extraHtml = await extra.text();
    expect(alertText(extraHtml)).to.equal('This form takes only the statement day.');
    expect(extraHtml).to.match(/<option value="5" selected>/);
    expect(await unchangedSince(h)).to.deep.equal(before);
    expect(await schedule(other)).to.deep.equal({ statement_day: 1, previous_statement_day: null, statement_day_from: null });
  });

  it("refuses a post without this form's CSRF token (403), and a signed-out browser is sent to sign in", async () => {
    const h = await issueByApplication(ts);
    const agent = await signedInHolder(ts.url, h);
    const before = await unchangedSince(h);
    const controls = csrfOf(await (await agent.get('/card/controls')).text(), '/card/controls');
    for (const form of [{ statement_day: '5' }, { csrf: 'forged', statement_day: '5' }, { csrf: controls, statement_day: '5' }] as Array<Record<string, string>>) {
      const res = await agent.post('/card/statement-day', form);
      expect(res.status, JSON.stringify(form)).to.equal(403);
      expect(alertText(await res.text())).to.match(/^This form has expired or was not sent from this site/);
    }
    const { csrf } = await page(agent);
    const signedOut = new (agent.constructor as typeof ForwardedAgent)(ts.url, agent.ip);
    const res = await signedOut.post('/card/statement-day', { csrf, statement_day: '5' });
    expect(res.status).to.equal(303);
    expect(res.headers.get('location')).to.equal('/card/signin?next=%2Fcard%2Fstatement-day');
    const api = await put(signedOut, { statement_day: 5 });
    expect(api.status).to.equal(401);
    expect(await unchangedSince(h)).to.deep.equal(before);
  });

  it('takes only CSRF tokens made for this session: a CSRF cookie planted by a same-site page forges no change [cookie tossing]', async () => {
    const h = await issueByApplication(ts);
    const victim = await signedInHolder(ts.url, h);
    const before = await unchangedSince(h);
    // Any visitor is handed a signed CSRF cookie whose value is the secret; a page on the same site (another port of
    // the host, a sibling subdomain) can plant that pair in the holder's browser, where the Lax session cookie goes too.
    const attacker = new (victim.constructor as typeof ForwardedAgent)(ts.url, '203.0.113.77');
    await attacker.get('/card/signin');
    const secret = attacker.cookies.get('cc.csrf')!;
    victim.cookies.set('cc.csrf', secret);
    victim.cookies.set('cc.csrf.sig', attacker.cookies.get('cc.csrf.sig')!);
    for (const [path, purpose, form] of [
      ['/card/statement-day', 'holder:statement-day', { statement_day: '5' }],
      ['/card/signout', 'holder:signout', {}],
    ] as Array<[string, string, Record<string, string>]>) {
      const forged = createHmac('sha256', decodeURIComponent(secret)).update(purpose).digest('base64url');
      expect((await victim.post(path, { csrf: forged, ...form })).status, path).to.equal(403);
    }
    expect(await unchangedSince(h)).to.deep.equal(before);
    // The page's own form, made for this session with the planted cookie, still works; and signing out with it too.
    const { csrf } = await page(victim);
    expect((await victim.post('/card/statement-day', { csrf, statement_day: '5' })).status).to.equal(200);
    expect((await schedule(h)).statement_day).to.equal(5);
    const nav = await (await victim.get('/card/account')).text();
    const out = await victim.post('/card/signout', { csrf: csrfOf(nav, '/card/signout') });
    expect(out.status).to.equal(303);
    expect((await victim.get('/card/account')).status).to.equal(303);
  });

  it('refuses bad JSON with 4xx and nothing changed: 0, 29, "x", "15", 1.5, null, missing, extra keys, not an object, not JSON', async () => {
    const h = await issueByApplication(ts);
    const other = await issueByApplication(ts);
    const agent = await signedInHolder(ts.url, h);
    const before = await unchangedSince(h);
    for (const bad of [0, 29, -1, 'x', '15', 1.5, null, true]) {
      const res = await put(agent, { statement_day: bad });
      expect(res.status, String(bad)).to.equal(400);
      expect(await res.json()).to.deep.equal({ error: 'invalid_request', error_description: 'Some fields need attention.', fields: { statement_day: STATEMENT_DAY_RANGE } });
    }
    const missing = await put(agent, {});
    expect(missing.status).to.equal(400);
    expect(((await missing.json()) as { fields: Record<string, string> }).fields).to.deep.equal({ statement_day: STATEMENT_DAY_RANGE });
    const extra = await put(agent, { statement_day: 5, account_id: other.accountId });
    expect(extra.status).to.equal(400);
    expect(((await extra.json()) as { error: string }).error).to.equal('invalid_request');
    expect((await put(agent, [5])).status).to.equal(400);
    expect((await put(agent, '{"statement_day": 5')).status).to.equal(400);
    expect((await put(agent, 'statement_day=5', 'application/x-www-form-urlencoded')).status).to.equal(415);
    expect(await unchangedSince(h)).to.deep.equal(before);
    expect(await schedule(other)).to.deep.equal({ statement_day: 1, previous_statement_day: null, statement_day_from: null });
  });

  it("changes only the signed-in holder's own account, and refuses the day already in force (409)", async () => {
    const a = await issueByApplication(ts);
    const b = await issueByApplication(ts);
    const agentB = await signedInHolder(ts.url, b);
    const res = await put(agentB, { statement_day: 9 });
    expect(res.status).to.equal(200);
    expect((await schedule(b)).statement_day).to.equal(9);
    expect(await schedule(a)).to.deep.equal({ statement_day: 1, previous_statement_day: null, statement_day_from: null });
    expect(await audit(a)).to.have.length(0);

    const agentA = await signedInHolder(ts.url, a);
    const same = await put(agentA, { statement_day: 1 });
    expect(same.status).to.equal(409);
    expect(await same.json()).to.deep.equal({ error: 'statement_day_unchanged', error_description: 'Statements close on day 1 already.' });
    const { csrf } = await page(agentA);
    const onPage = await agentA.post('/card/statement-day', { csrf, statement_day: '1' });
    expect(onPage.status).to.equal(409);
    expect(alertText(await onPage.text())).to.equal('Statements close on day 1 already.');
    expect(await audit(a)).to.have.length(0);
  });

  it('shows the page and its refusals in Korean', async () => {
    const h = await issueByApplication(ts);
    const agent = await signedInHolder(ts.url, h);
    const res = await agent.request('/card/statement-day', { headers: { 'accept-language': 'ko' } });
    const html = unescapeHtml(await res.text());
    expect(html).to.include('<h1 id="heading" tabindex="-1" autofocus>명세서 작성일</h1>');
    expect(html).to.include('id="day">매월 1일<');
    expect(html).to.include('명세서 작성일 변경</button>');
    const refused = await agent.request('/card/statement-day', {
      method: 'POST',
      headers: { 'accept-language': 'ko', 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ csrf: csrfOf(html, '/card/statement-day'), statement_day: '1' }).toString(),
    });
    expect(refused.status).to.equal(409);
    expect(alertText(await refused.text())).to.equal('이미 매월 1일에 명세서가 작성됩니다.');
  });
});
