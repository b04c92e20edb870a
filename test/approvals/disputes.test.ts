import { expect } from 'chai';
import { capture } from '../../src/approvals/capture.ts';
import { inTransaction } from '../../src/db/tx.ts';
import { renderMessage } from '../../src/notifications/templates.ts';
import type { Page } from 'playwright-core';
import { csrfOf, type ForwardedAgent } from '../helpers/agent.ts';
import { newPage, screenshotOnFailure, useBrowser } from '../helpers/browser.ts';
import { runCli } from '../helpers/cli.ts';
import { registerTestSite, type TestCard, type TestSite } from '../helpers/fixtures.ts';
import { signedInHolder } from '../helpers/holder.ts';
import { alertText, fieldError, unescapeHtml, withoutCellLabels } from '../helpers/html.ts';
import type { TestServer } from '../helpers/server.ts';
import { uniqueEmail } from '../helpers/applicant.ts';
import { startCardManager } from '../helpers/server.ts';
import { approveFor, basicAuth, cardWithLimit, operator, unbalancedEntries } from '../ledger/fixtures.ts';

/** Holders' reports of payments (disputes): /card/disputes, /api/holder/disputes, the operator's decision. */
describe('reports of payments (disputes)', () => {
  let ts: TestServer;
  let site: TestSite;

  before(async () => {
    // The run's own database, which the CLI opens too.
    ts = await startCardManager();
    site = await registerTestSite(ts, { name: 'Film & "Friends"' } as never);
  });
  after(() => ts.stop());

  /** A card with room to pay and an email address to be told at. */
  const holder = () => cardWithLimit(ts, 100_000, { email: uniqueEmail('dispute') });

  async function charged(card: TestCard, amount: number, captured = amount) {
    const a = await approveFor(ts, card, site, amount, 'Movie night');
    if (captured > 0) await inTransaction(ts.db, (trx) => capture(trx, { approvalNo: a.approvalNo, amount: captured, actor: 'test' }));
    return a;
  }

  async function page(agent: ForwardedAgent, query = ''): Promise<{ html: string; csrf: string }> {
    const res = await agent.get(`/card/disputes${query}`);
    expect(res.status).to.equal(200);
    const html = await res.text();
    return { html, csrf: csrfOf(html, '/card/disputes') };
  }

  const postJson = (agent: ForwardedAgent, body: unknown, contentType = 'application/json') =>
    agent.request('/api/holder/disputes', {
      method: 'POST',
      headers: { 'content-type': contentType, accept: 'application/json' },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });

  /** Everything a report or a decision may write. */
  async function snapshot(accountId: string) {
    const [disputes, audit, outbox, entries, line, approvals] = await Promise.all([
      ts.db('disputes').where({ account_id: accountId }).orderBy('id'),
      ts.db('audit_log').whereIn('action', ['dispute.opened', 'dispute.decided', 'approval.refunded', 'approval.voided']).count({ n: '*' }).first(),
      ts.db('notifications_outbox').where({ account_id: accountId }).whereIn('template', ['dispute_opened', 'dispute_decided']).count({ n: '*' }).first(),
      ts.db('journal_entries').count({ n: '*' }).first(),
      ts.db('accounts').where({ id: accountId }).select('posted_balance', 'held_amount').first(),
      ts.db('approvals').where({ account_id: accountId }).orderBy('id').select('status', 'captured_amount', 'refunded_amount', 'released_amount'),
    ]);
    return { disputes, audit, outbox, entries, line, approvals };
  }

  it('takes a report from the account page’s link: recorded, audited, told, in the activity, listed with its outcome', async () => {
    const card = await holder();
    const a = await charged(card, 12_000);
    const agent = await signedInHolder(ts.url, card);
    const account = unescapeHtml(await (await agent.get('/card/account')).text());
    expect(account).to.include(`<a class="report" href="/card/disputes?approval=${a.approvalNo}">Report</a>`);
    const shown = await page(agent, `?approval=${a.approvalNo}`);
    expect(shown.html).to.include(`name="approval_no" value="${a.approvalNo}"`);
    expect(shown.html).to.include('id="no-reports"');
    // Anything but an approval number in the query is not put in the form.
    expect((await page(agent, '?approval=%3Cscript%3E')).html).to.include('name="approval_no" value=""');

    const res = await agent.post('/card/disputes', { csrf: shown.csrf, approval_no: a.approvalNo, reason: 'not_mine', details: 'Never watched it <b>' });
    // Answered with a redirect, so that a reload does not post the report again.
    expect(res.status).to.equal(303);
    const [row0] = await ts.db('disputes').where({ account_id: card.accountId });
    expect(res.headers.get('location')).to.equal(`/card/disputes?reported=${row0.id}`);
    const html = unescapeHtml(withoutCellLabels(await (await agent.get(res.headers.get('location')!)).text()));
    expect(html).to.include('Your report was received. cybercard will look into it and tell you the outcome. If someone else may know your card number and password, block the card now');
    expect(html).to.match(
      new RegExp(`<td class="d">${a.approvalNo}</td><td>Film & "Friends": Movie night<br><span class="muted reason">I did not make this payment: Never watched it <b></span></td><td class="n">12,000 KRW</td>\\s*<td>Being looked into</td>`),
    );
    // The notice is for the holder's own report only: another id, or none, shows the page without it.
    for (const q of ['?reported=00000000-0000-4000-8000-000000000000', '?reported=%3Cscript%3E', '']) {
      expect(await (await agent.get(`/card/disputes${q}`)).text(), q).to.not.include('id="notice"');
    }

    const [row, ...more] = await ts.db('disputes').where({ account_id: card.accountId });
    expect(more).to.have.length(0);
    expect(row).to.deep.include({ approval_id: a.id, card_id: card.cardId, reason: 'not_mine', details: 'Never watched it <b>', status: 'open', decided_at: null });
    const audit = await ts.db('audit_log').where({ action: 'dispute.opened', subject_id: a.id });
    expect(audit).to.have.length(1);
    expect(audit[0].actor).to.equal(`card:${card.cardId}`);
    expect(audit[0].details).to.deep.equal({ disputeId: row.id, approvalNo: a.approvalNo, clientId: site.clientId, reason: 'not_mine', amount: 12_000, currency: 'KRW' });
    const told = await ts.db('notifications_outbox').where({ account_id: card.accountId, template: 'dispute_opened' });
    expect(told).to.have.length.above(0);
    expect(renderMessage('dispute_opened', told[0].data, ts.url, 'en', 'email').text).to.equal(
      `We received your report of approval ${a.approvalNo}: 12,000 KRW at Film & "Friends" (card ending in ${card.number.slice(-4)}). cybercard will look into it and tell you the outcome.`,
    );
    const activity = unescapeHtml(await (await agent.get('/card/activity')).text());
    expect(activity).to.include('You reported a payment of 12,000 KRW at Film & "Friends".');
    // The account page no longer offers to report it again, but says it was reported (and in Korean), as the JSON does.
    const after = unescapeHtml(await (await agent.get('/card/account')).text());
    expect(after).to.not.include(`href="/card/disputes?approval=${a.approvalNo}"`);
    expect(after).to.match(new RegExp(`${a.approvalNo}</td>[\\s\\S]*?<a class="reported" href="/card/disputes">Reported</a></td>`));
    const korean = await (await agent.request('/card/account', { headers: { 'accept-language': 'ko' } })).text();
    expect(korean).to.include('<a class="reported" href="/card/disputes">신고함</a>');
    const json = (await (await agent.request('/api/holder/account', { headers: { accept: 'application/json' } })).json()) as {
      recent_approvals: Array<{ approval_no: string; report_status: string | null }>;
    };
    expect(json.recent_approvals.find((r) => r.approval_no === a.approvalNo)?.report_status).to.equal('open');
    // The money has not moved: the operator decides.
    expect((await ts.db('approvals').where({ id: a.id }).first()).refunded_amount).to.satisfy((n: unknown) => Number(n) === 0);
  });

  it('takes a report by JSON (201) and lists the holder’s own reports only', async () => {
    const card = await holder();
    const other = await holder();
    const a = await charged(card, 5_000, 0);
    await charged(other, 7_000);
    const agent = await signedInHolder(ts.url, card);
    const res = await postJson(agent, { approval_no: a.approvalNo, reason: 'wrong_amount' });
    expect(res.status).to.equal(201);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).to.deep.include({ approval_no: a.approvalNo, site: 'Film & "Friends"', amount: 5_000, currency: 'KRW', reason: 'wrong_amount', details: '', status: 'open', decided_at: null });
    expect(body).to.not.have.any.keys('account_id', 'card_id', 'decided_by');
    const list = (await (await agent.request('/api/holder/disputes', { headers: { accept: 'application/json' } })).json()) as { disputes: Array<{ id: string }> };
    expect(list.disputes.map((d) => d.id)).to.deep.equal([body.id]);
  });

  it('refuses bad reports with 4xx, the form refilled and nothing written', async () => {
    const card = await holder();
    const other = await holder();
    const mine = await charged(card, 3_000);
    const voided = await charged(card, 4_000, 0);
    await ts.db('approvals').where({ id: voided.id }).update({ status: 'voided', released_amount: 4_000 });
    await ts.db('accounts').where({ id: card.accountId }).decrement('held_amount', 4_000);
    const old = await charged(card, 2_000);
    await ts.db('approvals').where({ id: old.id }).update({ created_at: new Date(Date.now() - 121 * 86_400_000) });
    // Held past its expiry: the member site reads it expired and cannot capture it, though the sweep has not run yet.
    const lapsed = await charged(card, 1_500, 0);
    await ts.db('approvals').where({ id: lapsed.id }).update({ hold_expires_at: new Date(Date.now() - 1_000) });
    const theirs = await charged(other, 6_000);
    const agent = await signedInHolder(ts.url, card);
    const { csrf } = await page(agent);
    // The account page offers to report only what can be: not the voided, the too old or the lapsed hold.
    const account = await (await agent.get('/card/account')).text();
    expect(account).to.include(`href="/card/disputes?approval=${mine.approvalNo}"`);
    for (const no of [voided.approvalNo, old.approvalNo, lapsed.approvalNo]) expect(account, no).to.not.include(`href="/card/disputes?approval=${no}"`);
    const before = await snapshot(card.accountId);
    const beforeOther = await snapshot(other.accountId);

    const cases: Array<[Record<string, string>, number, string | undefined, Record<string, string>]> = [
      [{ approval_no: '1234', reason: 'not_mine' }, 400, 'Some fields need attention.', { approval_no: 'Enter the approval number as it shows on your account page, like 1234-5678.' }],
      [{ approval_no: mine.approvalNo }, 400, 'Some fields need attention.', { reason: 'Choose what is wrong with the payment.' }],
      [{ approval_no: mine.approvalNo, reason: 'bored' }, 400, 'Some fields need attention.', { reason: 'Choose what is wrong with the payment.' }],
      [{ approval_no: mine.approvalNo, reason: 'other', details: '  ' }, 400, 'Some fields need attention.', { details: 'Say what is wrong with the payment.' }],
      [{ approval_no: mine.approvalNo, reason: 'other', details: 'x'.repeat(1001) }, 400, 'Some fields need attention.', { details: 'At most 1000 characters.' }],
      [{ approval_no: theirs.approvalNo, reason: 'not_mine' }, 404, 'No payment with this approval number on your card.', {}],
      [{ approval_no: '0000-0000', reason: 'not_mine' }, 404, 'No payment with this approval number on your card.', {}],
      [{ approval_no: voided.approvalNo, reason: 'not_mine' }, 409, 'Nothing of this payment is charged or held any more: there is nothing to report.', {}],
      [{ approval_no: old.approvalNo, reason: 'not_mine' }, 409, 'This payment was approved too long ago to be reported here.', {}],
      [{ approval_no: lapsed.approvalNo, reason: 'not_mine' }, 409, 'Nothing of this payment is charged or held any more: there is nothing to report.', {}],
    ];
    for (const [form, status, alert, fields] of cases) {
      const res = await agent.post('/card/disputes', { csrf, ...form });
      const html = await res.text();
      expect(res.status, JSON.stringify(form)).to.equal(status);
      expect(unescapeHtml(alertText(html) ?? ''), JSON.stringify(form)).to.equal(alert);
      for (const [k, v] of Object.entries(fields)) expect(fieldError(html, k), k).to.equal(v);
      // The approval number typed comes back in the form.
      if (form.approval_no) expect(html).to.include(`name="approval_no" value="${form.approval_no}"`);
    }
    for (const form of [{ approval_no: mine.approvalNo, reason: 'not_mine' }, { csrf: 'forged', approval_no: mine.approvalNo, reason: 'not_mine' }] as Array<Record<string, string>>) {
      expect((await agent.post('/card/disputes', form)).status).to.equal(403);
    }
    for (const [body, status] of [
      [{ approval_no: mine.approvalNo, reason: 'not_mine', account_id: other.accountId }, 400],
      [{ approval_no: mine.approvalNo, reason: 'not_mine', details: 5 }, 400],
      // Control characters the page's form refuses are refused by JSON too (newlines and tabs are words' own).
      [{ approval_no: mine.approvalNo, reason: 'other', details: 'bell\u0007' }, 400],
      [{ approval_no: mine.approvalNo, reason: 'other', details: '\u001b[2J\u001b[31mrefund me' }, 400],
      [{ approval_no: mine.approvalNo, reason: 'other', details: 'next line\u0085' }, 400],
      [{ approval_no: mine.approvalNo, reason: 'other', details: 'not UTF-8: \ufffd' }, 400],
      [{ approval_no: 12345678, reason: 'not_mine' }, 400],
      [[mine.approvalNo], 400],
      ['{"approval_no":', 400],
      [{ approval_no: theirs.approvalNo, reason: 'not_mine' }, 404],
    ] as Array<[unknown, number]>) {
      expect((await postJson(agent, body)).status, JSON.stringify(body)).to.equal(status);
    }
    expect((await postJson(agent, `approval_no=${mine.approvalNo}&reason=not_mine`, 'application/x-www-form-urlencoded')).status).to.equal(415);
    const escaped = await postJson(agent, { approval_no: mine.approvalNo, reason: 'other', details: 'x\u001b]0;owned\u0007' });
    expect(((await escaped.json()) as { fields: Record<string, string> }).fields).to.deep.equal({ details: 'Contains characters that are not allowed.' });
    expect(await snapshot(card.accountId)).to.deep.equal(before);
    expect(await snapshot(other.accountId)).to.deep.equal(beforeOther);

    // Once: a second report of the same payment is refused, the first kept.
    expect((await postJson(agent, { approval_no: mine.approvalNo, reason: 'not_received', details: 'Line one\r\n\tline two' })).status).to.equal(201);
    expect((await ts.db('disputes').where({ account_id: card.accountId }).first()).details).to.equal('Line one\r\n\tline two');
    const again = await agent.post('/card/disputes', { csrf, approval_no: mine.approvalNo, reason: 'not_mine' });
    expect(again.status).to.equal(409);
    expect(alertText(await again.text())).to.equal('This payment was already reported: its report is listed on this page with its outcome.');
    expect(await ts.db('disputes').where({ account_id: card.accountId })).to.have.length(1);
  });

  describe('the operator’s decision', () => {
    async function reported(card: TestCard, amount: number, captured = amount) {
      const a = await charged(card, amount, captured);
      const agent = await signedInHolder(ts.url, card);
      const res = await postJson(agent, { approval_no: a.approvalNo, reason: 'not_received', details: 'Stream never started' });
      expect(res.status).to.equal(201);
      return { approval: a, dispute: (await res.json()) as { id: string }, agent };
    }

    it('lists open reports and refunds one in full: a balanced chargeback, the credit back, the holder told and shown', async () => {
      const card = await holder();
      const { approval, dispute, agent } = await reported(card, 8_000);
      const list = await operator(ts, 'GET', '/admin/api/disputes');
      expect(list.status).to.equal(200);
      const listed = (list.json.disputes as Array<Record<string, unknown>>).find((d) => d.id === dispute.id);
      expect(listed).to.deep.include({ approval_no: approval.approvalNo, account_id: card.accountId, card_id: card.cardId, client_id: site.clientId, status: 'open', reason: 'not_received' });
      const before = await ts.db('accounts').where({ id: card.accountId }).select('posted_balance').first();

      const res = await operator(ts, 'POST', `/admin/api/disputes/${dispute.id}/decision`, { decision: 'refund', note: 'The site confirmed the outage.' });
      expect(res.status, res.text).to.equal(200);
      expect(res.json).to.deep.include({ status: 'refunded', refunded_amount: 8_000, released_amount: 0, decision_note: 'The site confirmed the outage.', decided_by: 'operator' });
      expect(await unbalancedEntries(ts)).to.equal(0);
      const after = await ts.db('approvals').where({ id: approval.id }).first();
      expect(Number(after.refunded_amount)).to.equal(8_000);
      expect(Number((await ts.db('accounts').where({ id: card.accountId }).select('posted_balance').first()).posted_balance)).to.equal(Number(before.posted_balance) - 8_000);
      const refundAudit = await ts.db('audit_log').where({ action: 'approval.refunded', subject_id: approval.id }).first();
      expect(refundAudit.details.disputeId).to.equal(dispute.id);
      const told = await ts.db('notifications_outbox').where({ account_id: card.accountId, template: 'dispute_decided' });
      expect(renderMessage('dispute_decided', told[0].data, ts.url, 'en', 'email').text).to.equal(
        `Your report of approval ${approval.approvalNo} at Film & "Friends" (card ending in ${card.number.slice(-4)}) was upheld: 8,000 KRW refunded. ` +
          'It will show on your next statement. Note from cybercard staff: “The site confirmed the outage.”',
      );
      const html = unescapeHtml(await (await agent.get('/card/disputes')).text());
      expect(html).to.include('Upheld: 8,000 KRW refunded<br><span class="muted">The site confirmed the outage.</span>');
      const activity = unescapeHtml(await (await agent.get('/card/activity')).text());
      expect(activity).to.include('Your report of a payment at Film & "Friends" was upheld: 8,000 KRW back to your account.');
      expect(activity).to.not.include('refunded by Film');
      // The member site sees the refund in the approval's status.
      const basic = basicAuth(site);
      const status = (await (await fetch(`${ts.url}/api/approvals/${approval.approvalNo}`, { headers: { authorization: basic } })).json()) as Record<string, unknown>;
      expect(status.refunded_amount).to.equal(8_000);
      // Decided once.
      const again = await operator(ts, 'POST', `/admin/api/disputes/${dispute.id}/decision`, { decision: 'refund' });
      expect(again.status).to.equal(409);
      expect(again.json.error).to.equal('dispute_decided');
    });

    it('releases what is still held, refunds part of what was charged, and rejects with a note', async () => {
      const card = await holder();
      const held = await reported(card, 6_000, 0);
      const res = await operator(ts, 'POST', `/admin/api/disputes/${held.dispute.id}/decision`, { decision: 'refund' });
      expect(res.status, res.text).to.equal(200);
      expect(res.json).to.deep.include({ refunded_amount: 0, released_amount: 6_000 });
      expect(await ts.db('approvals').where({ id: held.approval.id }).first()).to.deep.include({ status: 'voided', status_reason: 'dispute' });
      // Only a hold was released: nothing was charged, so nothing is said of a statement.
      const releasedOnly = await ts.db('notifications_outbox').where({ account_id: card.accountId, template: 'dispute_decided', channel: 'email' }).first();
      expect(renderMessage('dispute_decided', releasedOnly.data, ts.url, 'en', 'email').text).to.match(/ was upheld: 6,000 KRW held released\.$/);
      expect(renderMessage('dispute_decided', releasedOnly.data, ts.url, 'ko', 'email').text).to.match(/받아들여졌습니다: 보류 중이던 6,000원 해제\.$/);

      const part = await reported(card, 9_000, 5_000);
      const partial = await operator(ts, 'POST', `/admin/api/disputes/${part.dispute.id}/decision`, { decision: 'refund', amount: 2_000 });
      expect(partial.status, partial.text).to.equal(200);
      expect(partial.json).to.deep.include({ refunded_amount: 2_000, released_amount: 4_000 });
      const a = await ts.db('approvals').where({ id: part.approval.id }).first();
      expect([a.status, Number(a.captured_amount), Number(a.refunded_amount), Number(a.released_amount)]).to.deep.equal(['captured', 5_000, 2_000, 4_000]);
      expect(await unbalancedEntries(ts)).to.equal(0);
      // The activity tells all that came back to the account: the first report's 6,000 released; the second's 2,000
      // refunded and the 4,000 still held, released with it (not the refund alone).
      const activity = (await (await part.agent.request('/api/holder/activity', { headers: { accept: 'application/json' } })).json()) as {
        entries: Array<{ kind: string; amount: number | null }>;
      };
      expect(activity.entries.filter((e) => e.kind === 'report_upheld').map((e) => e.amount)).to.deep.equal([6_000, 6_000]);

      const turned = await reported(card, 1_000);
      const rejected = await operator(ts, 'POST', `/admin/api/disputes/${turned.dispute.id}/decision`, { decision: 'reject', note: 'The site shows the film was streamed in full.' });
      expect(rejected.status).to.equal(200);
      expect(rejected.json).to.deep.include({ status: 'rejected', refunded_amount: 0, released_amount: 0 });
      const html = unescapeHtml(await (await turned.agent.get('/card/disputes')).text());
      expect(html).to.include('Not upheld<br><span class="muted">The site shows the film was streamed in full.</span>');
      const told = await ts.db('notifications_outbox').where({ account_id: card.accountId, template: 'dispute_decided' }).orderBy('id', 'desc').first();
      expect(renderMessage('dispute_decided', told.data, ts.url, 'en', 'email').text).to.match(/ was not upheld\. Note from cybercard staff: “The site shows the film was streamed in full\.”$/);
    });

    it('refunds once when two operators and the member site act on the same payment at the same moment', async () => {
      const card = await holder();
      const { approval, dispute } = await reported(card, 10_000);
      const path = `/admin/api/disputes/${dispute.id}/decision`;
      const basic = basicAuth(site);
      const siteRefund = () =>
        fetch(`${ts.url}/api/approvals/${approval.approvalNo}/refund`, {
          method: 'POST',
          headers: { authorization: basic, 'content-type': 'application/json', 'idempotency-key': `k-${Math.random()}` },
          body: JSON.stringify({ amount: 6_000 }),
        });
      const [one, two, bySite] = await Promise.all([
        operator(ts, 'POST', path, { decision: 'refund' }),
        operator(ts, 'POST', path, { decision: 'refund' }),
        siteRefund(),
      ]);
      expect([one.status, two.status].sort()).to.deep.equal([200, 409]);
      const a = await ts.db('approvals').where({ id: approval.id }).first();
      const decided = await ts.db('disputes').where({ id: dispute.id }).first();
      // Whoever came first, everything captured is refunded exactly once: the site's 6,000 then the report's remaining
      // 4,000, or the report's 10,000 and the site's refused (409: nothing left).
      expect(Number(a.refunded_amount)).to.equal(10_000);
      expect(`${bySite.status} ${Number(decided.refunded_amount)}`).to.be.oneOf(['200 4000', '409 10000']);
      expect(await unbalancedEntries(ts)).to.equal(0);
    });

    it('tells the member site on GET /api/approvals/:no that its payment was reported and how it was decided, never the holder’s words', async () => {
      const card = await holder();
      const a = await charged(card, 4_000);
      const basic = basicAuth(site);
      const read = async (no: string, auth = basic) => {
        const res = await fetch(`${ts.url}/api/approvals/${no}`, { headers: { authorization: auth } });
        return { status: res.status, body: (await res.json()) as Record<string, unknown> };
      };
      expect((await read(a.approvalNo)).body.dispute).to.equal(null);
      const agent = await signedInHolder(ts.url, card);
      const opened = (await (await postJson(agent, { approval_no: a.approvalNo, reason: 'not_mine', details: 'My phone number is 010-1234-5678' })).json()) as { id: string; opened_at: string };
      const open = await read(a.approvalNo);
      expect(open.status).to.equal(200);
      expect(open.body).to.deep.include({ status: 'captured', captured_amount: 4_000 });
      expect(open.body.dispute).to.deep.equal({ status: 'open', reason: 'not_mine', opened_at: opened.opened_at, decided_at: null, refunded_amount: 0, released_amount: 0 });
      expect(JSON.stringify(open.body)).to.not.include('010-1234-5678');
      // The site refunds part itself; the operator upholds the report for the rest, which the site reads as the chargeback.
      expect((await fetch(`${ts.url}/api/approvals/${a.approvalNo}/refund`, { method: 'POST', headers: { authorization: basic, 'content-type': 'application/json', 'idempotency-key': `refund-${a.approvalNo}` }, body: '{"amount": 1000}' })).status).to.equal(200);
      const decided = await operator(ts, 'POST', `/admin/api/disputes/${opened.id}/decision`, { decision: 'refund' });
      expect(decided.status).to.equal(200);
      expect((await read(a.approvalNo)).body).to.deep.include({
        refunded_amount: 4_000,
        dispute: { status: 'refunded', reason: 'not_mine', opened_at: opened.opened_at, decided_at: decided.json.decided_at, refunded_amount: 3_000, released_amount: 0 },
      });
      // Another site still cannot read the approval, nor learn of its report.
      const stranger = await registerTestSite(ts, { name: 'Stranger' } as never);
      expect((await read(a.approvalNo, basicAuth(stranger))).status).to.equal(404);
    });

    it('upholds a report whose payment has nothing left, after the lost-card block the page advised or the site’s own refund, moving nothing', async () => {
      const card = await holder();
      const held = await reported(card, 5_000, 0);
      // The holder follows the advice to block the card: the block releases the hold before the operator decides.
      const lost = await operator(ts, 'POST', `/admin/api/cards/${card.cardId}/lost`, { reason: 'holder reported a payment not theirs' });
      expect(lost.status, lost.text).to.equal(200);
      expect(await ts.db('approvals').where({ id: held.approval.id }).first()).to.deep.include({ status: 'revoked' });
      const entries = Number((await ts.db('journal_entries').count({ n: '*' }).first())!.n);
      // An amount to refund that is not there is still refused.
      expect((await operator(ts, 'POST', `/admin/api/disputes/${held.dispute.id}/decision`, { decision: 'refund', amount: 1 })).json.error).to.equal('nothing_to_refund');
      const upheld = await operator(ts, 'POST', `/admin/api/disputes/${held.dispute.id}/decision`, { decision: 'refund' });
      expect(upheld.status, upheld.text).to.equal(200);
      expect(upheld.json).to.deep.include({ status: 'refunded', refunded_amount: 0, released_amount: 0 });
      expect(Number((await ts.db('journal_entries').count({ n: '*' }).first())!.n)).to.equal(entries);
      const told = await ts.db('notifications_outbox').where({ account_id: card.accountId, template: 'dispute_decided' }).first();
      expect(renderMessage('dispute_decided', told.data, ts.url, 'en', 'email').text).to.match(/ was upheld; nothing of the payment is charged or held any more\.$/);
      expect(renderMessage('dispute_decided', told.data, ts.url, 'ko', 'email').text).to.match(/받아들여졌습니다\. 이 결제로 청구되거나 보류된 금액은 더 이상 없습니다\.$/);

      // The member site refunded everything itself before the decision.
      const other = await holder();
      const refundedBySite = await reported(other, 3_000);
      const bySite = await fetch(`${ts.url}/api/approvals/${refundedBySite.approval.approvalNo}/refund`, {
        method: 'POST',
        headers: { authorization: basicAuth(site), 'content-type': 'application/json', 'idempotency-key': `k-${Math.random()}` },
        body: '{}',
      });
      expect(bySite.status).to.equal(200);
      const decided = await operator(ts, 'POST', `/admin/api/disputes/${refundedBySite.dispute.id}/decision`, { decision: 'refund' });
      expect(decided.status, decided.text).to.equal(200);
      expect(decided.json).to.deep.include({ status: 'refunded', refunded_amount: 0, released_amount: 0 });
      const html = unescapeHtml(withoutCellLabels(await (await refundedBySite.agent.get('/card/disputes')).text()));
      expect(html).to.include('<td>Upheld: nothing of it is charged or held any more</td>');
      const korean = withoutCellLabels(await (await refundedBySite.agent.request('/card/disputes', { headers: { 'accept-language': 'ko' } })).text());
      expect(korean).to.include('<td>인정됨: 청구되거나 보류된 금액이 더 이상 없음</td>');
      const activity = unescapeHtml(await (await refundedBySite.agent.get('/card/activity')).text());
      expect(activity).to.include('Your report of a payment at Film & "Friends" was upheld.');
      expect(await unbalancedEntries(ts)).to.equal(0);
    });

    it('refuses bad decisions with 4xx and changes nothing', async () => {
      const card = await holder();
      const { dispute } = await reported(card, 3_000);
      const before = await snapshot(card.accountId);
      const path = `/admin/api/disputes/${dispute.id}/decision`;
      const cases: Array<[unknown, number, string]> = [
        [{ decision: 'reject' }, 400, 'note'],
        [{ decision: 'reject', note: '   ' }, 400, 'note'],
        [{ decision: 'reject', note: 'no', amount: 5 }, 400, 'amount'],
        [{ decision: 'refund', amount: 0 }, 400, 'amount'],
        [{ decision: 'refund', amount: -5 }, 400, 'amount'],
        [{ decision: 'refund', amount: 1.5 }, 400, 'amount'],
        [{ decision: 'refund', amount: 'ten' }, 400, 'amount'],
        [{ decision: 'refund', note: 'x'.repeat(501) }, 400, 'note'],
        [{ decision: 'maybe' }, 400, 'decision'],
        [{ decision: 'refund', account_id: card.accountId }, 400, 'account_id'],
      ];
      for (const [body, status, field] of cases) {
        const res = await operator(ts, 'POST', path, body);
        expect(res.status, JSON.stringify(body)).to.equal(status);
        expect(Object.keys((res.json.fields as Record<string, string>) ?? {}), JSON.stringify(body)).to.include(field);
      }
      const over = await operator(ts, 'POST', path, { decision: 'refund', amount: 3_001 });
      expect(over.status).to.equal(409);
      expect(over.json.error).to.equal('nothing_to_refund');
      expect((await operator(ts, 'POST', '/admin/api/disputes/not-an-id/decision', { decision: 'refund' })).status).to.equal(400);
      expect((await operator(ts, 'POST', '/admin/api/disputes/00000000-0000-4000-8000-000000000000/decision', { decision: 'refund' })).status).to.equal(404);
      expect((await operator(ts, 'GET', '/admin/api/disputes?status=weird')).status).to.equal(400);
      expect((await operator(ts, 'POST', path, 'decision=refund', { 'content-type': 'application/x-www-form-urlencoded' })).status).to.equal(415);
      const anonymous = await fetch(`${ts.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"decision":"refund"}' });
      expect(anonymous.status).to.equal(401);
      expect(await snapshot(card.accountId)).to.deep.equal(before);
    });

    it('decides from the CLI as the API does: list, refund, reject, and refusals with exit 1', async () => {
      const card = await holder();
      const one = await reported(card, 4_000);
      const two = await reported(card, 2_500);
      const list = await runCli('disputes', 'list');
      expect(list.code, list.stderr).to.equal(0);
      expect(list.stdout).to.include(`${one.dispute.id}  `).and.include(`${one.approval.approvalNo}  4,000 KRW  Film & "Friends"  not_received  open`);
      const refused = await runCli('disputes', 'reject', two.dispute.id);
      expect(refused.code).to.equal(1);
      expect(refused.stderr).to.include('--note: Say why, in words the holder is shown.');
      const refunded = await runCli('disputes', 'refund', one.dispute.id, '--amount', '1500');
      expect(refunded.code, refunded.stderr).to.equal(0);
      expect(refunded.stdout).to.include('refunded').and.include('(1,500 KRW refunded, 0 KRW released)');
      const rejected = await runCli('disputes', 'reject', two.dispute.id, '--note', 'Streamed in full.');
      expect(rejected.code, rejected.stderr).to.equal(0);
      const again = await runCli('disputes', 'refund', two.dispute.id);
      expect(again.code).to.equal(1);
      expect(again.stderr).to.match(/already decided \(rejected\)/);
      const rows = await ts.db('disputes').whereIn('id', [one.dispute.id, two.dispute.id]).orderBy('opened_at');
      expect(rows.map((r) => [r.status, Number(r.refunded_amount), r.decided_by])).to.deep.equal([
        ['refunded', 1_500, rows[0].decided_by],
        ['rejected', 0, rows[1].decided_by],
      ]);
      expect(rows[0].decided_by).to.match(/^cli:/);
      expect(await unbalancedEntries(ts)).to.equal(0);
    });
  });
  it("lets a guardian report a child's payment: both see it, both are told, and nobody else may", async () => {
    const guardian = await holder();
    const child = await holder();
    const stranger = await holder();
    await ts.db('accounts').where({ id: child.accountId }).update({ guardian_account_id: guardian.accountId });
    const a = await charged(child, 4_400);
    const mine = await charged(guardian, 1_000);
    const guardianAgent = await signedInHolder(ts.url, guardian);
    const wards = unescapeHtml(await (await guardianAgent.get('/card/wards')).text());
    expect(wards).to.include(`<a class="report" href="/card/disputes?approval=${a.approvalNo}">Report</a>`);

    // Another adult, and the child for the guardian's own payment: not found, as a number no card has.
    const strangerAgent = await signedInHolder(ts.url, stranger);
    const childAgent = await signedInHolder(ts.url, child);
    const before = await snapshot(child.accountId);
    expect((await postJson(strangerAgent, { approval_no: a.approvalNo, reason: 'not_mine' })).status).to.equal(404);
    expect((await postJson(childAgent, { approval_no: mine.approvalNo, reason: 'not_mine' })).status).to.equal(404);
    expect(await snapshot(child.accountId)).to.deep.equal(before);

    const res = await postJson(guardianAgent, { approval_no: a.approvalNo, reason: 'not_mine', details: 'My son says he did not buy this' });
    expect(res.status).to.equal(201);
    const { id } = (await res.json()) as { id: string };
    const row = await ts.db('disputes').where({ id }).first();
    expect([row.account_id, row.card_id]).to.deep.equal([child.accountId, guardian.cardId]);
    for (const agent of [guardianAgent, childAgent]) {
      const list = (await (await agent.request('/api/holder/disputes', { headers: { accept: 'application/json' } })).json()) as { disputes: Array<{ id: string }> };
      expect(list.disputes.map((d) => d.id)).to.deep.equal([id]);
    }
    expect((await (await strangerAgent.request('/api/holder/disputes', { headers: { accept: 'application/json' } })).json()).disputes).to.deep.equal([]);
    const told = async (template: string) =>
      (await ts.db('notifications_outbox').where({ template }).whereIn('account_id', [child.accountId, guardian.accountId]).distinct('account_id')).map((r) => r.account_id).sort();
    expect(await told('dispute_opened')).to.deep.equal([child.accountId, guardian.accountId].sort());
    expect(unescapeHtml(await (await childAgent.get('/card/activity')).text())).to.include('Your guardian reported a payment of 4,400 KRW at Film & "Friends".');
    expect(unescapeHtml(await (await childAgent.get('/card/account')).text())).to.include('<a class="reported" href="/card/disputes">Reported</a>');
    expect(unescapeHtml(await (await guardianAgent.get('/card/wards')).text())).to.include('<a class="reported" href="/card/disputes">Reported</a>');

    const decided = await operator(ts, 'POST', `/admin/api/disputes/${id}/decision`, { decision: 'refund' });
    expect(decided.status, decided.text).to.equal(200);
    expect(await told('dispute_decided')).to.deep.equal([child.accountId, guardian.accountId].sort());

    // Once the child comes of age and the link ends, the former guardian reports no more of the child's payments.
    const later = await charged(child, 2_000);
    await ts.db('accounts').where({ id: child.accountId }).update({ guardian_account_id: null });
    expect((await postJson(guardianAgent, { approval_no: later.approvalNo, reason: 'not_mine' })).status).to.equal(404);
  });

  describe('in a real browser', () => {
    const browser = useBrowser();
    let page: Page | undefined;
    screenshotOnFailure(() => page);
    beforeEach(async () => {
      page = await newPage(browser());
    });

    it('follows the account page’s Report link, refuses a missing reason with the form kept, and sends the report', async function () {
      this.timeout(60_000);
      const p = page!;
      const card = await holder();
      const a = await charged(card, 9_900);
      await p.goto(`${ts.url}/card/signin`);
      await p.getByLabel('Card number', { exact: true }).fill(card.number);
      await p.getByLabel('Card password', { exact: true }).fill(card.password);
      await p.getByRole('button', { name: 'Sign in' }).click();
      await p.getByRole('heading', { name: 'Your account' }).waitFor();
      await p.locator('#approvals').getByRole('link', { name: 'Report' }).click();
      await p.getByRole('heading', { name: 'Report a payment' }).first().waitFor();
      expect(await p.getByLabel('Approval number').inputValue()).to.equal(a.approvalNo);
      await p.getByLabel('Anything cybercard should know (optional)').fill('Charged twice for one film');
      await p.getByRole('button', { name: 'Send the report' }).click();
      expect(await p.getByRole('alert').first().textContent()).to.equal('Some fields need attention.');
      expect(await p.locator('#reason-error').textContent()).to.equal('Choose what is wrong with the payment.');
      expect(await p.getByLabel('Anything cybercard should know (optional)').inputValue()).to.equal('Charged twice for one film');
      await p.getByLabel('The amount is wrong').check();
      await p.getByRole('button', { name: 'Send the report' }).click();
      await p.locator('#notice').waitFor();
      expect(await p.locator('#reports tbody tr').count()).to.equal(1);
      expect(await p.locator('#reports tbody tr td').nth(4).textContent()).to.equal('Being looked into');
      const row = await ts.db('disputes').where({ account_id: card.accountId }).first();
      expect(row).to.deep.include({ reason: 'wrong_amount', details: 'Charged twice for one film', status: 'open' });
    });
  });
});
