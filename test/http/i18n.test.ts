import { expect } from 'chai';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import * as client from 'openid-client';
import type { Page } from 'playwright-core';
import { ageMessage, controlsMessage, HEADINGS, HOLDER_SUMMARIES } from '../../src/interactions/refusals.ts';
import { hasTranslation, negotiateLocale, translate } from '../../src/lib/i18n.ts';
import { localTime } from '../../src/lib/local-time.ts';
import { KO } from '../../src/lib/messages-ko.ts';
import { money } from '../../src/lib/money.ts';
import { lockedMessage, throttledMessage, wrongPasswordMessage } from '../../src/throttles/guard-attempt.ts';
import { inactiveCardMessage } from '../../src/approvals/errors.ts';
import { InvalidCodeError } from '../../src/cards/one-time-code.ts';
import { Agent, csrfFrom, interactionPathFrom, location, startInteraction, runLogin } from '../helpers/agent.ts';
import { birthdateForAge } from '../helpers/applicant.ts';
import { newPage, screenshotOnFailure, useBrowser } from '../helpers/browser.ts';
import { authRequest, issueTestCard, registerTestSite, siteClient, type TestCard, type TestSite } from '../helpers/fixtures.ts';
import { alertText, fieldError, unescapeHtml } from '../helpers/html.ts';
import { startCardManager, type TestServer } from '../helpers/server.ts';

/** An amount as English writes it ("4,000 KRW"), not the bare letters: a page's random tokens (CSRF) may hold "KRW". */
const ENGLISH_AMOUNT = /\d KRW\b/;

const ROOT = path.resolve(import.meta.dirname, '..', '..');
const LOGO = 'https://cdn.example.test/logo.png';

/** The `<html lang>` of a page. */
function htmlLang(html: string): string | undefined {
  return /<html lang="([^"]*)"/.exec(html)?.[1];
}

/** The text of the page's h1. */
function heading(html: string): string | undefined {
  const m = /<h1[^>]*>([^<]*)<\/h1>/.exec(html);
  return m ? unescapeHtml(m[1]!).trim() : undefined;
}

/** Every English text a hosted view or a route hands to t() as a literal: the English "catalogue". */
function englishKeys(): Set<string> {
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) {
        if (e.name !== 'demo' && e.name !== 'demo-site') walk(p);
      } else if (/\.(ejs|ts)$/.test(e.name)) files.push(p);
    }
  };
  walk(path.join(ROOT, 'views'));
  walk(path.join(ROOT, 'src'));
  const keys = new Set<string>();
  const literal = `(?:'((?:\\\\.|[^'\\\\])*)'|"((?:\\\\.|[^"\\\\])*)")`;
  const add = (text: string, re: RegExp) => {
    for (const m of text.matchAll(re)) keys.add((m[1] ?? m[2]!).replace(/\\(.)/g, '$1'));
  };
  // t('…') anywhere; page texts handed to views (title, heading, label, …) in views and page routes.
  const call = new RegExp(`\\b(?:t|tOr)\\(\\s*${literal}`, 'g');
  const prop = new RegExp(`\\b(?:title|heading|intro|button|notice|label|hint|error):\\s*(?=['"][A-Z{(])${literal}`, 'g');
  const pageRoutes = /[\\/](?:views|src[\\/]interactions|src[\\/]holder)[\\/]|error-handler\.ts$|render-error\.ts$|provider\.ts$/;
  for (const f of files) {
    const text = readFileSync(f, 'utf8');
    add(text, call);
    if (pageRoutes.test(f)) add(text, prop);
  }
  // The error pages' headings and descriptions, by status and by OAuth error code.
  for (const f of ['src/http/error-handler.ts', 'src/oidc/render-error.ts']) {
    add(readFileSync(path.join(ROOT, f), 'utf8'), new RegExp(`^\\s*(?:\\d{3}|[a-z_]+):\\s*${literal},?$`, 'gm'));
  }
  // Texts the views translate as values: page titles, refusal headings and summaries.
  for (const v of [...Object.values(HEADINGS), ...Object.values(HOLDER_SUMMARIES)]) keys.add(v);
  // Approval statuses, shown on the account page.
  for (const v of ['approved', 'captured', 'voided', 'expired', 'revoked']) keys.add(v);
  return keys;
}

describe('hosted pages in English and Korean', () => {
  let ts: TestServer;
  let site: TestSite;
  let config: client.Configuration;
  let card: TestCard;

  before(async () => {
    ts = await startCardManager();
    site = await registerTestSite(ts, { logoUri: LOGO });
    config = await siteClient(ts, site);
    card = await issueTestCard(ts);
  });
  after(() => ts.stop());

  /** Starts a sign-in (with `params` on the authorization request) and fetches the login page with `headers`. */
  async function loginPage(params: Record<string, string> = {}, headers: Record<string, string> = {}) {
    const agent = new Agent(ts.url);
    const req = await authRequest(config, site, params);
    // The authorization endpoint answers with the login page itself.
    const res = await agent.request(req.url, { headers });
    const html = await res.clone().text();
    const path = interactionPathFrom(html);
    if (!path) throw new Error(`no login page (${res.status})`);
    return { agent, path, res, html };
  }

  describe('language negotiation', () => {
    it('takes the first supported ui_locales entry, then Accept-Language by q-value, then English', () => {
      expect(negotiateLocale('ko', undefined)).to.equal('ko');
      expect(negotiateLocale('fr ko-KR en', 'en')).to.equal('ko');
      expect(negotiateLocale('fr', 'ko-KR,ko;q=0.9')).to.equal('ko');
      expect(negotiateLocale(undefined, 'en;q=0.5, ko;q=0.8')).to.equal('ko');
      expect(negotiateLocale(undefined, 'ko;q=0, en')).to.equal('en');
      expect(negotiateLocale(undefined, 'fr-FR, de;q=0.9')).to.equal('en');
      expect(negotiateLocale(undefined, '*')).to.equal('en');
      expect(negotiateLocale('', undefined)).to.equal('en');
    });
  });

  describe('the login page', () => {
    it('is in English by default, with the member site name and logo', async () => {
      const { res, html } = await loginPage();
      expect(res.status).to.equal(200);
      expect(htmlLang(html)).to.equal('en');
      expect(heading(html)).to.equal('Log in with your cyber card');
      expect(html).to.include(`Site `).and.include('is asking you to log in.');
      expect(html).to.include(`<img src="${LOGO}"`);
      expect(html).to.include('<label for="card_number">Card number</label>');
      expect(html).to.include('<a class="skip" href="#main">Skip to content</a>');
    });

    it('is in Korean when the authorization request says ui_locales=ko', async () => {
      const { res, html } = await loginPage({ ui_locales: 'ko' });
      expect(res.status).to.equal(200);
      expect(htmlLang(html)).to.equal('ko');
      expect(heading(html)).to.equal('사이버 카드로 로그인하세요');
      expect(html).to.include('<label for="card_number">카드 번호</label>');
      expect(html).to.include('<label for="password">비밀번호</label>');
      expect(html).to.include('에서 로그인을 요청합니다.');
      expect(html).to.include(`<img src="${LOGO}"`);
      expect(html).to.include('<title>사이버 카드로 로그인</title>');
      expect(html).not.to.include('Log in with your cyber card');
    });

    it('is in Korean for Accept-Language: ko-KR,ko;q=0.9', async () => {
      const { html, res } = await loginPage({}, { 'accept-language': 'ko-KR,ko;q=0.9' });
      expect(htmlLang(html)).to.equal('ko');
      expect(heading(html)).to.equal('사이버 카드로 로그인하세요');
      expect(res.headers.get('vary') ?? '').to.match(/accept-language/i);
    });

    it('falls back to English for a language it does not have (ui_locales=fr, Accept-Language: de)', async () => {
      const { html } = await loginPage({ ui_locales: 'fr' }, { 'accept-language': 'de-DE,de;q=0.9' });
      expect(htmlLang(html)).to.equal('en');
      expect(heading(html)).to.equal('Log in with your cyber card');
    });

    it('lets ui_locales win over Accept-Language, both ways', async () => {
      const en = await loginPage({ ui_locales: 'en' }, { 'accept-language': 'ko-KR,ko;q=0.9' });
      expect(htmlLang(en.html)).to.equal('en');
      expect(heading(en.html)).to.equal('Log in with your cyber card');
      const ko = await loginPage({ ui_locales: 'ja ko' }, { 'accept-language': 'en-US,en;q=0.9' });
      expect(htmlLang(ko.html)).to.equal('ko');
      expect(heading(ko.html)).to.equal('사이버 카드로 로그인하세요');
    });

    it('says a wrong password in Korean, ties the message to both fields and keeps the card number', async () => {
      const { agent, path: p, html } = await loginPage({ ui_locales: 'ko' });
      const res = await agent.post(`${p}/login`, { csrf: csrfFrom(html), card_number: card.number, password: 'not the password' });
      expect(res.status).to.equal(401);
      const page = await res.text();
      expect(htmlLang(page)).to.equal('ko');
      expect(alertText(page)).to.equal('카드 번호 또는 비밀번호가 올바르지 않습니다. 비밀번호를 5번 잘못 입력하면 카드가 한동안 잠깁니다.');
      expect(page).to.match(/id="form-error"/);
      expect(page).to.match(/id="card_number"[^>]*autofocus[^>]*aria-invalid="true"[^>]*aria-describedby="form-error"/s);
      expect(page).to.match(/id="password"[^>]*aria-invalid="true"[^>]*aria-describedby="form-error"/s);
      expect(page).to.include(`value="${card.number}"`);
    });

    it('says a missing password beside the field, in Korean', async () => {
      const { agent, path: p, html } = await loginPage({}, { 'accept-language': 'ko' });
      const res = await agent.request(`${p}/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'accept-language': 'ko' },
        body: new URLSearchParams({ csrf: csrfFrom(html), card_number: card.number, password: '' }).toString(),
      });
      expect(res.status).to.equal(400);
      const page = await res.text();
      expect(fieldError(page, 'password')).to.equal('비밀번호를 입력하세요.');
      expect(alertText(page)).to.equal('카드 번호와 비밀번호를 입력하세요.');
      expect(page).to.match(/id="password"[^>]*autofocus[^>]*aria-invalid="true"[^>]*aria-describedby="password-error form-error"/s);
    });

    it('carries ui_locales=ko on to the consent page, with the member site name and logo', async () => {
      const { agent, path: p, html } = await loginPage({ ui_locales: 'ko' }, { 'accept-language': 'en' });
      let res = await agent.post(`${p}/login`, { csrf: csrfFrom(html), card_number: card.number, password: card.password });
      for (let hops = 0; hops < 5 && (res.status === 302 || res.status === 303); hops++) {
        res = await agent.request(location(res, ts.url), { headers: { 'accept-language': 'en' } });
      }
      expect(res.status).to.equal(200);
      const consent = await res.text();
      expect(htmlLang(consent)).to.equal('ko');
      expect(heading(consent)).to.match(/^Site [0-9a-f]{8}에서 다음을 요청합니다$/);
      expect(consent).to.include(`<img src="${LOGO}"`);
      expect(consent).to.include('<li>유효한 사이버 카드를 가지고 있는지 확인</li>');
      expect(consent).to.include('>허용</button>');
    });

    it('explains an age refusal in Korean, with the site name in the message', async () => {
      const adultSite = await registerTestSite(ts, { contentRating: 19 });
      const minor = await issueTestCard(ts, birthdateForAge(17));
      const req = await authRequest(await siteClient(ts, adultSite), adultSite, { ui_locales: 'ko' });
      const page = await runLogin(new Agent(ts.url), req.url, minor);
      expect(page.kind).to.equal('page');
      if (page.kind !== 'page') return;
      expect(page.status).to.equal(403);
      expect(htmlLang(page.html)).to.equal('ko');
      expect(heading(page.html)).to.equal('19세 이상 이용 가능한 콘텐츠입니다');
      expect(alertText(page.html)).to.match(/^Site [0-9a-f]{8} 사이트는 19세 이상 이용 등급입니다\. 이 사이버 카드로는 이용할 수 없습니다\.$/);
    });

    it('says 사이트 once after a site whose name already ends in it ("데모 사이트")', async () => {
      const named = await registerTestSite(ts, { contentRating: 19, name: '데모 사이트' });
      const minor = await issueTestCard(ts, birthdateForAge(17));
      const req = await authRequest(await siteClient(ts, named), named, { ui_locales: 'ko' });
      const page = await runLogin(new Agent(ts.url), req.url, minor);
      if (page.kind !== 'page') throw new Error(page.kind);
      expect(alertText(page.html)).to.equal('데모 사이트는 19세 이상 이용 등급입니다. 이 사이버 카드로는 이용할 수 없습니다.');
      expect(unescapeHtml(page.html)).to.include('데모 사이트로 돌아가기').and.not.include('사이트 사이트');
      // Any other name keeps the word: "Comics 사이트는".
      expect(translate('ko', '{site} is rated {age}+. Your cyber card cannot be used to enter it.', { site: 'Comics', age: 15 })).to.match(/^Comics 사이트는 /);
      expect(translate('ko', 'Back to {site}', { site: '데모사이트' })).to.equal('데모사이트로 돌아가기');
    });

    it('shows the payment approval page in Korean, every label and the buttons', async () => {
      const url = await client.buildAuthorizationUrlWithPAR(config, {
        redirect_uri: site.redirectUri,
        scope: 'openid',
        resource: site.resource,
        state: client.randomState(),
        ui_locales: 'ko',
        authorization_details: JSON.stringify([{ type: 'payment', amount: 1200, currency: 'KRW', description: '웹툰 3화' }]),
        code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()),
        code_challenge_method: 'S256',
      });
      const agent = new Agent(ts.url);
      const { path: loginPath, html: loginHtml } = await startInteraction(agent, url);
      expect(htmlLang(loginHtml)).to.equal('ko');
      let res = await agent.post(`${loginPath}/login`, { csrf: csrfFrom(loginHtml), card_number: card.number, password: card.password });
      for (let hops = 0; hops < 5 && (res.status === 302 || res.status === 303); hops++) res = await agent.get(location(res, ts.url));
      expect(res.status).to.equal(200);
      const page = await res.text();
      expect(htmlLang(page)).to.equal('ko');
      expect(heading(page)).to.match(/^Site [0-9a-f]{8} 결제 승인$/);
      expect(page).to.include(`끝자리 ${card.number.slice(-4)} 카드`);
      for (const label of ['<dt>금액</dt>', '<dt>내용</dt>', '<dt>사용 가능 한도</dt>', '웹툰 3화']) expect(page).to.include(label);
      // Won as a Korean page writes it, not the ISO code.
      expect(page).to.match(/>1,200원 승인<\/button>/);
      expect(page).to.include('<dd id="amount"><strong>1,200원</strong></dd>');
      expect(page).to.not.match(ENGLISH_AMOUNT);
      expect(page).to.include('>거부</button>');
      expect(page, 'no English left on the page').to.not.match(/Approve|Available credit|Card ending|Deny/);
    });

    it('keeps the English field message for an English page', async () => {
      const { agent, path: p, html } = await loginPage();
      const res = await agent.post(`${p}/login`, { csrf: csrfFrom(html), card_number: '', password: 'x' });
      expect(res.status).to.equal(400);
      const page = await res.text();
      expect(htmlLang(page)).to.equal('en');
      expect(fieldError(page, 'card_number')).to.equal('Enter the 16-digit card number.');
    });
  });

  describe('other hosted pages', () => {
    it('shows an error page in the Accept-Language language', async () => {
      const res = await fetch(`${ts.url}/card/no-such-page`, { headers: { accept: 'text/html', 'accept-language': 'ko' } });
      expect(res.status).to.equal(404);
      const html = await res.text();
      expect(htmlLang(html)).to.equal('ko');
      expect(heading(html)).to.equal('페이지를 찾을 수 없습니다');
      expect(html).to.include('이 주소에는 아무것도 없습니다.');
    });

    it('shows the application form in Korean, labels and hints included', async () => {
      const res = await fetch(`${ts.url}/apply`, { headers: { 'accept-language': 'ko-KR,ko;q=0.9,en;q=0.5' } });
      expect(res.status).to.equal(200);
      const html = await res.text();
      expect(htmlLang(html)).to.equal('ko');
      expect(heading(html)).to.equal('사이버 카드 신청');
      expect(html).to.include('<label for="legal_name">법적 성명</label>');
      expect(html).to.include('>YYYY-MM-DD 형식, 예: 1990-05-17</p>');
      expect(html).to.include('<label for="accept_terms">이용 약관에 동의합니다</label>');
      // The links sit inside the sentence where Korean needs them: "정지하고", no space before 하고.
      expect(html).to.include('<p class="muted" id="lost-card">카드를 잃어버리셨나요? 다시 신청하지 말고 <a href="/card/lost">카드를 정지</a>하고 <a href="/card/reissue">새 번호를 받으세요</a>.</p>');
      const english = await (await fetch(`${ts.url}/apply`)).text();
      expect(english).to.include(
        '<p class="muted" id="lost-card">Lost your card? <a href="/card/lost">Block it</a> and <a href="/card/reissue">get a new number</a> instead of applying again.</p>',
      );
    });

    it("shows the holder's account page in Korean after signing in", async () => {
      const agent = new Agent(ts.url);
      const ko = { 'accept-language': 'ko' };
      const form = await agent.request('/card/signin?next=/card/account', { headers: ko });
      const signedIn = await agent.request('/card/signin', {
        method: 'POST',
        headers: { ...ko, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ csrf: csrfFrom(await form.text()), card_number: card.number, password: card.password, next: '/card/account' }).toString(),
      });
      expect(signedIn.status).to.equal(303);
      const res = await agent.request('/card/account', { headers: ko });
      expect(res.status).to.equal(200);
      const html = await res.text();
      expect(htmlLang(html)).to.equal('ko');
      expect(heading(html)).to.equal('내 계정');
      expect(html).to.include('<dt>잔액</dt>').and.include('아직 결제가 없습니다.').and.include('>로그아웃</button>');
      expect(html).to.include('<dd id="balance">0원</dd>').and.not.match(ENGLISH_AMOUNT);
      // The billing time zone by a name Korean readers use, not its tz database id.
      const day = await (await agent.request('/card/statement-day', { headers: ko })).text();
      expect(day).to.include('(한국 시간 기준)').and.not.include('Asia/Seoul');
      const english = await (await agent.request('/card/account')).text();
      expect(english).to.include('<dd id="balance">0 KRW</dd>');
      // An amount a route hands the page as data (the step-up threshold): in won in Korean, as before in English.
      const security = unescapeHtml(await (await agent.request('/card/security', { headers: ko })).text());
      expect(security).to.match(/1,000,000,000,000원/).and.not.match(ENGLISH_AMOUNT);
      expect(unescapeHtml(await (await agent.request('/card/security')).text())).to.include('Payments above 1,000,000,000,000 KRW ask');
    });

    it('shows the card holder sign-in page in Korean', async () => {
      const res = await fetch(`${ts.url}/card/signin`, { headers: { 'accept-language': 'ko-KR' } });
      expect(res.status).to.equal(200);
      const html = await res.text();
      expect(htmlLang(html)).to.equal('ko');
      expect(heading(html)).to.equal('내 카드에 로그인');
      expect(html).to.include('<label for="card_number">카드 번호</label>');
      expect(html).to.include('<label for="password">카드 비밀번호</label>');
    });
  });

  describe('the Korean catalogue', () => {
    it('has words for every English text the hosted pages translate', () => {
      const keys = englishKeys();
      expect(keys.size).to.be.greaterThan(100);
      const missing = [...keys].filter((k) => !Object.hasOwn(KO, k));
      expect(missing).to.deep.equal([]);
    });

    it('translates the age and adult-content refusals, whether the site or only this content is rated', () => {
      const rule = { siteRating: 15, requiredAge: 19 };
      expect(translate('ko', ageMessage('site', 'Comics', rule))).to.equal('Comics 사이트는 15세 이상 이용 등급입니다. 이 사이버 카드로는 이용할 수 없습니다.');
      expect(translate('ko', ageMessage('request', 'Comics', rule))).to.equal('Comics의 이 콘텐츠는 19세 이상 이용 가능하므로 이 사이버 카드로는 이용할 수 없습니다.');
      expect(translate('ko', controlsMessage('adult_content_off', 'Comics', 'site'))).to.equal(
        '카드에서 성인 콘텐츠를 차단했으며 Comics 사이트는 성인 전용입니다. 카드 페이지에서 변경할 수 있습니다.',
      );
      expect(translate('ko', controlsMessage('adult_content_off', 'Comics', 'request'))).to.equal(
        '카드에서 성인 콘텐츠를 차단했으며 Comics의 이 콘텐츠는 성인 전용입니다. 카드 페이지에서 변경할 수 있습니다.',
      );
    });

    it('calls the statement day and the card activity by one name each, wherever the English does', () => {
      const other = Object.entries(KO).filter(([en, ko]) => /statement day/i.test(en) && /명세서/.test(ko) && !ko.includes('명세서 작성일'));
      expect(other).to.deep.equal([]);
      // The activity page is 카드 이용 내역 in its heading and links: the data page's list of what the file holds too.
      const activity = Object.entries(KO).filter(([en, ko]) => /card activity/i.test(en) && !ko.includes('이용 내역'));
      expect(activity).to.deep.equal([]);
    });

    it('keeps every {placeholder} of the English text', () => {
      const names = (s: string) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
      const wrong = Object.entries(KO).filter(([en, ko]) => JSON.stringify(names(en)) !== JSON.stringify(names(ko)));
      expect(wrong).to.deep.equal([]);
    });

    it('translates messages built elsewhere with their figures, and falls back to English for unknown text', () => {
      expect(translate('ko', throttledMessage(42))).to.equal('이 네트워크나 기기에서 시도가 너무 많습니다. 42초 후에 다시 시도하세요.');
      expect(translate('ko', throttledMessage(1))).to.equal('이 네트워크나 기기에서 시도가 너무 많습니다. 1초 후에 다시 시도하세요.');
      expect(translate('ko', wrongPasswordMessage(5))).to.equal('카드 번호 또는 비밀번호가 올바르지 않습니다. 비밀번호를 5번 잘못 입력하면 카드가 한동안 잠깁니다.');
      expect(translate('ko', new InvalidCodeError(['code'], 3).message)).to.equal('코드가 올바르지 않습니다. 3번 더 시도할 수 있습니다.');
      expect(translate('ko', new InvalidCodeError(['code'], 1).message)).to.equal('코드가 올바르지 않습니다. 한 번 더 시도할 수 있습니다.');
      expect(translate('ko', lockedMessage(new Date('2026-11-30T01:30:00Z'), 'Asia/Seoul'))).to.include('2026-11-30 10:30 한국 시간까지 잠겼습니다').and.not.include('Asia/Seoul');
      expect(translate('ko', lockedMessage(new Date('2026-11-30T01:30:00Z'), 'UTC'))).to.include('2026-11-30 01:30 UTC까지 잠겼습니다');
      for (const status of ['lost', 'suspended', undefined]) expect(hasTranslation('ko', inactiveCardMessage(status))).to.equal(true);
      expect(translate('ko', 'Not in any catalogue.')).to.equal('Not in any catalogue.');
      // Amounts in won, or as Korean writes other currencies; particles that hold whatever the figure ends in.
      expect(translate('ko', 'This payment of 4,000 KRW is more than your available credit of 3,000 KRW.')).to.equal(
        '결제 금액(4,000원)이 사용 가능 한도(3,000원)를 넘습니다.',
      );
      expect(translate('ko', 'This payment of 12.50 USD is more than your available credit of 3.00 USD.')).to.equal(
        '결제 금액(US$12.50)이 사용 가능 한도(US$3.00)를 넘습니다.',
      );
      // Amounts and times handed over as data are written in the text's language; a string is never read as one.
      expect(translate('ko', '{amount} refunded by {site}.', { amount: money(4000, 'KRW'), site: 'Zzz' })).to.equal('Zzz에서 환불했습니다(4,000원).');
      expect(translate('ko', '{amount} refunded by {site}.', { amount: money(1250, 'USD'), site: 'Zzz' })).to.equal('Zzz에서 환불했습니다(US$12.50).');
      expect(translate('ko', '{amount} refunded by {site}.', { amount: '4,000 KRW', site: 'Zzz' })).to.equal('Zzz에서 환불했습니다(4,000 KRW).');
      const until = localTime(new Date('2026-11-30T01:30:00Z'), 'Asia/Seoul');
      expect(translate('ko', 'Card locked after too many wrong passwords or codes, until {until}.', { until })).to.equal(
        '잘못된 비밀번호나 코드가 너무 많이 입력되어 2026-11-30 10:30 한국 시간까지 카드가 잠겼습니다.',
      );
      expect(translate('en', 'Card locked after too many wrong passwords or codes, until {until}.', { until })).to.equal(
        'Card locked after too many wrong passwords or codes, until 2026-11-30 10:30 Asia/Seoul.',
      );
      expect(translate('ko', 'Date ({timeZone})', { timeZone: 'Asia/Seoul' })).to.equal('날짜(한국 시간 기준)');
      expect(translate('ko', 'Date ({timeZone})', { timeZone: 'Europe/Paris' })).to.equal('날짜(Europe/Paris 기준)');
      expect(translate('en', 'Date ({timeZone})', { timeZone: 'Asia/Seoul' })).to.equal('Date (Asia/Seoul)');
      expect(translate('en', '{amount} refunded by {site}.', { amount: money(4000, 'KRW'), site: 'Zzz' })).to.equal('4,000 KRW refunded by Zzz.');
      expect(translate('en', '{amount} refunded by {site}.', { amount: money(1250, 'USD'), site: 'Zzz' })).to.equal('12.50 USD refunded by Zzz.');
      // No Korean text puts a both-ways particle after a value, nor calls the service by its English name.
      const bothWays = Object.entries(KO).filter(([, ko]) => /\}(?:\((?:을|를|이|가|은|는|와|과|으)\))|cybercard/.test(ko));
      expect(bothWays).to.deep.equal([]);
      // Short entries with placeholders ("{available} of {limit}") never swallow other text.
      expect(translate('ko', 'Terms of use')).to.equal('Terms of use');
      expect(translate('ko', 'Approve the plan')).to.equal('Approve the plan');
      expect(translate('ko', '{site} is asking you to log in.', { site: '{x}' })).to.equal('{x}에서 로그인을 요청합니다.');
    });
  });

  describe('in chromium', () => {
    const browser = useBrowser();
    let page: Page | undefined;
    screenshotOnFailure(() => page);

    it('renders the Korean login page with labelled inputs and logs in through them', async () => {
      page = await newPage(browser());
      const p = page;
      const req = await authRequest(config, site, { ui_locales: 'ko' });
      await p.goto(req.url.href);
      await p.waitForURL((u) => u.pathname === '/auth');
      expect(await p.locator('html').getAttribute('lang')).to.equal('ko');
      expect(await p.getByRole('heading', { level: 1 }).textContent()).to.equal('사이버 카드로 로그인하세요');
      // Labels are tied to their inputs: getByLabel finds each one, and focus starts in the card number.
      const number = p.getByLabel('카드 번호');
      const password = p.getByLabel('비밀번호', { exact: true });
      expect(await number.getAttribute('name')).to.equal('card_number');
      expect(await password.getAttribute('type')).to.equal('password');
      expect(await number.evaluate((el) => el === document.activeElement)).to.equal(true);
      await number.fill(card.number);
      await password.fill('wrong password');
      await p.getByRole('button', { name: '로그인' }).click();
      await p.getByRole('alert').waitFor();
      expect(await p.getByRole('alert').textContent()).to.equal('카드 번호 또는 비밀번호가 올바르지 않습니다. 비밀번호를 5번 잘못 입력하면 카드가 한동안 잠깁니다.');
      expect(await p.getByLabel('카드 번호').getAttribute('aria-invalid')).to.equal('true');
      // The skip link comes before everything else a keyboard reaches, shows when focused, and leads to <main>.
      const firstStop = await p.evaluate(() => document.querySelector('a[href], button, input:not([type=hidden])')?.textContent);
      expect(firstStop).to.equal('본문으로 건너뛰기');
      const skip = p.getByRole('link', { name: '본문으로 건너뛰기' });
      await skip.focus();
      expect((await skip.boundingBox())!.y).to.be.at.least(0);
      await skip.press('Enter');
      expect(await p.evaluate(() => document.activeElement?.id)).to.equal('main');
    });
  });
});
