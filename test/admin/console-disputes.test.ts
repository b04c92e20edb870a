import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { capture } from '../../src/approvals/capture.ts';
import { openDispute } from '../../src/approvals/open-dispute.ts';
import { inTransaction } from '../../src/db/tx.ts';
import { csrfOf, location, type ForwardedAgent } from '../helpers/agent.ts';
import { uniqueEmail } from '../helpers/applicant.ts';
import { registerTestSite, type TestCard, type TestSite } from '../helpers/fixtures.ts';
import { alertText, unescapeHtml } from '../helpers/html.ts';
import { signedInOperator } from '../helpers/operator.ts';
import { startCardManager, type TestServer } from '../helpers/server.ts';
import { approveFor, cardWithLimit } from '../ledger/fixtures.ts';

/** The text of an element with this id, or undefined. */
function textOf(html: string, id: string): string | undefined {
  const m = new RegExp(`id="${id}"[^>]*>([^<]*)<`).exec(html);
  return m ? unescapeHtml(m[1]!).trim() : undefined;
}

describe('operator console: reports of payments /admin/disputes', () => {
  const alice = randomBytes(32).toString('base64url');
  let ts: TestServer;
  let site: TestSite;
  let agent: ForwardedAgent;

  before(async () => {
    ts = await startCardManager({ trustProxy: true }, { env: { OPERATOR_TOKENS: `alice:${alice}` } });
    site = await registerTestSite(ts, { name: 'Film Corner' } as never);
    agent = await signedInOperator(ts.url, alice);
  });
  after(() => ts?.stop());

  /** An open report of a payment of `amount` KRW, captured in full. */
  async function reported(amount = 12_000): Promise<{ id: string; card: TestCard }> {
    const card = await cardWithLimit(ts, 100_000, { email: uniqueEmail('console-dispute') });
    const a = await approveFor(ts, card, site, amount, 'Movie night');
    await inTransaction(ts.db, (trx) => capture(trx, { approvalNo: a.approvalNo, amount, actor: 'test' }));
    const d = await openDispute(
      { db: ts.db, windowDays: ts.config.payments.disputeDays },
      { accountId: card.accountId, cardId: card.cardId, approvalNo: a.approvalNo, reason: 'not_mine', details: 'Never watched it', actor: `card:${card.cardId}` },
    );
    return { id: d.id, card };
  }

  /** Everything a decision may write. */
  async function snapshot(accountId: string) {
    const [disputes, audit, outbox, entries, account, approvals] = await Promise.all([
      ts.db('disputes').where({ account_id: accountId }).orderBy('id'),
      ts.db('audit_log').count({ n: '*' }).first(),
      ts.db('notifications_outbox').where({ account_id: accountId }).count({ n: '*' }).first(),
      ts.db('journal_entries').count({ n: '*' }).first(),
      ts.db('accounts').where({ id: accountId }).select('posted_balance', 'held_amount').first(),
      ts.db('approvals').where({ account_id: accountId }).orderBy('id').select('status', 'captured_amount', 'refunded_amount', 'released_amount'),
    ]);
    return { disputes, audit, outbox, entries, account, approvals };
  }

  async function csrf(id: string, action: 'refund' | 'reject'): Promise<string> {
    return csrfOf(await (await agent.get('/admin/disputes')).text(), `/admin/disputes/${id}/${action}`);
  }

  it('lists the open reports as the API does, each with refund and reject', async () => {
    const { id } = await reported();
    const res = await agent.get('/admin/disputes');
    expect(res.status).to.equal(200);
    expect(res.headers.get('cache-control')).to.equal('no-store');
    const html = await res.text();
    const api = (await (await fetch(`${ts.url}/admin/api/disputes`, { headers: { authorization: `Bearer ${alice}` } })).json()) as { disputes: Array<{ id: string }> };
    const shown = [...html.matchAll(/<section class="queue-item" id="dispute-([0-9a-f-]+)"/g)].map((m) => m[1]);
    expect(shown).to.deep.equal(api.disputes.map((d) => d.id));
    expect(textOf(html, `payment-${id}`)).to.equal('Film Corner: Movie night, 12,000 KRW');
    expect(html).to.include('<dt>Holder says</dt><dd>Did not make this payment</dd>');
    expect(html).to.include(`action="/admin/disputes/${id}/refund"`).and.include(`action="/admin/disputes/${id}/reject"`);
  });

  it('refunds part of a payment, the amount typed as the holder pages take it, audited as the operator signed in', async () => {
    const { id } = await reported(12_000);
    const res = await agent.post(`/admin/disputes/${id}/refund`, { csrf: await csrf(id, 'refund'), amount: '5,000', note: 'half of it, as agreed' });
    expect(res.status).to.equal(303);
    const html = await (await agent.get(location(res, ts.url))).text();
    expect(textOf(html, 'notice')).to.match(/^Refunded: /);
    expect(html).not.to.include(`id="dispute-${id}"`);
    expect(await ts.db('disputes').where({ id }).first()).to.include({ status: 'refunded', decided_by: 'operator:alice', decision_note: 'half of it, as agreed' });
    expect(Number((await ts.db('disputes').where({ id }).first()).refunded_amount)).to.equal(5_000);
    const audit = await ts.db('audit_log').where({ action: 'dispute.decided' }).whereRaw("details->>'disputeId' = ?", [id]).first();
    expect(audit.actor).to.equal('operator:alice');
  });

  it('refunds everything charged when the amount is left empty', async () => {
    const { id } = await reported(7_000);
    const res = await agent.post(`/admin/disputes/${id}/refund`, { csrf: await csrf(id, 'refund'), amount: ' ', note: '' });
    expect(res.status).to.equal(303);
    const row = await ts.db('disputes').where({ id }).first();
    expect(row).to.include({ status: 'refunded', decision_note: null });
    expect(Number(row.refunded_amount)).to.equal(7_000);
  });

  it('rejects with a note the holder is told; a second decision is refused with why', async () => {
    const { id } = await reported();
    const token = await csrf(id, 'reject');
    const res = await agent.post(`/admin/disputes/${id}/reject`, { csrf: token, note: 'The film was streamed in full from your device.' });
    expect(res.status).to.equal(303);
    expect(textOf(await (await agent.get(location(res, ts.url))).text(), 'notice')).to.equal('Rejected: nothing moved, and the holder has been told why.');
    expect(await ts.db('disputes').where({ id }).first()).to.include({ status: 'rejected', decided_by: 'operator:alice' });
    const again = await agent.post(`/admin/disputes/${id}/refund`, { csrf: token, amount: '', note: '' });
    expect(again.status).to.equal(409);
    expect(alertText(await again.text())).to.match(/^This report was already decided \(rejected\) on \d{4}-\d{2}-\d{2}\.$/);
  });

  it('refuses bad input on every form with a 4xx, the form refilled, and the database unchanged', async () => {
    const { id, card } = await reported(12_000);
    const before = await snapshot(card.accountId);
    const token = await csrf(id, 'refund');
    const AMOUNT = 'Enter a whole amount from 1 KRW to 1,000,000,000,000 KRW, or leave it empty to refund everything charged and not refunded yet.';
    for (const amount of ['12.5', '0', '-1', 'abc', '1 000', '10000000000000']) {
      const res = await agent.post(`/admin/disputes/${id}/refund`, { csrf: token, amount, note: 'kept note' });
      expect(res.status, amount).to.equal(400);
      const html = await res.text();
      expect(textOf(html, `amount-${id}-error`), amount).to.equal(AMOUNT);
      expect(html).to.include(`id="amount-${id}" name="amount" inputmode="decimal" value="${amount}"`);
      expect(html).to.include(`id="note-refund-${id}" name="note" value="kept note"`);
    }
    // More than the payment charged: the decision refuses it, and the page says it in money.
    const over = await agent.post(`/admin/disputes/${id}/refund`, { csrf: token, amount: '12,001', note: '' });
    expect(over.status).to.equal(409);
    const overPage = await over.text();
    expect(alertText(overPage)).to.equal('Cannot refund 12,001 KRW: 12,000 KRW of this payment is charged and not refunded.');
    expect(overPage).to.include(`value="12,001"`);

    const noNote = await agent.post(`/admin/disputes/${id}/reject`, { csrf: token, note: '  ' });
    expect(noNote.status).to.equal(400);
    expect(textOf(await noNote.text(), `note-reject-${id}-error`)).to.equal('Say why, in words the holder is shown.');
    const long = 'y'.repeat(501);
    const tooLong = await agent.post(`/admin/disputes/${id}/reject`, { csrf: token, note: long });
    expect(tooLong.status).to.equal(400);
    const tooLongPage = await tooLong.text();
    expect(textOf(tooLongPage, `note-reject-${id}-error`)).to.equal('Use at most 500 characters.');
    expect(tooLongPage).to.include(`value="${long}"`);
    expect((await agent.post(`/admin/disputes/${id}/reject`, { csrf: token, note: 'bell\u0007' })).status).to.equal(400);

    const notAnId = await agent.post('/admin/disputes/nope/refund', { csrf: token, amount: '' });
    expect(notAnId.status).to.equal(404);
    expect(alertText(await notAnId.text())).to.equal('No such report.');
    expect((await agent.post(`/admin/disputes/${crypto.randomUUID()}/reject`, { csrf: token, note: 'who' })).status).to.equal(404);

    // The applications queue's token is no good here.
    const apps = await (await agent.get('/admin/applications')).text();
    const forged = await agent.post(`/admin/disputes/${id}/refund`, { csrf: csrfOf(apps, '/admin/signout'), amount: '' });
    expect(forged.status).to.equal(403);

    expect(await snapshot(card.accountId)).to.deep.equal(before);
  });

  it('sends a browser without a session to the sign-in page, refunding nothing', async () => {
    const { id, card } = await reported();
    const before = await snapshot(card.accountId);
    const res = await fetch(`${ts.url}/admin/disputes/${id}/refund`, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'amount=' });
    expect(res.status).to.equal(303);
    expect(res.headers.get('location')).to.equal('/admin/signin');
    expect(await snapshot(card.accountId)).to.deep.equal(before);
  });
});
