import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { Agent, csrfFrom, interactionPathFrom, runLogin } from '../helpers/agent.ts';
import { authRequest, issueTestCard, registerTestSite, siteClient } from '../helpers/fixtures.ts';
import { startCardManager, type TestServer } from '../helpers/server.ts';

const OLD = 'old-cookie-key-'.padEnd(40, 'o');
const NEW = 'new-cookie-key-'.padEnd(40, 'n');

/** A Set-Cookie line as a browser keeps it: its name, and the options it is kept by (when it ends, never its date). */
function kept(line: string): { name: string; options: Record<string, string | true> } {
  const [pair, ...attrs] = line.split(';').map((s) => s.trim());
  const options: Record<string, string | true> = {};
  for (const a of attrs) {
    const [k, v] = a.split('=') as [string, string | undefined];
    const key = k.toLowerCase();
    options[key === 'max-age' || key === 'expires' ? 'ends' : key] = key === 'expires' || key === 'max-age' ? true : (v?.toLowerCase() ?? true);
  }
  return { name: pair!.slice(0, pair!.indexOf('=')), options };
}

/** The cookies (name=value) a browser holding these Set-Cookie lines sends back. */
function cookieHeader(lines: string[]): string {
  return lines.map((l) => l.split(';')[0]).join('; ');
}

/**
 * Each cookie `after` sets again that `before` had set: it must be set with the options it was first set with
 * (a signature signed again under the new key that lost its path, SameSite or end is another cookie).
 */
function expectSetAgainAlike(first: string[], again: string[]): void {
  const original = new Map(first.map((l) => [kept(l).name, kept(l).options]));
  for (const line of again) {
    const { name, options } = kept(line);
    if (original.has(name)) expect(options, `${name} set again`).to.deep.equal(original.get(name));
  }
}

/**
 * After a rotation of COOKIE_KEYS (the new key first, the old one after it), every signed cookie the old key signed
 * still verifies, and whichever is signed again under the new key keeps its options (the device cookie has its own
 * test, device-cookie-rotation.test.ts).
 */
describe('signed cookies across a rotation of COOKIE_KEYS', () => {
  const alice = randomBytes(32).toString('base64url');
  let before: TestServer;
  let after: TestServer;
  beforeEach(async () => {
    before = await startCardManager({}, { env: { COOKIE_KEYS: OLD, OPERATOR_TOKENS: `alice:${alice}` } });
    after = await startCardManager({}, { env: { COOKIE_KEYS: `${NEW},${OLD}`, OPERATOR_TOKENS: `alice:${alice}` } });
  });
  afterEach(async () => {
    await before.stop();
    await after.stop();
  });

  it("keeps the holder session's and the CSRF cookie's options: the session still lasts its minutes, SameSite still set", async () => {
    const card = await issueTestCard(before);
    const form = await fetch(`${before.url}/card/signin`);
    const csrfLines = form.headers.getSetCookie();
    const signin = await fetch(`${before.url}/card/signin`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: cookieHeader(csrfLines) },
      body: new URLSearchParams({ csrf: csrfFrom(await form.text()), card_number: card.number, password: card.password }).toString(),
    });
    expect(signin.status).to.equal(303);
    const first = [...csrfLines, ...signin.headers.getSetCookie()];
    expect(first.map((l) => kept(l).name)).to.include.members(['cc.holder', 'cc.holder.sig', 'cc.csrf', 'cc.csrf.sig']);

    const page = await fetch(`${after.url}/card/account`, { redirect: 'manual', headers: { cookie: cookieHeader(first) } });
    expect(page.status, 'still signed in under the rotated keys').to.equal(200);
    const again = page.headers.getSetCookie();
    expect(again.map((l) => kept(l).name), 'signed again under the new key').to.include.members(['cc.holder.sig', 'cc.csrf.sig']);
    expectSetAgainAlike(first, again);
  });

  it("keeps the console session's options: its path and SameSite=Strict", async () => {
    const form = await fetch(`${before.url}/admin/signin`);
    const csrfLines = form.headers.getSetCookie();
    const signin = await fetch(`${before.url}/admin/signin`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: cookieHeader(csrfLines) },
      body: new URLSearchParams({ csrf: csrfFrom(await form.text()), token: alice }).toString(),
    });
    expect(signin.status).to.equal(303);
    const first = [...csrfLines, ...signin.headers.getSetCookie()];
    expect(first.map((l) => kept(l).name)).to.include.members(['cc.operator', 'cc.operator.sig']);

    const page = await fetch(`${after.url}/admin/cards`, { redirect: 'manual', headers: { cookie: cookieHeader(first) } });
    expect(page.status, 'still signed in under the rotated keys').to.equal(200);
    expectSetAgainAlike(first, page.headers.getSetCookie());
  });

  it("keeps the provider's interaction cookies' options: no signature at / beside the one at the interaction's path", async () => {
    const site = await registerTestSite(before);
    const req = await authRequest(await siteClient(before, site), site);
    const start = await new Agent(before.url).get(req.url);
    const first = start.headers.getSetCookie();
    expect(first.map((l) => kept(l).name)).to.include.members(['_interaction', '_interaction.sig', '_interaction_resume', '_interaction_resume.sig']);
    const interaction = interactionPathFrom(await start.text())!;

    const page = await fetch(`${after.url}${interaction}`, { redirect: 'manual', headers: { cookie: cookieHeader(first) } });
    expect(page.status, 'the sign-in page, the interaction cookie verified').to.equal(200);
    expect(await page.text()).to.include('name="card_number"');
    expectSetAgainAlike(first, page.headers.getSetCookie());
  });

  it("keeps the member-site session cookie's options when the provider sets it again: its end and SameSite", async () => {
    const site = await registerTestSite(before);
    const card = await issueTestCard(before);
    const lines: string[] = [];
    const agent = new Agent(before.url, async (url, init) => {
      const res = await fetch(url, init);
      lines.push(...res.headers.getSetCookie());
      return res;
    });
    expect((await runLogin(agent, (await authRequest(await siteClient(before, site), site)).url, card)).kind).to.equal('redirect');
    const first = lines.filter((l) => /^_session(\.sig)?=/.test(l) && !/expires=Thu, 01 Jan 1970/i.test(l));
    expect(first.map((l) => kept(l).name)).to.include.members(['_session', '_session.sig']);

    const req = await authRequest(await siteClient(after, site), site);
    req.url.searchParams.delete('prompt');
    const cookie = [...agent.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    const res = await fetch(req.url, { redirect: 'manual', headers: { cookie } });
    expect(res.status, 'sent back to the site, signed in').to.equal(303);
    const again = res.headers.getSetCookie();
    expect(again.filter((l) => l.startsWith('_session.sig=')), 'one signature, under the new key').to.have.length(1);
    expectSetAgainAlike(first.slice(-2), again);
  });
});

/**
 * A key that may have leaked is dropped at once: COOKIE_KEYS the new key alone, and a restart. Nothing keeps it
 * verifying after that (an interaction cookie's minutes, `oidc.ttl.interaction`, are how long the old key must stay
 * for a sign-in in flight to finish, not a time the card manager holds on to it): a cookie only it signed, or one forged
 * with it, opens nothing, and is answered with the ordinary pages, never a 500.
 */
describe('dropping a leaked COOKIE_KEYS entry at once', () => {
  let before: TestServer;
  let after: TestServer;
  beforeEach(async () => {
    before = await startCardManager({}, { env: { COOKIE_KEYS: OLD } });
    after = await startCardManager({}, { env: { COOKIE_KEYS: NEW } });
  });
  afterEach(async () => {
    await before.stop();
    await after.stop();
  });

  it('ends what only the dropped key signed: the holder session signs out, a sign-in in flight is told to start again', async () => {
    const card = await issueTestCard(before);
    const form = await fetch(`${before.url}/card/signin`);
    const csrfLines = form.headers.getSetCookie();
    const signin = await fetch(`${before.url}/card/signin`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: cookieHeader(csrfLines) },
      body: new URLSearchParams({ csrf: csrfFrom(await form.text()), card_number: card.number, password: card.password }).toString(),
    });
    expect(signin.status).to.equal(303);
    const session = cookieHeader([...csrfLines, ...signin.headers.getSetCookie()]);
    expect((await fetch(`${before.url}/card/account`, { redirect: 'manual', headers: { cookie: session } })).status).to.equal(200);
    const account = await fetch(`${after.url}/card/account`, { redirect: 'manual', headers: { cookie: session } });
    expect(account.status, 'signed out: on to the sign-in page').to.equal(303);
    expect(account.headers.get('location')).to.match(/\/card\/signin/);

    const site = await registerTestSite(before);
    const req = await authRequest(await siteClient(before, site), site);
    const start = await new Agent(before.url).get(req.url);
    const interaction = interactionPathFrom(await start.text())!;
    const page = await fetch(`${after.url}${interaction}`, { redirect: 'manual', headers: { accept: 'text/html', cookie: cookieHeader(start.headers.getSetCookie()) } });
    expect(page.status, 'the interaction cookie no longer verifies').to.be.within(400, 499);
    const text = await page.text();
    expect(text).to.include('This sign-in has expired or your browser did not keep its cookies. Please start again from the member site.');
    expect(text).not.to.include('name="card_number"');
  });
});
