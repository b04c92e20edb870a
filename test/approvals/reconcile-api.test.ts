import { expect } from 'chai';
import * as client from 'openid-client';
import { capture } from '../../src/approvals/capture.ts';
import { openDispute } from '../../src/approvals/open-dispute.ts';
import { refund } from '../../src/approvals/refund.ts';
import { voidApproval } from '../../src/approvals/void.ts';
import type { Approval } from '../../src/db/approvals.ts';
import { inTransaction } from '../../src/db/tx.ts';
import { todayIn } from '../../src/ledger/calendar.ts';
import { registerTestSite, siteClient, type TestCard, type TestSite } from '../helpers/fixtures.ts';
import type { TestServer } from '../helpers/server.ts';
import { approveFor, basicAuth, cardWithLimit, operator, startLedgerServer } from '../ledger/fixtures.ts';

type Json = Record<string, unknown>;

describe('member-site reconciliation (GET /api/approvals, GET /api/settlements/:month)', () => {
  let ts: TestServer;
  let site: TestSite;
  let other: TestSite;
  let card: TestCard;
  /** The site's approvals, oldest first: disputed (captured, charged back), refunded, voided, and two open holds. */
  let mine: Approval[];
  let theirs: Approval[];
  let thisMonth: string;

  async function get(path: string, authorization: string | undefined) {
    const res = await fetch(`${ts.url}${path}`, { headers: authorization ? { authorization } : {} });
    const text = await res.text();
    return { status: res.status, headers: res.headers, json: JSON.parse(text) as Json };
  }

  /** Every page of a listing, following `next` (at most 20 pages, so a loop shows as a failure). */
  async function walk(query: string, authorization = basicAuth(site)) {
    const seen: string[] = [];
    let next: string | null = null;
    for (let page = 0; page < 20; page++) {
      const res = await get(`/api/approvals?${query}${next ? `&after=${encodeURIComponent(next)}` : ''}`, authorization);
      expect(res.status, JSON.stringify(res.json)).to.equal(200);
      const items = res.json.approvals as Json[];
      seen.push(...items.map((a) => a.approval_no as string));
      next = res.json.next as string | null;
      if (!next) return seen;
      expect(items.length, 'a page with a next cursor is full').to.equal(Number(new URLSearchParams(query).get('limit') ?? 50));
    }
    throw new Error('more than 20 pages');
  }

  before(async () => {
    ts = await startLedgerServer();
    site = await registerTestSite(ts);
    other = await registerTestSite(ts);
    card = await cardWithLimit(ts, 1_000_000);
    mine = [];
    for (const amount of [6_000, 5_000, 4_000, 3_000, 2_000]) mine.push(await approveFor(ts, card, site, amount, `Item ${amount}`));
    theirs = [await approveFor(ts, card, other, 9_000), await approveFor(ts, card, other, 8_000)];
    const [disputed, refunded, voided] = mine as [Approval, Approval, Approval];
    await inTransaction(ts.db, (trx) => capture(trx, { approvalNo: disputed.approvalNo, actor: 'test' }));
    await inTransaction(ts.db, (trx) => capture(trx, { approvalNo: refunded.approvalNo, actor: 'test' }));
    await inTransaction(ts.db, (trx) => refund(trx, { approvalNo: refunded.approvalNo, amount: 500, actor: 'test' }));
    await inTransaction(ts.db, (trx) => voidApproval(trx, { approvalNo: voided.approvalNo, actor: 'test' }));
    await inTransaction(ts.db, (trx) => capture(trx, { approvalNo: theirs[0]!.approvalNo, actor: 'test' }));
    // The holder reports the first payment and the operator upholds it, giving 1,000 back: the site's chargeback.
    const d = await openDispute(
      { db: ts.db, windowDays: ts.config.payments.disputeDays },
      { accountId: card.accountId, cardId: card.cardId, approvalNo: disputed.approvalNo, reason: 'not_received', details: 'Never came', actor: `card:${card.cardId}` },
    );
    const decided = await operator(ts, 'POST', `/admin/api/disputes/${d.id}/decision`, { decision: 'refund', amount: 1_000 });
    expect(decided.status, decided.text).to.equal(200);
    // The first a minute before the rest; three at one instant (a page of two must split them), and the newest 300 µs
    // after it, in the same millisecond: the cursor must keep microseconds and break ties by id.
    const base = new Date(Date.now() - 3_600_000);
    const tie = new Date(base.getTime() + 60_000);
    await ts.db('approvals').where({ id: mine[0]!.id }).update({ created_at: base });
    await ts.db('approvals').whereIn('id', [mine[1]!.id, mine[2]!.id, mine[3]!.id]).update({ created_at: tie });
    await ts.db('approvals').where({ id: mine[4]!.id }).update({ created_at: ts.db.raw("?::timestamptz + interval '300 microseconds'", [tie.toISOString()]) });
    mine[0]!.createdAt = base;
    for (const a of mine.slice(1)) a.createdAt = tie;
    thisMonth = todayIn(ts.config.billing.timeZone).slice(0, 7);
  });
  after(() => ts.stop());

  describe('GET /api/approvals', () => {
    it("lists the site's approvals newest first, each as GET /api/approvals/:no shows it, dispute included", async () => {
      const res = await get('/api/approvals', basicAuth(site));
      expect(res.status).to.equal(200);
      expect(res.headers.get('cache-control')).to.equal('no-store');
      const items = res.json.approvals as Json[];
      expect(items).to.have.length(5);
      expect(res.json.next).to.equal(null);
      expect((items[0]!.created_at as string) >= (items[4]!.created_at as string)).to.equal(true);
      for (const item of items) {
        const one = await get(`/api/approvals/${item.approval_no as string}`, basicAuth(site));
        expect(item).to.deep.equal(one.json);
      }
      const disputed = items.find((a) => a.approval_no === mine[0]!.approvalNo)!;
      expect(disputed).to.include({ status: 'captured', captured_amount: 6_000, refunded_amount: 1_000 });
      expect(disputed.dispute).to.include({ status: 'refunded', reason: 'not_received', refunded_amount: 1_000 });
      expect(items.find((a) => a.approval_no === mine[1]!.approvalNo)!.dispute).to.equal(null);
    });

    it('shows each site only its own approvals', async () => {
      expect(await walk('limit=2', basicAuth(other))).to.have.members(theirs.map((a) => a.approvalNo));
      expect(await walk('limit=200')).to.have.members(mine.map((a) => a.approvalNo));
    });

    it('walks every approval once, in order, two or one at a time (ties on the instant, and microseconds, included)', async () => {
      const all = ((await get('/api/approvals', basicAuth(site))).json.approvals as Json[]).map((a) => a.approval_no);
      expect(all[0]).to.equal(mine[4]!.approvalNo);
      expect(all.slice(1, 4)).to.have.members([mine[1]!.approvalNo, mine[2]!.approvalNo, mine[3]!.approvalNo]);
      expect(all[4]).to.equal(mine[0]!.approvalNo);
      expect(await walk('limit=2')).to.deep.equal(all);
      expect(await walk('limit=1')).to.deep.equal(all);
    });

    it('filters by status and by time (since inclusive, until exclusive)', async () => {
      expect(await walk('status=captured&limit=1')).to.deep.equal([mine[1]!.approvalNo, mine[0]!.approvalNo]);
      expect(await walk('status=voided')).to.deep.equal([mine[2]!.approvalNo]);
      expect(await walk('status=approved')).to.have.members([mine[3]!.approvalNo, mine[4]!.approvalNo]);
      expect(await walk('status=revoked')).to.deep.equal([]);
      const at = (a: Approval) => encodeURIComponent(a.createdAt.toISOString());
      expect(await walk(`since=${at(mine[0]!)}&until=${at(mine[1]!)}`)).to.deep.equal([mine[0]!.approvalNo]);
      expect(await walk(`since=${at(mine[1]!)}&limit=1`)).to.have.members(mine.slice(1).map((a) => a.approvalNo));
      expect(await walk(`since=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`)).to.deep.equal([]);
      // The same instant written with another offset.
      const seoul = new Date(mine[1]!.createdAt.getTime() + 9 * 3_600_000).toISOString().replace('Z', '+09:00');
      expect(await walk(`until=${encodeURIComponent(seoul)}`)).to.deep.equal([mine[0]!.approvalNo]);
    });

    it('reads a page in one statement, backwards along the (client_id, created_at, id) index from the cursor, unsorted', async () => {
      const next = (await get('/api/approvals?limit=1&status=captured', basicAuth(site))).json.next as string;
      const seen: Array<{ sql: string; bindings: unknown[] }> = [];
      const listen = (q: { sql: string; bindings: unknown[] }) => seen.push(q);
      ts.db.on('query', listen);
      try {
        expect((await get(`/api/approvals?limit=1&status=captured&after=${next}`, basicAuth(site))).status).to.equal(200);
      } finally {
        ts.db.off('query', listen);
      }
      const pages = seen.filter((q) => /from "approvals"/.test(q.sql));
      expect(pages).to.have.length(1);
      const plan = await ts.db.transaction(async (trx) => {
        // The test tables are small enough that a sequential scan would win: ask what the index does.
        await trx.raw('SET LOCAL enable_seqscan = off');
        const r = (await trx.raw(`EXPLAIN ${pages[0]!.sql.replace(/\$\d+/g, '?')}`, pages[0]!.bindings as never)) as { rows: Array<Record<string, string>> };
        return r.rows.map((x) => x['QUERY PLAN']).join('\n');
      });
      expect(plan).to.match(/Index Scan Backward using approvals_client_id_created_at_id_index/);
      expect(plan).to.match(/Index Cond: .*ROW\(created_at, id\) < ROW/);
      expect(plan).to.not.match(/Sort/);
    });

    it('refuses a cursor that was tampered with, made up, or given for another site or another filter with 400', async () => {
      const first = await get('/api/approvals?limit=2', basicAuth(site));
      const next = first.json.next as string;
      expect(next).to.be.a('string');
      const flipped = `${next.slice(0, 5)}${next[5] === 'A' ? 'B' : 'A'}${next.slice(6)}`;
      const forged = Buffer.from(JSON.stringify({ t: '2000-01-01T00:00:00.000000Z', i: theirs[0]!.id })).toString('base64url');
      for (const [what, authorization, query] of [
        ['tampered', basicAuth(site), `limit=2&after=${flipped}`],
        ['made up', basicAuth(site), `limit=2&after=${forged}`],
        ['garbage', basicAuth(site), `limit=2&after=${encodeURIComponent("'; drop table approvals;--")}`],
        ['long', basicAuth(site), `limit=2&after=${'A'.repeat(5000)}`],
        ['another site', basicAuth(other), `limit=2&after=${next}`],
        ['another filter', basicAuth(site), `limit=2&status=approved&after=${next}`],
      ] as const) {
        const res = await get(`/api/approvals?${query}`, authorization);
        expect(res.status, what).to.equal(400);
        expect(res.json.error, what).to.equal('invalid_request');
        expect(res.json.fields, what).to.have.property('after');
      }
      expect((await get(`/api/approvals?limit=2&after=${next}`, basicAuth(site))).status).to.equal(200);
    });

    it('refuses bad queries with 400 naming the field, never 500', async () => {
      const cases: Array<[string, string]> = [
        ['limit=0', 'limit'],
        ['limit=201', 'limit'],
        ['limit=abc', 'limit'],
        ['limit=1.5', 'limit'],
        ['limit=', 'limit'],
        ['status=pending', 'status'],
        ['status=captured&status=voided', 'status'],
        ['since=yesterday', 'since'],
        ['since=2026-02-30T00:00:00Z', 'since'],
        ['since=2026-11-01T00:00:00', 'since'],
        ['until=2026-11-01', 'until'],
        // An offset no zone has, past what PostgreSQL reads (±15:59): refused here, not by the database.
        ['since=2026-11-01T00:00:00%2B16:00', 'since'],
        ['until=2026-11-01T00:00:00-23:59', 'until'],
        ['since=2026-11-02T00:00:00Z&until=2026-11-01T00:00:00Z', 'since'],
        ['sort=asc', 'sort'],
        ['client_id=x', 'client_id'],
        ['__proto__=x', '__proto__'],
        ['limit=2&constructor=x', 'constructor'],
      ];
      for (const [query, field] of cases) {
        const res = await get(`/api/approvals?${query}`, basicAuth(site));
        expect(res.status, query).to.equal(400);
        expect(res.json.error, query).to.equal('invalid_request');
        expect(res.json.fields, query).to.have.property(field);
      }
    });

    it('says so when an offset\'s + reached it as a space (a + left unescaped in the URL)', async () => {
      for (const field of ['since', 'until']) {
        const res = await get(`/api/approvals?${field}=2026-11-01T00:00:00+09:00`, basicAuth(site));
        expect(res.status, field).to.equal(400);
        expect((res.json.fields as Record<string, string>)[field], field).to.match(/%2B/);
      }
      const proper = await get('/api/approvals?since=2026-11-01T00:00:00%2B09:00', basicAuth(site));
      expect(proper.status).to.equal(200);
    });
  });

  describe('GET /api/settlements/:month', () => {
    it("answers the site's own line of the month, a chargeback apart from its refunds", async () => {
      const res = await get(`/api/settlements/${thisMonth}`, basicAuth(site));
      expect(res.status).to.equal(200);
      expect(res.headers.get('cache-control')).to.equal('no-store');
      expect(res.json).to.include({ month: thisMonth, time_zone: ts.config.billing.timeZone, complete: false });
      expect(res.json.period_start).to.equal(`${thisMonth}-01`);
      // (6,000 + 5,000 − 500 − 1,000) × 2.5% = 237.5 → 238.
      expect(res.json.lines).to.deep.equal([
        {
          currency: 'KRW',
          captured: 11_000,
          refunds: 500,
          refund_count: 1,
          chargebacks: 1_000,
          chargeback_count: 1,
          net: 9_500,
          fee_basis_points: 250,
          fee: 238,
          payout: 9_262,
          late_count: 0,
          late_net: 0,
          closed: false,
        },
      ]);
      const theirsLine = await get(`/api/settlements/${thisMonth}`, basicAuth(other));
      expect((theirsLine.json.lines as Json[])[0]).to.include({ captured: 9_000, refunds: 0, chargebacks: 0, net: 9_000 });
    });

    it('answers a month without activity with zeros, not 404', async () => {
      const res = await get('/api/settlements/2001-01', basicAuth(site));
      expect(res.status).to.equal(200);
      expect(res.json).to.include({ month: '2001-01', period_start: '2001-01-01', period_end: '2001-02-01', complete: true });
      expect(res.json.lines).to.deep.equal([
        { currency: 'KRW', captured: 0, refunds: 0, refund_count: 0, chargebacks: 0, chargeback_count: 0, net: 0, fee_basis_points: 250, fee: 0, payout: 0, late_count: 0, late_net: 0, closed: false },
      ]);
    });

    it('says a month to come is not complete, the last there can be (9999-12, ending in the year 10000) too', async () => {
      const next = new Date(Date.now() + 40 * 86_400_000).toISOString().slice(0, 7);
      for (const month of [next, '9999-11', '9999-12']) {
        const res = await get(`/api/settlements/${month}`, basicAuth(site));
        expect(res.status, month).to.equal(200);
        expect(res.json, month).to.include({ month, complete: false });
      }
    });

    it('refuses an impossible month or a query with 400 naming the field', async () => {
      for (const [path, field] of [
        ['2026-13', 'month'],
        ['2026-00', 'month'],
        ['2026-1', 'month'],
        ['1999-12', 'month'],
        ['november', 'month'],
        [`${'9'.repeat(300)}`, 'month'],
        ['2026-11?format=csv', 'format'],
      ] as const) {
        const res = await get(`/api/settlements/${path}`, basicAuth(site));
        expect(res.status, path).to.equal(400);
        expect(res.json.error, path).to.equal('invalid_request');
        expect(res.json.fields, path).to.have.property(field);
      }
    });
  });

  describe('authentication, as for the rest of the member-site API', () => {
    const paths = () => ['/api/approvals', `/api/settlements/${thisMonth}`];

    it('takes a client_credentials token for the API with the approvals scope', async () => {
      const tokens = await client.clientCredentialsGrant(await siteClient(ts, site), { resource: `${ts.url}/api`, scope: 'approvals' });
      for (const path of paths()) expect((await get(path, `Bearer ${tokens.access_token}`)).status, path).to.equal(200);
    });

    it("refuses no credentials, a wrong secret and another site's secret with 401 and a challenge", async () => {
      for (const path of paths()) {
        for (const [what, authorization] of [
          ['none', undefined],
          ['wrong secret', basicAuth({ ...site, clientSecret: 'nope' })],
          ["another site's secret", basicAuth({ ...site, clientSecret: other.clientSecret })],
        ] as const) {
          const res = await get(path, authorization);
          expect(res.status, `${path} ${what}`).to.equal(401);
          expect(res.headers.get('www-authenticate'), what).to.equal('Basic realm="cybercard", Bearer realm="cybercard"');
          expect(res.json.error, what).to.equal('invalid_client');
          expect(res.json, what).to.not.have.property('approvals');
        }
      }
    });

    it('refuses a token for the API without the approvals scope with 403 insufficient_scope', async () => {
      const tokens = await client.clientCredentialsGrant(await siteClient(ts, site), { resource: `${ts.url}/api` });
      for (const path of paths()) {
        const res = await get(path, `Bearer ${tokens.access_token}`);
        expect(res.status, path).to.equal(403);
        expect(res.headers.get('www-authenticate')).to.equal('Bearer realm="cybercard", error="insufficient_scope", scope="approvals"');
        expect(res.json.error).to.equal('insufficient_scope');
      }
    });
  });
});
