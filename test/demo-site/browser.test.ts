import { expect } from 'chai';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Page } from 'playwright-core';
import { formatCardNumber } from '../../src/cards/card-number.ts';
import { upsertResourceServer } from '../../src/db/member-sites.ts';
import { createDemoSite } from '../../src/demo-site/app.ts';
import { registerMemberSite } from '../../src/member-sites/register.ts';
import { close } from '../../src/server.ts';
import { newPage, screenshotOnFailure, useBrowser } from '../helpers/browser.ts';
import { issueTestCard, type TestCard } from '../helpers/fixtures.ts';
import { startCardManager, type TestServer } from '../helpers/server.ts';

const SITE_NAME = 'Demo member site';

interface DemoSite {
  url: string;
  clientId: string;
  resource: string;
  server: Server;
}

/**
 * The real demo member site on an ephemeral port, registered with the card manager. The socket
 * is bound first so the site's redirect URI and resource server can name the port it got.
 */
async function startDemoSite(ts: TestServer): Promise<DemoSite> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const resource = `${url}/api`;
  await upsertResourceServer(ts.db, { identifier: resource, name: `${SITE_NAME} API`, scope: '', accessTokenTtl: null });
  const reg = await registerMemberSite(
    { db: ts.db, requireHttps: false },
    {
      name: SITE_NAME,
      redirectUris: [`${url}/callback`],
      postLogoutRedirectUris: [`${url}/`],
      tokenEndpointAuthMethod: 'client_secret_basic',
      resourceServers: [resource],
      homepageUri: url,
    },
    'test',
  );
  const demo = await createDemoSite({
    issuer: ts.url,
    clientId: reg.clientId,
    clientSecret: reg.clientSecret!,
    url,
    resource,
    cookieKeys: ['demo-site-test-cookie-key'],
  });
  server.on('request', demo.callback());
  return { url, clientId: reg.clientId, resource, server };
}

describe('demo member site in a real browser', () => {
  let ts: TestServer;
  let demo: DemoSite;
  let card: TestCard;
  const browser = useBrowser();
  let page: Page | undefined;

  before(async () => {
    ts = await startCardManager();
    demo = await startDemoSite(ts);
    card = await issueTestCard(ts);
  });
  after(async () => {
    if (demo) {
      demo.server.closeAllConnections();
      await close(demo.server);
    }
    await ts?.stop();
  });

  screenshotOnFailure(() => page);
  beforeEach(async () => {
    page = await newPage(browser());
  });

  function onCardManager(url: URL): boolean {
    return url.origin === ts.url;
  }

  /** From the demo home page to the card manager's hosted login form. */
  async function openHostedLogin(p: Page): Promise<void> {
    await p.goto(`${demo.url}/`);
    await p.getByRole('link', { name: 'Log in with cyber card' }).click();
    await p.waitForURL((u) => onCardManager(u) && u.pathname.startsWith('/interaction/'));
    await p.getByLabel('Card number').waitFor();
  }

  async function submitLogin(p: Page, number: string, password: string): Promise<void> {
    await p.getByLabel('Card number').fill(number);
    await p.getByLabel('Password').fill(password);
    await p.getByRole('button', { name: 'Log in', exact: true }).click();
  }

  /** The whole log-in, ending on the demo site's /me page. */
  async function logInThroughDemo(p: Page): Promise<void> {
    await openHostedLogin(p);
    await submitLogin(p, formatCardNumber(card.number), card.password);
    await p.getByRole('button', { name: 'Allow' }).click();
    await p.waitForURL(`${demo.url}/me`);
  }

  async function jsonIn(p: Page, selector: string): Promise<Record<string, unknown>> {
    return JSON.parse((await p.locator(selector).textContent()) ?? 'null') as Record<string, unknown>;
  }

  it('logs a card holder in from the demo home page through the hosted login and consent pages', async () => {
    const p = page!;
    const authRequests: URL[] = [];
    p.on('request', (req) => {
      const u = new URL(req.url());
      if (onCardManager(u) && u.pathname === '/auth') authRequests.push(u);
    });

    await openHostedLogin(p);
    expect(await p.getByText(`${SITE_NAME} is asking you to log in.`).isVisible()).to.equal(true);
    expect(await p.getByLabel('Card number').getAttribute('id')).to.equal('card_number');
    expect(await p.getByLabel('Password').getAttribute('type')).to.equal('password');
    // The demo pushes its request (PAR): the browser only ever carries client_id and request_uri.
    expect(authRequests).to.have.length.greaterThan(0);
    expect([...authRequests[0]!.searchParams.keys()].sort()).to.deep.equal(['client_id', 'request_uri']);

    await submitLogin(p, formatCardNumber(card.number), card.password);
    await p.getByRole('heading', { name: `${SITE_NAME} would like to` }).waitFor();
    expect(await p.getByRole('listitem').allTextContents()).to.include.members(['See your name', 'Keep you signed in']);
    expect(await p.getByText(`card ending ${card.number.slice(-4)}`).isVisible()).to.equal(true);
    await p.getByRole('button', { name: 'Allow' }).click();

    await p.waitForURL(`${demo.url}/me`);
    expect(await p.getByRole('heading', { name: 'You are logged in' }).isVisible()).to.equal(true);
    const claims = await jsonIn(p, '#claims');
    expect(claims.iss).to.equal(ts.url);
    expect(claims.aud).to.equal(demo.clientId);
    expect(claims.name).to.equal('Test Holder');
    expect(claims.sub).to.be.a('string').and.not.equal(card.accountId);
    const resource = await jsonIn(p, '#resource');
    expect(resource.error).to.equal(undefined);
    expect(resource.client_id).to.equal(demo.clientId);
    expect(resource.aud).to.equal(demo.resource);
    expect(resource.iss).to.equal(ts.url);
    expect(resource.sub).to.equal(claims.sub);
  });

  it('shows the error on the hosted page for a wrong password and never sends the browser back to the site', async () => {
    const p = page!;
    const callbacks: string[] = [];
    p.on('request', (req) => {
      if (req.url().startsWith(`${demo.url}/callback`)) callbacks.push(req.url());
    });

    await openHostedLogin(p);
    const spaced = formatCardNumber(card.number);
    await submitLogin(p, spaced, 'not the password');
    const alert = p.getByRole('alert');
    await alert.waitFor();
    expect((await alert.textContent())?.trim()).to.equal('The card number or password is not correct.');
    const url = new URL(p.url());
    expect(onCardManager(url)).to.equal(true);
    expect(url.pathname).to.match(/^\/interaction\//);
    // The number is kept for a second try; the password is not echoed back.
    expect(await p.getByLabel('Card number').inputValue()).to.equal(spaced);
    expect(await p.getByLabel('Card number').getAttribute('aria-invalid')).to.equal('true');
    expect(await p.getByLabel('Password').inputValue()).to.equal('');
    expect(await p.content()).to.not.include('not the password');
    expect(callbacks).to.deep.equal([]);
  });

  it('signs the holder out of the card manager and the site through the demo log-out link', async () => {
    const p = page!;
    await logInThroughDemo(p);

    await p.getByRole('link', { name: 'Log out' }).click();
    await p.waitForURL((u) => onCardManager(u) && u.pathname.startsWith('/session/end'));
    await p.getByRole('heading', { name: 'Sign out?' }).waitFor();
    expect(await p.getByText(`and ${SITE_NAME}?`).isVisible()).to.equal(true);
    await p.getByRole('button', { name: 'Yes, sign me out' }).click();

    await p.waitForURL(`${demo.url}/`);
    await p.getByRole('link', { name: 'Log in with cyber card' }).waitFor();
    // The card manager's session is gone too: logging in again asks for the card, not just consent.
    await openHostedLogin(p);
    expect(await p.getByLabel('Password').isVisible()).to.equal(true);
  });
});

describe('demo member site /api/resource', () => {
  let ts: TestServer;
  let demo: DemoSite;

  before(async () => {
    ts = await startCardManager();
    demo = await startDemoSite(ts);
  });
  after(async () => {
    if (demo) {
      demo.server.closeAllConnections();
      await close(demo.server);
    }
    await ts?.stop();
  });

  it('refuses a request without a bearer token with 401 and a Bearer challenge', async () => {
    const res = await fetch(`${demo.url}/api/resource`);
    expect(res.status).to.equal(401);
    expect(res.headers.get('www-authenticate')).to.match(/^Bearer /);
    expect(((await res.json()) as { error: string }).error).to.equal('invalid_request');
  });

  it('refuses a garbage bearer token with 401 and invalid_token', async () => {
    const res = await fetch(`${demo.url}/api/resource`, { headers: { authorization: 'Bearer not.a.token' } });
    expect(res.status).to.equal(401);
    expect(res.headers.get('www-authenticate')).to.match(/^Bearer .*error="invalid_token"/);
    expect(((await res.json()) as { error: string }).error).to.equal('invalid_token');
  });
});
