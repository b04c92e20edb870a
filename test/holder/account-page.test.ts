import { expect } from 'chai';
import { registerTestSite, type TestSite } from '../helpers/fixtures.ts';
import { signedInHolder } from '../helpers/holder.ts';
import { unescapeHtml as unescaped, withoutCellLabels } from '../helpers/html.ts';
import { startCardManager, type TestServer } from '../helpers/server.ts';
import { capture } from '../../src/approvals/capture.ts';
import { inTransaction } from '../../src/db/tx.ts';
import { repay } from '../../src/ledger/repay.ts';
import { approveFor, cardWithLimit, ledgerOf } from '../ledger/fixtures.ts';

/** The page as read here: entities unescaped, the cells without the column names a phone shows beside them. */
const unescapeHtml = (html: string) => unescaped(withoutCellLabels(html));

/** What a holder reads on /card/account, as a browser gets it. */
describe("the holder's account page (/card/account)", () => {
  let ts: TestServer;
  let site: TestSite;

  before(async () => {
    ts = await startCardManager();
    site = await registerTestSite(ts, { name: 'Night Comics' } as never);
  });
  after(() => ts?.stop());

  it('dates a payment and its hold in billing.timeZone, named, not by the UTC date', async () => {
    const card = await cardWithLimit(ts, 100_000);
    const approval = await approveFor(ts, card, site, 1_500, 'Episode 9');
    // 00:30 in Seoul on 2026-03-02 is still 2026-03-01 in UTC; the hold ends at 00:30 Seoul time too.
    await ts.db('approvals').where({ approval_no: approval.approvalNo }).update({ created_at: new Date('2026-03-01T15:30:00Z'), hold_expires_at: new Date('2099-01-01T15:30:00Z') });
    const agent = await signedInHolder(ts.url, card);
    const html = unescapeHtml(await (await agent.get('/card/account')).text());
    const holds = /<table id="holds">[\s\S]*?<\/table>/.exec(html)?.[0] ?? '';
    expect(holds).to.include('<th>Until (Asia/Seoul)</th>').and.include('<td class="d">2099-01-02 00:30</td>');
    const approvals = /<table id="approvals">[\s\S]*?<\/table>/.exec(html)?.[0] ?? '';
    expect(approvals).to.include('<th>Date (Asia/Seoul)</th>');
    expect(approvals).to.include('<td class="d">2026-03-02</td>');
    expect(approvals).to.not.include('2026-03-01');

    const ko = unescapeHtml(await (await agent.request('/card/account', { headers: { 'accept-language': 'ko' } })).text());
    expect(ko).to.include('<th>날짜(한국 시간 기준)</th>');
  });

  it('lists the payments received, newest first, so a bank transfer shows before the next statement', async () => {
    const card = await cardWithLimit(ts, 100_000);
    const agent = await signedInHolder(ts.url, card);
    const none = unescapeHtml(await (await agent.get('/card/account')).text());
    expect(none).to.include('<h2>Payments received</h2>').and.include('No payment received yet.');
    await repay(ledgerOf(ts), { accountId: card.accountId, amount: 12_000, currency: 'KRW', source: 'operator', actor: 'test', receivedOn: '2026-11-02' });
    await repay(ledgerOf(ts), { accountId: card.accountId, amount: 3_500, currency: 'KRW', source: 'operator', actor: 'test', receivedOn: '2026-11-20' });
    const html = unescapeHtml(await (await agent.get('/card/account')).text());
    const table = /<table id="repayments">[\s\S]*?<\/table>/.exec(html)?.[0] ?? '';
    const rows = [...table.matchAll(/<tr><td class="d">([^<]*)<\/td><td class="n">([^<]*)<\/td><\/tr>/g)].map((m) => [m[1], m[2]]);
    expect(rows).to.deep.equal([
      ['2026-11-20', '3,500 KRW'],
      ['2026-11-02', '12,000 KRW'],
    ]);
    const ko = unescapeHtml(await (await agent.request('/card/account', { headers: { 'accept-language': 'ko' } })).text());
    expect(ko).to.include('<h2>받은 납부금</h2>');
  });

  it("names each payment's status in the holder's words, not the API's codes (approved, captured)", async () => {
    const card = await cardWithLimit(ts, 100_000);
    await approveFor(ts, card, site, 1_000, 'Held one');
    const charged = await approveFor(ts, card, site, 2_000, 'Charged one');
    await inTransaction(ts.db, (trx) => capture(trx, { approvalNo: charged.approvalNo, actor: 'test' }));
    const agent = await signedInHolder(ts.url, card);
    const statuses = (html: string) => {
      const table = /<table id="approvals">[\s\S]*?<\/table>/.exec(unescapeHtml(html))?.[0] ?? '';
      return [...table.matchAll(/<tr><td class="d">[^<]*<\/td>.*?<td>([^<]*)(?:<a class="report"[^>]*>[^<]*<\/a>)?<\/td><\/tr>/g)].map((m) => m[1]!.trim()).sort();
    };
    expect(statuses(await (await agent.get('/card/account')).text())).to.deep.equal(['Approved, held', 'Charged']);
    expect(statuses(await (await agent.request('/card/account', { headers: { 'accept-language': 'ko' } })).text())).to.deep.equal(['승인됨(보류 중)', '청구됨']);
  });
});
