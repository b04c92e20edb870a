import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { capture } from '../../src/approvals/capture.ts';
import { refund } from '../../src/approvals/refund.ts';
import { voidApproval } from '../../src/approvals/void.ts';
import { inTransaction } from '../../src/db/tx.ts';
import { close } from '../../src/server.ts';
import { expect } from 'chai';
import * as client from 'openid-client';
import {
  createResourceServer,
  requireAge,
  requirePayment,
  requireScope,
  TokenError,
  type Requirement,
  type ResourceServer,
} from 'cybercard/resource-server';
import { reportLost } from '../../src/cards/report-lost.ts';
import { suspendSite } from '../../src/member-sites/suspend.ts';
import { birthdateForAge } from '../helpers/applicant.ts';
import { issueTestCard, registerTestSite, siteClient, type TestCard, type TestSite } from '../helpers/fixtures.ts';
import { announced } from '../helpers/directory.ts';
import { startCardManager, type TestServer } from '../helpers/server.ts';
import { loginToken, paymentToken } from './tokens.ts';

async function refusedWith(p: Promise<unknown>): Promise<TokenError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof TokenError) return err;
    throw err;
  }
  throw new Error('expected a refusal');
}


describe('cybercard/resource-server: requireAge, requirePayment, requireScope and strict mode', () => {
  let ts: TestServer;
  let site: TestSite;
  let cfg: client.Configuration;
  let adult: TestCard;
  let rs: ResourceServer;
  const check = (token: string, ...reqs: Requirement[]) => rs.authenticate(`Bearer ${token}`, {}, reqs);

  async function cardWithCredit(age: number): Promise<TestCard> {
    const c = await issueTestCard(ts, birthdateForAge(age));
    await ts.db('accounts').where({ id: c.accountId }).update({ credit_limit: 100_000 });
    return c;
  }

  before(async () => {
    ts = await startCardManager();
    site = await registerTestSite(ts, { contentRating: 15 });
    cfg = await siteClient(ts, site);
    adult = await cardWithCredit(30);
    rs = createResourceServer({ issuer: ts.url, audience: site.resource });
  });
  after(() => ts.stop());

  describe('requireAge', () => {
    it('lets in a holder whose token proves the age, and refuses with 403 insufficient_scope otherwise', async () => {
      const token = await loginToken(ts, cfg, site, adult);
      expect((await check(token, requireAge(15))).age_over_15).to.equal(true);
      // Minimal disclosure: the token proves only the ages this request needed; 19 was not asked for.
      const err = await refusedWith(check(token, requireAge(19)));
      expect(err).to.include({ code: 'insufficient_scope', status: 403 });
      expect(err.message).to.match(/19 and over/);
    });

    it('refuses a 17-year-old at 19 even with an age claim for 15', async () => {
      const teen = await cardWithCredit(17);
      const token = await loginToken(ts, cfg, site, teen);
      expect((await check(token, requireAge(15))).age_over_15).to.equal(true);
      expect((await refusedWith(check(token, requireAge(19)))).code).to.equal('insufficient_scope');
    });

    it('refuses to be built with a nonsense age', () => {
      for (const n of [0, -1, 1.5, 200, Number.NaN]) expect(() => requireAge(n)).to.throw(TypeError);
    });
  });

  describe('requirePayment', () => {
    let paid: string;
    before(async () => {
      paid = await paymentToken(ts, cfg, site, adult, { amount: '1500', content_ref: 'episode-1', rating: '19' });
    });

    it('accepts the approved payment for that content at that price, and the 19+ rating it was approved with', async () => {
      const claims = await check(paid, requirePayment({ amount: 1500, currency: 'KRW', content: 'episode-1' }), requireAge(19));
      expect(claims.approval_no).to.match(/^\d{4}-\d{4}$/);
      await check(paid, requirePayment({ amount: 1000, currency: 'KRW' }));
    });

    it('refuses a higher price, another currency, other content, and a token without a payment', async () => {
      for (const need of [
        { amount: 1501, currency: 'KRW', content: 'episode-1' },
        { amount: 1500, currency: 'USD', content: 'episode-1' },
        { amount: 1500, currency: 'KRW', content: 'episode-2' },
      ]) {
        expect((await refusedWith(check(paid, requirePayment(need)))).code, JSON.stringify(need)).to.equal('insufficient_scope');
      }
      const plain = await loginToken(ts, cfg, site, adult);
      expect((await refusedWith(check(plain, requirePayment({ amount: 1, currency: 'KRW' })))).message).to.match(/no approved payment/);
    });

    it('refuses to be built with a fractional, zero or negative amount or a bad currency', () => {
      for (const p of [{ amount: 0, currency: 'KRW' }, { amount: -5, currency: 'KRW' }, { amount: 1.5, currency: 'KRW' }, { amount: 5, currency: 'krw' }]) {
        expect(() => requirePayment(p)).to.throw(TypeError);
      }
    });
  });

  describe('requireScope', () => {
    it('accepts a token with the scope and refuses one without, naming the scope in the refusal', async () => {
      const cc = await client.clientCredentialsGrant(cfg, { resource: site.resource, scope: 'read' });
      expect((await check(cc.access_token, requireScope('read'))).scope).to.equal('read');
      const err = await refusedWith(check(cc.access_token, requireScope(['read', 'write'])));
      expect(err).to.include({ code: 'insufficient_scope', scope: 'read write' });
      expect(() => requireScope('')).to.throw(TypeError);
    });
  });

  describe('strict mode', () => {
    it('refuses a payment token at once when the card is reported lost (the approval reads revoked)', async () => {
      const strict = createResourceServer({
        issuer: ts.url,
        audience: site.resource,
        strict: { clientId: site.clientId, clientSecret: site.clientSecret, cacheSeconds: 0 },
      });
      const holder = await cardWithCredit(40);
      const token = await paymentToken(ts, cfg, site, holder, { amount: 900, content_ref: 'album' });
      const ok = await strict.verify(token);
      await reportLost(ts.db, { cardId: holder.cardId, actor: 'test', reason: 'lost in the test', proof: 'operator' });
      const err = await refusedWith(strict.verify(token));
      expect(err).to.include({ code: 'invalid_token', status: 401 });
      expect(err.message).to.equal(`Approval ${ok.approval_no} is revoked: its content can no longer be delivered.`);
      // Without strict mode the same token still passes until it expires: that is the difference.
      expect((await rs.verify(token)).approval_no).to.equal(ok.approval_no);
    });

    it('asks nothing about a token without an approval (a plain login\'s), which passes for its lifetime even after a lost-card report', async () => {
      let asked = 0;
      const count = (req: { url?: string }) => {
        if (req.url?.startsWith('/api/approvals')) asked++;
      };
      const strict = createResourceServer({ issuer: ts.url, audience: site.resource, strict: { clientId: site.clientId, clientSecret: site.clientSecret, cacheSeconds: 0 } });
      const holder = await cardWithCredit(40);
      const token = await loginToken(ts, cfg, site, holder);
      ts.server.on('request', count);
      try {
        await strict.verify(token);
        await reportLost(ts.db, { cardId: holder.cardId, actor: 'test', reason: 'lost in the test', proof: 'operator' });
        expect((await strict.verify(token)).approval_no).to.equal(undefined);
        expect(asked).to.equal(0);
      } finally {
        ts.server.off('request', count);
      }
    });

    it('reuses a status answer within the cache, one request serving concurrent checks', async () => {
      let asked = 0;
      const count = (req: { url?: string }) => {
        if (req.url?.startsWith('/api/approvals/')) asked++;
      };
      const strict = createResourceServer({ issuer: ts.url, audience: site.resource, strict: { clientId: site.clientId, clientSecret: site.clientSecret, cacheSeconds: 60 } });
      const token = await paymentToken(ts, cfg, site, adult, { amount: 300 });
      ts.server.on('request', count);
      try {
        await Promise.all(Array.from({ length: 10 }, () => strict.verify(token)));
        for (let i = 0; i < 10; i++) await strict.verify(token);
        expect(asked).to.equal(1);
      } finally {
        ts.server.off('request', count);
      }
    });

    it('refuses when the member site is suspended (its approvals read suspended)', async () => {
      const other = await registerTestSite(ts);
      const otherCfg = await siteClient(ts, other);
      const token = await paymentToken(ts, otherCfg, other, adult, { amount: 200 });
      const strict = createResourceServer({ issuer: ts.url, audience: other.resource, strict: { clientId: other.clientId, clientSecret: other.clientSecret, cacheSeconds: 0 } });
      await strict.verify(token);
      await announced(ts.cm.directory, `site:${other.clientId}`, () => suspendSite(ts.db, other.clientId, 'test suspension'));
      expect((await refusedWith(strict.verify(token))).message).to.match(/is suspended/);
    });

    it('fails closed: wrong site credentials or an unreachable card manager refuse with 503, not content', async () => {
      const token = await paymentToken(ts, cfg, site, adult, { amount: 100 });
      const wrong = createResourceServer({ issuer: ts.url, audience: site.resource, strict: { clientId: site.clientId, clientSecret: 'wrong', cacheSeconds: 0 } });
      expect((await refusedWith(wrong.verify(token))).status).to.equal(503);
      const down = createResourceServer({
        issuer: ts.url,
        audience: site.resource,
        strict: { clientId: site.clientId, clientSecret: site.clientSecret, statusEndpoint: 'http://127.0.0.1:9/api/approvals', cacheSeconds: 0 },
      });
      expect((await refusedWith(down.verify(token))).code).to.equal('temporarily_unavailable');
      expect(() => createResourceServer({ issuer: ts.url, audience: site.resource, strict: {} })).to.throw(TypeError);
    });

    it("refuses another member site's payment token (one API, two sites) saying whose it is, without asking the card manager", async () => {
      const shop = await registerTestSite(ts);
      const partner = await registerTestSite(ts, { resourceServers: [shop.resource] });
      const token = await paymentToken(ts, await siteClient(ts, partner), { ...partner, resource: shop.resource }, adult, { amount: 100 });
      const strict = createResourceServer({ issuer: ts.url, audience: shop.resource, strict: { clientId: shop.clientId, clientSecret: shop.clientSecret, cacheSeconds: 0 } });
      let asked = 0;
      const count = (req: { url?: string }) => {
        if (req.url?.startsWith('/api/approvals/')) asked++;
      };
      ts.server.on('request', count);
      try {
        const err = await refusedWith(strict.verify(token));
        expect(err).to.include({ code: 'invalid_token', status: 401 });
        // It read "Approval … is unknown", as if the approval did not exist: the card manager shows a site only its own.
        expect(err.message).to.include(partner.clientId).and.include(shop.clientId);
        expect(asked).to.equal(0);
      } finally {
        ts.server.off('request', count);
      }
    });

    it('asks authorization() for a fresh token once when the card manager refuses the one it gave, and fails closed if that is refused too', async () => {
      const token = await paymentToken(ts, cfg, site, adult, { amount: 100 });
      const fresh = async () => `Bearer ${(await client.clientCredentialsGrant(cfg, { resource: `${ts.url}/api`, scope: 'approvals' })).access_token}`;
      // A token the card manager no longer takes (as an expired one is): refused with 401 invalid_token.
      const stale = 'Bearer not.a.token';
      const calls: boolean[] = [];
      const renewing = createResourceServer({
        issuer: ts.url,
        audience: site.resource,
        strict: { authorization: async ({ rejected }) => (calls.push(rejected), rejected ? fresh() : stale), cacheSeconds: 0 },
      });
      expect((await renewing.verify(token)).approval_no).to.be.a('string');
      expect(calls).to.deep.equal([false, true]);
      calls.length = 0;
      const stuck = createResourceServer({ issuer: ts.url, audience: site.resource, strict: { authorization: (c) => (calls.push(c.rejected), stale), cacheSeconds: 0 } });
      expect(await refusedWith(stuck.verify(token))).to.include({ code: 'temporarily_unavailable', status: 503 });
      expect(calls, 'once more, not in a loop').to.deep.equal([false, true]);
    });

    it('fails closed on an answer that is not the card manager\'s JSON (a proxy\'s page, a null body)', async () => {
      const token = await paymentToken(ts, cfg, site, adult, { amount: 100 });
      for (const [type, body] of [['text/html', '<html>captive portal</html>'], ['application/json', 'null'], ['application/json', '{"status":7}']]) {
        const fake = createServer((_req, res) => res.writeHead(200, { 'content-type': type }).end(body));
        await new Promise<void>((r) => fake.listen(0, '127.0.0.1', r));
        try {
          const strict = createResourceServer({
            issuer: ts.url,
            audience: site.resource,
            strict: { clientId: site.clientId, clientSecret: site.clientSecret, statusEndpoint: `http://127.0.0.1:${(fake.address() as AddressInfo).port}/api/approvals`, cacheSeconds: 0 },
          });
          expect(await refusedWith(strict.verify(token)), body).to.include({ code: 'temporarily_unavailable', status: 503 });
        } finally {
          await close(fake);
        }
      }
    });

    it('refuses a payment captured and then refunded in full', async () => {
      const strict = createResourceServer({ issuer: ts.url, audience: site.resource, strict: { clientId: site.clientId, clientSecret: site.clientSecret, cacheSeconds: 0 } });
      const token = await paymentToken(ts, cfg, site, adult, { amount: 700 });
      const { approval_no: no } = await strict.verify(token);
      await inTransaction(ts.db, (trx) => capture(trx, { approvalNo: no!, actor: 'test' }));
      await inTransaction(ts.db, (trx) => refund(trx, { approvalNo: no!, amount: 300, actor: 'test' }));
      expect((await strict.verify(token)).approval_no, 'part refunded: still delivered').to.equal(no);
      await inTransaction(ts.db, (trx) => refund(trx, { approvalNo: no!, actor: 'test' }));
      expect((await refusedWith(strict.verify(token))).message).to.equal(`Approval ${no} is refunded: its content can no longer be delivered.`);
    });

    it('refuses a payment captured in part, the rest voided, and the captured part refunded in full', async () => {
      const strict = createResourceServer({ issuer: ts.url, audience: site.resource, strict: { clientId: site.clientId, clientSecret: site.clientSecret, cacheSeconds: 0 } });
      const token = await paymentToken(ts, cfg, site, adult, { amount: 1000 });
      const { approval_no: no } = await strict.verify(token);
      await inTransaction(ts.db, (trx) => capture(trx, { approvalNo: no!, amount: 400, actor: 'test' }));
      await inTransaction(ts.db, (trx) => voidApproval(trx, { approvalNo: no!, actor: 'test' }));
      expect((await strict.verify(token)).approval_no, 'captured in part, the rest released: still delivered').to.equal(no);
      await inTransaction(ts.db, (trx) => refund(trx, { approvalNo: no!, actor: 'test' }));
      expect((await refusedWith(strict.verify(token))).message).to.equal(`Approval ${no} is refunded: its content can no longer be delivered.`);
    });
  });
});
