import { expect } from 'chai';
import * as client from 'openid-client';
import { deleteStaleThrottles, findThrottle } from '../../src/db/throttles.ts';
import { listAudit } from '../../src/db/audit-log.ts';
import { listOutboxForAccount } from '../../src/db/outbox.ts';
import { generateCardNumber } from '../../src/cards/card-number.ts';
import { reissue } from '../../src/cards/reissue.ts';
import { reportLost } from '../../src/cards/report-lost.ts';
import { formatLocalTime } from '../../src/lib/local-time.ts';
import { renderMessage } from '../../src/notifications/templates.ts';
import { cardThrottleKey } from '../../src/throttles/check-card-password.ts';
import { ForwardedAgent, csrfFrom, location, startInteraction } from '../helpers/agent.ts';
import { authRequest, issueTestCard, registerTestSite, siteClient, type TestCard, type TestSite } from '../helpers/fixtures.ts';
import { alertText } from '../helpers/html.ts';
import { startCardManager, type TestServer } from '../helpers/server.ts';

let ipSeq = 0;
/** A client address no other test uses, so source counters never carry over between tests. */
const freshIp = () => `198.51.100.${++ipSeq}`;

describe('card lockout and source throttling', () => {
  let ts: TestServer;
  let site: TestSite;
  let config: client.Configuration;

  before(async () => {
    // Production throttle settings (config/test.json relaxes the source throttle for the rest of the suite),
    // with a first delay long enough that no wait runs out while a slow machine works through the 1,000 guesses.
    ts = await startCardManager({ trustProxy: true, sourceThrottle: { freeFailures: 10, windowSeconds: 900, baseDelaySeconds: 60, maxDelaySeconds: 900 } });
    site = await registerTestSite(ts);
    config = await siteClient(ts, site);
  });
  after(() => ts.stop());

  /** Starts a sign-in at the site and returns the login form's path and csrf token. */
  async function loginPage(b: ForwardedAgent) {
    const req = await authRequest(config, site);
    const { path, csrf } = await startInteraction(b, req.url);
    return { path, csrf };
  }

  async function attempt(b: ForwardedAgent, card: { number: string }, password: string) {
    const { path, csrf } = await loginPage(b);
    const res = await b.post(`${path}/login`, { csrf, card_number: card.number, password });
    return { res, html: await res.text() };
  }

  /** Signed in: the answer to the login form is the consent page of the same sign-in. */
  function signedIn(a: { res: Response; html: string }): boolean {
    return a.res.status === 200 && a.html.includes('/confirm"');
  }

  async function cardRow(card: TestCard) {
    return findThrottle(ts.db, { scope: 'card', key: cardThrottleKey(ts.config.secrets.cardHmacKey, card.number)! });
  }

  async function holderWithEmail(): Promise<TestCard> {
    const card = await issueTestCard(ts);
    await ts.db('accounts').where({ id: card.accountId }).update({ email: `holder-${card.cardId.slice(0, 8)}@example.test` });
    return card;
  }

  it('locks the card after 5 wrong passwords, refuses the 6th with the right one until the cool-down, then lets it in', async () => {
    const card = await holderWithEmail();
    const b = new ForwardedAgent(ts.url, freshIp());
    const said: Array<string | undefined> = [];
    for (let i = 1; i <= 4; i++) {
      const { res, html } = await attempt(b, card, `wrong-${i}`);
      expect(res.status, `attempt ${i}`).to.equal(401);
      said.push(alertText(html));
    }
    // Each says the policy (how many lock the card), never how many this card has had.
    expect(said).to.deep.equal(Array(4).fill('The card number or password is not correct. 5 wrong passwords lock the card for a while.'));
    const fifth = await attempt(b, card, 'wrong-5');
    expect(fifth.res.status).to.equal(403);
    expect(fifth.html).to.include('This card is locked for a while');
    expect(fifth.html).to.include('resetting your password');
    expect(fifth.html).to.include('<a href="/card/password/reset" id="next-step">Reset your password to unlock the card</a>');

    // The 6th, with the right password, is still refused; the member site gets access_denied with card_locked.
    const sixth = await attempt(b, card, card.password);
    expect(sixth.res.status).to.equal(403);
    expect(sixth.html).to.include('This card is locked after too many wrong passwords or codes, until');
    const back = /href="([^"]+)" id="return"/.exec(sixth.html)![1]!.replace(/&amp;/g, '&');
    const toSite = location(await b.get(new URL(back, ts.url)), ts.url);
    expect(toSite.searchParams.get('error')).to.equal('access_denied');
    expect(toSite.searchParams.get('error_description')).to.match(/^card_locked: /);
    expect(toSite.searchParams.get('code')).to.equal(null);

    const row = await cardRow(card);
    expect(row!.strikes).to.equal(1);
    expect(row!.blockedUntil!.getTime()).to.be.greaterThan(Date.now() + 800_000); // the 15-minute cool-down
    const audit = await listAudit(ts.db, 'card', card.cardId);
    expect(audit.filter((a) => a.action === 'card.locked')).to.have.length(1);
    const outbox = await listOutboxForAccount(ts.db, card.accountId);
    expect(outbox.filter((m) => m.template === 'card_locked')).to.have.length(1);
    expect(JSON.stringify(outbox)).to.not.include(card.number);
    // The lock's end in the deployment's time zone (billing.timeZone), named, on the page and in the notice alike.
    const until = formatLocalTime(row!.blockedUntil!, ts.config.billing.timeZone);
    expect(until).to.match(/ Asia\/Seoul$/);
    expect(sixth.html).to.include(`until ${until}.`);
    // The notice holds the instant and the zone, written in the reader's language when sent.
    const queued = outbox.find((m) => m.template === 'card_locked')!.data.until;
    expect(queued).to.deep.equal({ at: row!.blockedUntil!.toISOString(), timeZone: ts.config.billing.timeZone });
    expect(renderMessage('card_locked', outbox.find((m) => m.template === 'card_locked')!.data, ts.url, 'en', 'email').text).to.include(`until ${until}.`);

    // The cool-down passes (moved in the database rather than waited for): the right password works again.
    await ts.db('throttles').where({ scope: 'card', key: row!.key }).update({ blocked_until: ts.db.raw("now() - interval '1 second'") });
    const after = await attempt(b, card, card.password);
    expect(signedIn(after), `${after.res.status}`).to.equal(true);
    expect((await cardRow(card))!.count).to.equal(0);
  });

  it('locks and audits guesses at a card replaced or reported lost, without telling the holder to reset a password it no longer has', async () => {
    for (const stop of ['replaced', 'lost'] as const) {
      const card = await holderWithEmail();
      if (stop === 'replaced') await reissue(ts.cm.cards, { cardId: card.cardId, actor: 'test', reason: 'replaced in the test' });
      else await reportLost(ts.db, { cardId: card.cardId, actor: 'test', reason: 'lost in the test', proof: 'operator' });
      const before = (await listOutboxForAccount(ts.db, card.accountId)).length;
      const b = new ForwardedAgent(ts.url, freshIp());
      for (let i = 1; i <= 5; i++) await attempt(b, card, `wrong-${i}`);
      expect((await cardRow(card))!.strikes, stop).to.equal(1);
      expect((await listAudit(ts.db, 'card', card.cardId)).filter((a) => a.action === 'card.locked'), stop).to.have.length(1);
      // "Reset your password (which also unlocks the card) or block it": nothing a holder can do for a card that no longer works.
      const sent = (await listOutboxForAccount(ts.db, card.accountId)).slice(before);
      expect(sent.filter((m) => m.template === 'card_locked'), stop).to.deep.equal([]);
    }
  });

  it('answers a guess at a real card that others have failed on exactly as at a number no card has', async () => {
    // The holder mistyped twice, then logged in: the card's count holds those failures.
    const card = await holderWithEmail();
    const holder = new ForwardedAgent(ts.url, freshIp());
    for (const pw of ['typo-1', 'typo-2']) expect((await attempt(holder, card, pw)).res.status).to.equal(401);
    expect(signedIn(await attempt(new ForwardedAgent(ts.url, freshIp()), card, card.password))).to.equal(true);
    // Someone elsewhere with the number only, and the same someone with a number no card has.
    const nobody = { number: generateCardNumber(ts.config.cards.issuerPrefix) };
    const guesser = new ForwardedAgent(ts.url, freshIp());
    const atReal = await attempt(guesser, card, 'guess-1');
    const atNobody = await attempt(guesser, nobody, 'guess-1');
    expect([atReal.res.status, atNobody.res.status]).to.deep.equal([401, 401]);
    expect(alertText(atReal.html)).to.equal(alertText(atNobody.html));
  });

  it('makes each repeated lockout longer than the last', async () => {
    const card = await issueTestCard(ts);
    const b = new ForwardedAgent(ts.url, freshIp());
    const lockOnce = async () => {
      for (let i = 0; i < 5; i++) await attempt(b, card, 'not-it');
      return (await cardRow(card))!;
    };
    const first = await lockOnce();
    await ts.db('throttles').where({ scope: 'card', key: first.key }).update({ blocked_until: ts.db.raw("now() - interval '1 second'") });
    const second = await lockOnce();
    const lengths = await ts.db('throttles').where({ scope: 'card', key: first.key }).select(ts.db.raw('extract(epoch from blocked_until - struck_at) AS s')).first();
    expect(second.strikes).to.equal(2);
    expect(Number(lengths.s)).to.equal(2 * ts.config.lockout.coolDownSeconds);
  });

  it('unlocks the card when the holder resets the password', async () => {
    const card = await holderWithEmail();
    const b = new ForwardedAgent(ts.url, freshIp());
    for (let i = 0; i < 5; i++) await attempt(b, card, 'guess');
    expect((await cardRow(card))!.blockedUntil).to.not.equal(null);
    // From the holder's own address, like the rest of this test: the reset's code is a guarded guess too.
    const json = (path: string, body: unknown) =>
      fetch(`${ts.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-forwarded-for': b.ip }, body: JSON.stringify(body) });
    expect((await json('/api/cards/password/reset/code', { card_number: card.number })).status).to.equal(202);
    const sent = (await listOutboxForAccount(ts.db, card.accountId)).filter((m) => m.template === 'password_reset_code').at(-1)!;
    const reset = await json('/api/cards/password/reset', { card_number: card.number, code: sent.data.code, new_password: 'Quiet harbour lantern 42' });
    expect(reset.status, await reset.clone().text()).to.equal(200);
    expect(await cardRow(card)).to.equal(undefined);
    expect(signedIn(await attempt(b, card, 'Quiet harbour lantern 42'))).to.equal(true);
  });

  it('throttles 1,000 guesses spread over many cards from one address, and locks none of those cards [lockout-as-DoS]', async function () {
    this.timeout(120_000);
    const cards = await Promise.all(Array.from({ length: 20 }, () => issueTestCard(ts)));
    const ip = freshIp();
    // The attacker drops cookies: every lane is a fresh browser, so only the per-address counter can see them all.
    const statuses: number[] = [];
    let next = 0;
    await Promise.all(
      Array.from({ length: 10 }, async () => {
        const b = new ForwardedAgent(ts.url, ip);
        const { path, csrf } = await loginPage(b);
        while (next < 1000) {
          const n = next++;
          const res = await b.post(`${path}/login`, { csrf, card_number: cards[n % cards.length]!.number, password: `guess-${n}` });
          statuses.push(res.status);
          await res.arrayBuffer();
        }
      }),
    );
    const checked = statuses.filter((s) => s === 401).length;
    const throttled = statuses.filter((s) => s === 429).length;
    expect(checked + throttled).to.equal(1000);
    expect(throttled, 'refused by the source throttle without checking').to.be.at.least(950);
    expect(checked, 'the free failures, then one attempt that starts the first wait').to.equal(11);
    for (const c of cards) {
      const row = await cardRow(c);
      expect(row?.blockedUntil ?? null, 'no card is locked by one address guessing across cards').to.equal(null);
      expect(row?.count ?? 0).to.be.below(ts.config.lockout.maxFailures);
    }
    // The holders, from their own addresses, log straight in.
    expect(signedIn(await attempt(new ForwardedAgent(ts.url, freshIp()), cards[0]!, cards[0]!.password))).to.equal(true);
    // The throttled page says why and when to come back.
    const page = await attempt(new ForwardedAgent(ts.url, ip), cards[1]!, cards[1]!.password);
    expect(page.res.status).to.equal(429);
    expect(page.res.headers.get('retry-after')).to.match(/^\d+$/);
    expect(page.html).to.include('Too many attempts from this network or device');
  });

  it('counts a source by the address its load balancer saw, not by what the client wrote into X-Forwarded-For', async () => {
    const cards = await Promise.all(Array.from({ length: 3 }, () => issueTestCard(ts)));
    const ip = freshIp();
    const statuses: number[] = [];
    for (let n = 0; n < 15; n++) {
      // A fresh browser each time (no device cookie), claiming a new address in front of the one the proxy appended.
      const b = new ForwardedAgent(ts.url, `203.0.113.${n + 1}, ${ip}`);
      const { path, csrf } = await loginPage(b);
      const res = await b.post(`${path}/login`, { csrf, card_number: cards[n % 3]!.number, password: `spoof-${n}` });
      statuses.push(res.status);
      await res.arrayBuffer();
    }
    expect(statuses.slice(0, 10).every((s) => s === 401)).to.equal(true);
    expect(statuses.slice(11).every((s) => s === 429)).to.equal(true);
    expect(await ts.db('throttles').where({ scope: 'ip' }).whereLike('key', '203.0.113.%')).to.have.length(0);
  });

  it('throttles one-time code guesses spread over many cards from one address, and locks none of those cards', async () => {
    const cards = await Promise.all(Array.from({ length: 5 }, () => issueTestCard(ts)));
    const ip = freshIp();
    const statuses: number[] = [];
    for (let n = 0; n < 15; n++) {
      const [path, body] =
        n % 3 === 0
          ? ['/api/cards/reissue', { card_number: cards[n % 5]!.number, code: String(100000 + n) }]
          : n % 3 === 1
            ? ['/api/cards/lost', { card_number: cards[n % 5]!.number, code: String(100000 + n) }]
            : ['/api/cards/password/reset', { card_number: cards[n % 5]!.number, code: String(100000 + n), new_password: 'A brand new phrase' }];
      const res = await new ForwardedAgent(ts.url, ip).request(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      statuses.push(res.status);
      await res.arrayBuffer();
    }
    expect(statuses.slice(0, 10).every((s) => s === 400), statuses.join(' ')).to.equal(true);
    expect(statuses.slice(11).every((s) => s === 429), statuses.join(' ')).to.equal(true);
    for (const c of cards) expect((await cardRow(c))?.count ?? 0, 'a wrong code never counts towards the card lockout').to.equal(0);
  });

  it('throttles one address asking for one-time codes, so it can neither have holders messaged nor probe numbers at will', async () => {
    const card = await holderWithEmail();
    const ip = freshIp();
    const statuses: number[] = [];
    for (let n = 0; n < 14; n++) {
      // Known and unknown numbers alike: each request counts, whatever it finds.
      const number = n % 2 ? card.number : generateCardNumber(ts.config.cards.issuerPrefix);
      const res = await new ForwardedAgent(ts.url, ip).request('/api/cards/lost/code', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ card_number: number }),
      });
      statuses.push(res.status);
      if (res.status === 429) expect(res.headers.get('retry-after')).to.match(/^\d+$/);
      await res.arrayBuffer();
    }
    expect(statuses.slice(0, 10).every((s) => s === 202), statuses.join(' ')).to.equal(true);
    expect(statuses.slice(11).every((s) => s === 429), statuses.join(' ')).to.equal(true);
    // The holder's own address still gets its code.
    const own = await new ForwardedAgent(ts.url, freshIp()).request('/api/cards/lost/code', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ card_number: card.number }),
    });
    expect(own.status).to.equal(202);
  });

  it('forgets idle counters, but keeps a lock still running and a recent lockout that lengthens the next', async () => {
    const rows = [
      { scope: 'ip', key: 'stale-ip', count: 3, updated_at: ts.db.raw("now() - interval '2 days'") },
      { scope: 'card', key: 'still-locked', count: 0, blocked_until: ts.db.raw("now() + interval '1 hour'"), updated_at: ts.db.raw("now() - interval '2 days'") },
      { scope: 'card', key: 'recent-strike', count: 0, strikes: 1, struck_at: ts.db.raw("now() - interval '2 days'"), updated_at: ts.db.raw("now() - interval '2 days'") },
      { scope: 'card', key: 'old-strike', count: 0, strikes: 1, struck_at: ts.db.raw("now() - interval '30 days'"), updated_at: ts.db.raw("now() - interval '30 days'") },
      { scope: 'device', key: 'fresh', count: 1 },
    ];
    await ts.db('throttles').insert(rows);
    await deleteStaleThrottles(ts.db, 86_400, ts.config.lockout.strikeMemorySeconds);
    const left = (await ts.db('throttles').whereIn('key', rows.map((r) => r.key)).pluck('key')).sort();
    expect(left).to.deep.equal(['fresh', 'recent-strike', 'still-locked']);
  });

  it('says a wait of one second in the singular', async () => {
    // One free failure, then a first wait of 1 second (the production base delay).
    const quick = await startCardManager({ trustProxy: true, sourceThrottle: { freeFailures: 1, windowSeconds: 900, baseDelaySeconds: 1, maxDelaySeconds: 900 } });
    try {
      const quickSite = await registerTestSite(quick);
      // Posted back to back on one login page: the second wrong one starts the 1-second wait, the third meets it. A
      // machine that stalls a second between them lets the wait pass: then again from a new address, three times at most.
      let statuses: number[] = [];
      let last = '';
      for (let run = 0; run < 3 && statuses[2] !== 429; run++) {
        const b = new ForwardedAgent(quick.url, freshIp());
        const card = await issueTestCard(quick);
        const { path, csrf } = await startInteraction(b, (await authRequest(await siteClient(quick, quickSite), quickSite)).url);
        statuses = [];
        for (let i = 0; i < 3; i++) {
          const res = await b.post(`${path}/login`, { csrf, card_number: card.number, password: `wrong-${run}-${i}` });
          statuses.push(res.status);
          last = await res.text();
        }
      }
      expect(statuses).to.deep.equal([401, 401, 429]);
      expect(last).to.include('Wait 1 second, then try again.');
    } finally {
      await quick.stop();
    }
  });

  it('throttles one browser (device cookie) that moves between addresses', async () => {
    const cards = await Promise.all(Array.from({ length: 3 }, () => issueTestCard(ts)));
    const b = new ForwardedAgent(ts.url, freshIp());
    const { path, csrf } = await loginPage(b);
    const statuses: number[] = [];
    for (let n = 0; n < 15; n++) {
      // A new address for every guess, the same device cookie.
      const moved = new ForwardedAgent(ts.url, freshIp());
      for (const [k, v] of b.cookies) moved.cookies.set(k, v);
      const res = await moved.post(`${path}/login`, { csrf, card_number: cards[n % 3]!.number, password: `x-${n}` });
      statuses.push(res.status);
    }
    expect(statuses.slice(0, 10).every((s) => s === 401)).to.equal(true);
    expect(statuses.slice(11)).to.include(429);
  });
});
