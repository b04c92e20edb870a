import { expect } from 'chai';
import type { Page } from 'playwright-core';
import { Agent, interactionPathFrom, startInteraction } from '../helpers/agent.ts';
import { APPLY_SERVER, application } from '../helpers/applicant.ts';
import { newPage, screenshotOnFailure, useBrowser } from '../helpers/browser.ts';
import { authRequest, registerTestSite, siteClient, type TestSite } from '../helpers/fixtures.ts';
import { unescapeHtml } from '../helpers/html.ts';
import { startCardManager, type TestServer } from '../helpers/server.ts';

/** The `<html lang>` of a page. */
function htmlLang(html: string): string | undefined {
  return /<html lang="([^"]*)"/.exec(html)?.[1];
}

/** The hrefs of the language switch (nav.languages) on a page. */
function switchLinks(html: string): string[] {
  const nav = /<nav class="languages"[^>]*>([\s\S]*?)<\/nav>/.exec(html)?.[1];
  return nav ? [...nav.matchAll(/href="([^"]*)"/g)].map((m) => unescapeHtml(m[1]!)) : [];
}

/**
 * The language switch on the hosted pages: a browser set to one language still lets a person read the pages in the
 * other. The choice (?lang=, kept in a cookie) comes before Accept-Language and the member site's ui_locales.
 */
describe('the language switch on the hosted pages', () => {
  let ts: TestServer;
  let site: TestSite;

  before(async () => {
    ts = await startCardManager(APPLY_SERVER);
    site = await registerTestSite(ts);
  });
  after(() => ts?.stop());

  it('offers the other language on a page, keeping its path and query', async () => {
    const en = await (await fetch(`${ts.url}/card/signin?next=%2Fcard%2Fdata`)).text();
    expect(htmlLang(en)).to.equal('en');
    expect(switchLinks(en)).to.deep.equal(['/card/signin?next=%2Fcard%2Fdata&lang=ko']);
    expect(en).to.match(/<a href="[^"]*" lang="ko" hreflang="ko">한국어<\/a>/);
    const ko = await (await fetch(`${ts.url}/apply`, { headers: { 'accept-language': 'ko' } })).text();
    expect(switchLinks(ko)).to.deep.equal(['/apply?lang=en']);
    expect(ko).to.match(/<a href="[^"]*" lang="en" hreflang="en">English<\/a>/);
    // An address a browser would read as another host's (//host) is never linked as such: it is not found, and an
    // error page offers no switch at all (its link would carry the refused request's query back onto the page).
    const odd = await fetch(`${ts.url}//evil.example/apply?x=%3Cq%3E`);
    expect(odd.status).to.equal(404);
    const oddHtml = await odd.text();
    expect(switchLinks(oddHtml)).to.deep.equal([]);
    expect(oddHtml).not.to.include('evil.example');
  });

  it('shows the page in the chosen language over Accept-Language, and keeps the choice for the next pages', async () => {
    const agent = new Agent(ts.url);
    const en = { 'accept-language': 'en-US,en;q=0.9' };
    const chosen = await agent.request('/apply?lang=ko', { headers: en });
    expect(chosen.status).to.equal(200);
    expect(chosen.headers.get('vary')).to.match(/cookie/i);
    expect(htmlLang(await chosen.text())).to.equal('ko');
    expect(htmlLang(await (await agent.request('/card/signin', { headers: en })).text())).to.equal('ko');
    // Back to English the same way.
    expect(htmlLang(await (await agent.request('/card/signin?lang=en', { headers: { 'accept-language': 'ko' } })).text())).to.equal('en');
    expect(htmlLang(await (await agent.request('/apply', { headers: { 'accept-language': 'ko' } })).text())).to.equal('en');
  });

  it('puts the choice before the member site\'s ui_locales on the login page', async () => {
    const agent = new Agent(ts.url);
    await agent.request('/card/signin?lang=ko');
    const c = await siteClient(ts, site);
    const { url } = await authRequest(c, site, { ui_locales: 'en' });
    const { path, html } = await startInteraction(agent, url);
    expect(htmlLang(html)).to.equal('ko');
    // The switch leads to the interaction's own address, not back to /auth (a pushed request_uri is spent).
    expect(switchLinks(html)).to.deep.equal([`${path}?lang=en`]);
    const english = await (await agent.request(`${path}?lang=en`)).text();
    expect(htmlLang(english)).to.equal('en');
    expect(interactionPathFrom(english)).to.equal(path);
  });

  it('ignores a language it does not have, a repeated one and a bad cookie: no cookie set, the page as before', async () => {
    for (const query of ['lang=fr', 'lang=ko&lang=en', 'lang=%3Cscript%3E', 'lang=']) {
      const res = await fetch(`${ts.url}/apply?${query}`);
      expect(res.status, query).to.equal(200);
      expect(res.headers.get('set-cookie') ?? '', query).to.not.include('cc.lang');
      expect(htmlLang(await res.text()), query).to.equal('en');
    }
    const res = await fetch(`${ts.url}/apply`, { headers: { cookie: 'cc.lang=xx' } });
    expect(htmlLang(await res.text())).to.equal('en');
  });

  it('keeps the operator console in English, with no switch, whatever was chosen', async () => {
    const res = await fetch(`${ts.url}/admin/signin`, { headers: { cookie: 'cc.lang=ko', 'accept-language': 'ko' } });
    const html = await res.text();
    expect(htmlLang(html)).to.equal('en');
    expect(switchLinks(html)).to.deep.equal([]);
    expect(html).to.not.include('class="languages"');
  });

  it('offers no switch on a page answering a form: following it would lose what the page shows once (a new card number)', async () => {
    const agent = new Agent(ts.url);
    const form = await (await agent.request('/apply')).text();
    const csrf = /name="csrf" value="([^"]+)"/.exec(form)![1]!;
    const app = application();
    const body = new URLSearchParams({ ...(app as Record<string, string>), accept_terms: 'yes', csrf });
    const res = await agent.request('/apply', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: body.toString() });
    const html = await res.text();
    expect(html).to.match(/\d{4} \d{4} \d{4} \d{4}/);
    expect(switchLinks(html)).to.deep.equal([]);
  });

  describe('in chromium', () => {
    const browser = useBrowser();
    let page: Page | undefined;
    screenshotOnFailure(() => page);

    it('lets a person on an English browser read the application form in Korean, and back', async function () {
      this.timeout(30_000);
      page = await newPage(browser());
      const p = page;
      await p.goto(`${ts.url}/apply`);
      await p.getByRole('heading', { name: 'Apply for a cyber card' }).waitFor();
      await p.getByRole('navigation', { name: 'Language' }).getByRole('link', { name: '한국어' }).click();
      await p.getByRole('heading', { name: '사이버 카드 신청' }).waitFor();
      await p.goto(`${ts.url}/card/signin`);
      await p.getByRole('heading', { name: '내 카드에 로그인' }).waitFor();
      await p.getByRole('navigation', { name: '언어' }).getByRole('link', { name: 'English' }).click();
      await p.getByRole('heading', { name: 'Sign in to your card' }).waitFor();
    });
  });
});
