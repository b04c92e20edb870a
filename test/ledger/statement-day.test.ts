import { expect } from 'chai';
import { capture } from '../../src/approvals/capture.ts';
import { releaseGrownWards } from '../../src/cards/release-grown-wards.ts';
import { inTransaction } from '../../src/db/tx.ts';
import { billingRun } from '../../src/ledger/billing-run.ts';
import { addDays, todayIn } from '../../src/ledger/calendar.ts';
import { repay } from '../../src/ledger/repay.ts';
import { csrfOf, type ForwardedAgent } from '../helpers/agent.ts';
import { birthdateForAge } from '../helpers/applicant.ts';
import { registerTestSite, type TestCard, type TestSite } from '../helpers/fixtures.ts';
import { signedInHolder } from '../helpers/holder.ts';
import { alertText, unescapeHtml } from '../helpers/html.ts';
import type { TestServer } from '../helpers/server.ts';
import { approveFor, cardWithLimit, ledgerOf, startLedgerServer } from './fixtures.ts';

interface StatementRow {
  id: number;
  statement_date: string;
  due_date: string;
  period_start: Date;
  period_end: Date;
  opening_balance: string;
  closing_balance: string;
}

/**
 * Choosing the statement day, billed with the real billing run over dates on both sides of the change. The card
 * manager's clock for the change is set back a few months (buildApp's `now`), so that the change's first statement
 * dates are past and a billing run may close them; each run closes at a cutoff of now, so the postings made between
 * two runs belong to the second run's statement.
 */
describe('choosing the statement day, billed across the change', () => {
  let ts: TestServer;
  let site: TestSite;
  /** The date the card manager believes it is, for a change of statement day. */
  let clock = new Date();

  before(async () => {
    ts = await startLedgerServer({}, { now: () => clock });
    site = await registerTestSite(ts, { name: 'Film Club' } as never);
  });
  after(() => ts.stop());

  const tz = () => ts.config.billing.timeZone;
  const dueDays = () => ts.config.billing.dueDays;

  /** Day `day` of the month `back` months before this one (in the billing time zone). */
  function monthsBack(back: number, day: number): string {
    const [y, m] = todayIn(tz()).split('-').map(Number) as [number, number];
    return new Date(Date.UTC(y, m - 1 - back, day)).toISOString().slice(0, 10);
  }

  /** Sets the card manager's clock to noon of `date` in the billing time zone (Asia/Seoul in test). */
  function setClock(date: string): void {
    clock = new Date(`${date}T12:00:00+09:00`);
    expect(todayIn(tz(), clock)).to.equal(date);
  }

  /** A captured charge: a posting on the account's receivable now. */
  async function charge(card: TestCard, amount: number, description: string): Promise<void> {
    const a = await approveFor(ts, card, site, amount, description);
    await inTransaction(ts.db, (trx) => capture(trx, { approvalNo: a.approvalNo, actor: 'test' }));
  }

  /**
   * Pays what the account owes (a repayment: a posting too). Each statement here is dated months back, so it is past
   * due at once, and an unpaid one would refuse the next charge.
   */
  async function payUp(card: TestCard): Promise<number> {
    const owed = Number((await ts.db('accounts').where({ id: card.accountId }).first()).posted_balance);
    if (owed > 0) await repay(ledgerOf(ts), { accountId: card.accountId, amount: owed, currency: 'KRW', source: 'operator', actor: 'test' });
    return owed;
  }

  /** A billing run for `date` closing at now; the account's statements after it, oldest first. */
  async function bill(card: TestCard, date: string): Promise<StatementRow[]> {
    await billingRun(ledgerOf(ts), { date, cutoff: new Date() });
    return statementsOf(card);
  }

  async function statementsOf(card: TestCard): Promise<StatementRow[]> {
    return (await ts.db('statements').where({ account_id: card.accountId }).orderBy('statement_date')) as StatementRow[];
  }

  async function lineKinds(s: StatementRow): Promise<Array<[string, number]>> {
    const lines = await ts.db('statement_lines').where({ statement_id: s.id }).orderBy('booked_at');
    return lines.map((l) => [l.kind as string, Number(l.amount)]);
  }

  /**
   * Every journal entry on the account's receivable is on exactly one of its statements, the statements follow on
   * from each other (each period starts where the one before ended, each opening balance is the closing before it)
   * and each falls due billing.dueDays after its date.
   */
  async function expectEveryPostingOnce(card: TestCard): Promise<void> {
    const counts = (await ts.db.raw(
      `SELECT e.id, (SELECT count(*) FROM statement_lines sl JOIN statements s ON s.id = sl.statement_id
                      WHERE sl.entry_id = e.id AND s.account_id = ?)::int AS n
       FROM journal_entries e JOIN postings p ON p.entry_id = e.id
       JOIN ledger_accounts la ON la.id = p.ledger_account_id AND la.kind = 'receivable' AND la.owner_id = ?`,
      [card.accountId, card.accountId],
    )) as { rows: Array<{ id: number; n: number }> };
    expect(counts.rows.length, 'postings on the receivable').to.be.at.least(1);
    expect(counts.rows.filter((r) => r.n !== 1), 'entries not on exactly one statement').to.deep.equal([]);
    const statements = await statementsOf(card);
    statements.forEach((s, i) => {
      expect(s.due_date).to.equal(addDays(s.statement_date, dueDays()));
      if (i === 0) return;
      const before = statements[i - 1]!;
      expect(new Date(s.period_start).getTime(), `period of ${s.statement_date}`).to.equal(new Date(before.period_end).getTime());
      expect(Number(s.opening_balance)).to.equal(Number(before.closing_balance));
    });
    const account = await ts.db('accounts').where({ id: card.accountId }).first();
    expect(Number(statements.at(-1)!.closing_balance)).to.equal(Number(account.posted_balance));
  }

  async function statementDayPage(agent: ForwardedAgent): Promise<string> {
    const res = await agent.get('/card/statement-day');
    expect(res.status).to.equal(200);
    return res.text();
  }

  it('the holder moves the day forward on the page: the running period closes early on the new day, then every month on it', async () => {
    const card = await cardWithLimit(ts, 100_000, { statement_day: 25 });
    await charge(card, 5_000, 'Before the change');
    const first = await bill(card, monthsBack(4, 25));
    expect(first.map((s) => s.statement_date)).to.deep.equal([monthsBack(4, 25)]);
    expect(await payUp(card)).to.equal(5_000);

    setClock(monthsBack(3, 5));
    const agent = await signedInHolder(ts.url, card);
    const page = await statementDayPage(agent);
    expect(unescapeHtml(page)).to.include('id="day">Day 25 of each month<').and.include(`${monthsBack(3, 25)}, payment due on ${addDays(monthsBack(3, 25), 14)}`);
    const res = await agent.post('/card/statement-day', { csrf: csrfOf(page, '/card/statement-day'), statement_day: '15' });
    expect(res.status).to.equal(200);
    const html = unescapeHtml(await res.text());
    expect(html).to.include(
      `Statements now close on day 15. Your current period closes early, on ${monthsBack(3, 15)}, with payment due on ${addDays(monthsBack(3, 15), 14)}; ` +
        'every statement after it closes on day 15 too.',
    );
    // Day 25 holds until the new day's first statement date, and both pages say so.
    expect(html).to.include('id="day">Day 25 of each month<');
    expect(html).to.include(`id="next">${monthsBack(3, 15)}, payment due on ${addDays(monthsBack(3, 15), 14)}<`);
    expect(html).to.include(`Changing to day 15: statements close on it from the statement of ${monthsBack(3, 15)} on.`);
    const account = unescapeHtml(await (await agent.get('/card/account')).text());
    expect(account).to.include(`id="statement-day">Day 25 of each month (day 15 from the statement of ${monthsBack(3, 15)} on) <a href="/card/statement-day">More about the statement day</a>`);

    await charge(card, 7_000, 'After the change');
    // Nothing closes before the new day: not on the day of the change, nor the day before the new one.
    expect(await bill(card, monthsBack(3, 5))).to.have.length(1);
    expect(await bill(card, monthsBack(3, 14))).to.have.length(1);
    const second = await bill(card, monthsBack(3, 15));
    expect(second.map((s) => s.statement_date)).to.deep.equal([monthsBack(4, 25), monthsBack(3, 15)]);
    expect(await lineKinds(second[1]!)).to.deep.equal([
      ['repayment', 5_000],
      ['charge', 7_000],
    ]);
    expect(await payUp(card)).to.equal(7_000);
    await charge(card, 1_500, 'Next month');
    // The old day closes nothing any more, and the next statement is a month on, on the new day.
    expect(await bill(card, monthsBack(3, 25))).to.have.length(2);
    expect(await bill(card, monthsBack(2, 14))).to.have.length(2);
    const third = await bill(card, monthsBack(2, 15));
    expect(third.map((s) => s.statement_date)).to.deep.equal([monthsBack(4, 25), monthsBack(3, 15), monthsBack(2, 15)]);
    expect(await lineKinds(third[2]!)).to.deep.equal([
      ['repayment', 7_000],
      ['charge', 1_500],
    ]);
    await expectEveryPostingOnce(card);
  });

  it('moved to a day already past this month (JSON API): the period running closes on the old day, then a shorter one runs to the new day', async () => {
    const card = await cardWithLimit(ts, 100_000, { statement_day: 25 });
    await charge(card, 4_000, 'Before the change');
    await bill(card, monthsBack(4, 25));
    expect(await payUp(card)).to.equal(4_000);

    setClock(monthsBack(3, 20));
    const agent = await signedInHolder(ts.url, card);
    const res = await agent.request('/api/holder/statement-day', {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ statement_day: 10 }),
    });
    expect(res.status, await res.clone().text()).to.equal(200);
    expect(await res.json()).to.deep.equal({
      statement_day: 10,
      previous_statement_day: 25,
      current_period_closes: monthsBack(3, 25),
      current_period_due: addDays(monthsBack(3, 25), 14),
      first_statement_date: monthsBack(2, 10),
    });
    const schedule = await (await agent.request('/api/holder/statement-day', { headers: { accept: 'application/json' } })).json();
    expect(schedule).to.deep.equal({
      statement_day: 10,
      follows_guardian: false,
      next_statement_date: monthsBack(3, 25),
      next_due_date: addDays(monthsBack(3, 25), 14),
      due_days: 14,
      change: { previous_statement_day: 25, first_statement_date: monthsBack(2, 10) },
    });

    await charge(card, 6_000, 'Still on the old day');
    expect(await bill(card, monthsBack(3, 24))).to.have.length(1);
    const onOldDay = await bill(card, monthsBack(3, 25));
    expect(onOldDay.at(-1)!.statement_date).to.equal(monthsBack(3, 25));
    expect(await lineKinds(onOldDay.at(-1)!)).to.deep.equal([
      ['repayment', 4_000],
      ['charge', 6_000],
    ]);
    await payUp(card);
    await charge(card, 900, 'In the short period');
    expect(await bill(card, monthsBack(2, 9))).to.have.length(2);
    const short = await bill(card, monthsBack(2, 10));
    expect(short.at(-1)!.statement_date).to.equal(monthsBack(2, 10));
    expect(await lineKinds(short.at(-1)!)).to.deep.equal([
      ['repayment', 6_000],
      ['charge', 900],
    ]);
    await payUp(card);
    await charge(card, 300, 'A month on the new day');
    expect(await bill(card, monthsBack(2, 25))).to.have.length(3);
    const last = await bill(card, monthsBack(1, 10));
    expect(last.map((s) => s.statement_date)).to.deep.equal([monthsBack(4, 25), monthsBack(3, 25), monthsBack(2, 10), monthsBack(1, 10)]);
    await expectEveryPostingOnce(card);
  });

  it('takes one change at a time: a second waits for the first statement date on the new day, then closes a period of its own', async () => {
    const card = await cardWithLimit(ts, 100_000, { statement_day: 25 });
    setClock(monthsBack(3, 5));
    const agent = await signedInHolder(ts.url, card);
    const put = (day: unknown) =>
      agent.request('/api/holder/statement-day', { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ statement_day: day }) });
    // A tab opened before the change still holds the form.
    const staleTab = await statementDayPage(agent);
    expect((await put(15)).status).to.equal(200);
    const schedule = async () => ts.db('accounts').where({ id: card.accountId }).select('statement_day', 'previous_statement_day', 'statement_day_from').first();
    const changed = await schedule();

    const again = await put(20);
    expect(again.status).to.equal(409);
    const message = `The statement day was changed to 15 already, from the statement of ${monthsBack(3, 15)} on. It can change again from that date.`;
    expect(await again.json()).to.deep.equal({ error: 'statement_day_change_pending', error_description: message });
    // On the page: no form while the change waits (it would only be refused), the day it can change again said.
    setClock(monthsBack(3, 14));
    const page = unescapeHtml(await statementDayPage(agent));
    expect(page).to.include(`Changing to day 15: statements close on it from the statement of ${monthsBack(3, 15)} on. The statement day can change again from that date.`);
    expect(page).to.not.include('<select').and.not.include('action="/card/statement-day"');
    expect(page).to.include('<a href="/card/account">Back to your account</a>');
    // Posted from the stale tab: the refusal, nothing changed.
    const refused = await agent.post('/card/statement-day', { csrf: csrfOf(staleTab, '/card/statement-day'), statement_day: '20' });
    expect(refused.status).to.equal(409);
    const html = await refused.text();
    expect(alertText(html)).to.equal(message);
    expect(html).to.not.include('<select');
    expect(await schedule()).to.deep.equal(changed);
    expect(await ts.db('audit_log').where({ subject_id: card.accountId, action: 'account.statement_day_changed' })).to.have.length(1);

    // From the first statement date on the new day, another change is taken: the period it closes is five days long.
    setClock(monthsBack(3, 15));
    const second = await put(20);
    expect(second.status).to.equal(200);
    expect(await second.json()).to.deep.include({ previous_statement_day: 15, current_period_closes: monthsBack(3, 20), first_statement_date: monthsBack(3, 20) });
    await charge(card, 2_000, 'Before the first new day');
    expect((await bill(card, monthsBack(3, 15))).map((s) => s.statement_date)).to.deep.equal([monthsBack(3, 15)]);
    await payUp(card);
    await charge(card, 3_000, 'Between the two');
    expect((await bill(card, monthsBack(3, 20))).map((s) => s.statement_date)).to.deep.equal([monthsBack(3, 15), monthsBack(3, 20)]);
    await expectEveryPostingOnce(card);
  });

  it("bills a ward on the guardian's day: the guardian's change moves both, audited and told to each; the ward's own is refused", async () => {
    const guardian = await cardWithLimit(ts, 100_000, { statement_day: 25, email: 'guardian@example.test' });
    // The ward's own column says 3: a linked account is billed on its guardian's schedule instead.
    const ward = await cardWithLimit(ts, 20_000, {
      statement_day: 3,
      guardian_account_id: guardian.accountId,
      email: 'ward@example.test',
      birthdate: birthdateForAge(16),
    });
    setClock(monthsBack(3, 5));

    const wardAgent = await signedInHolder(ts.url, ward);
    const wardPage = unescapeHtml(await statementDayPage(wardAgent));
    expect(wardPage).to.include('id="day">Day 25 of each month<');
    expect(wardPage).to.include("Your card is linked to your guardian's, so its statements close on your guardian's statement day, which your guardian chooses.");
    expect(wardPage).to.not.include('<select');
    const own = await wardAgent.request('/api/holder/statement-day', {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ statement_day: 10 }),
    });
    expect(own.status).to.equal(403);
    expect(((await own.json()) as { error: string }).error).to.equal('follows_guardian');

    const agent = await signedInHolder(ts.url, guardian);
    const page = await statementDayPage(agent);
    expect(unescapeHtml(page)).to.include("The children's cards linked to yours close on your statement day too.");
    expect((await agent.post('/card/statement-day', { csrf: csrfOf(page, '/card/statement-day'), statement_day: '15' })).status).to.equal(200);

    const audit = await ts.db('audit_log').whereIn('subject_id', [guardian.accountId, ward.accountId]).where({ action: 'account.statement_day_changed' });
    expect(audit.map((a) => [a.subject_id, a.actor, a.details.by, a.details.from, a.details.to, a.details.firstStatementDate])).to.have.deep.members([
      [guardian.accountId, `card:${guardian.cardId}`, 'holder', 25, 15, monthsBack(3, 15)],
      [ward.accountId, `card:${guardian.cardId}`, 'guardian', 25, 15, monthsBack(3, 15)],
    ]);
    const told = await ts.db('notifications_outbox').whereIn('account_id', [guardian.accountId, ward.accountId]).where({ template: 'statement_day_changed' });
    expect(told.map((m) => [m.recipient, m.data.by, m.data.day, m.data.closes])).to.have.deep.members([
      ['guardian@example.test', 'holder', 15, monthsBack(3, 15)],
      ['ward@example.test', 'guardian', 15, monthsBack(3, 15)],
    ]);
    const wardActivity = (await (await wardAgent.request('/api/holder/activity', { headers: { accept: 'application/json' } })).json()) as {
      entries: Array<{ kind: string; text: string }>;
    };
    expect(wardActivity.entries.find((e) => e.kind === 'statement_day_changed_by_guardian')?.text).to.equal(
      `Your guardian changed the statement day from day 25 to day 15, from the statement of ${monthsBack(3, 15)} on.`,
    );

    // The ward reads the change coming, but nothing it could do about it: no 'can change again', no 'Change' link.
    const wardPending = unescapeHtml(await statementDayPage(wardAgent));
    expect(wardPending).to.include(`<p id="pending">Changing to day 15: statements close on it from the statement of ${monthsBack(3, 15)} on.</p>`);
    const wardAccount = unescapeHtml(await (await wardAgent.get('/card/account')).text());
    expect(wardAccount).to.include(`id="statement-day">Day 25 of each month (day 15 from the statement of ${monthsBack(3, 15)} on) <a href="/card/statement-day">More about the statement day</a>`);
    const guardianAccount = unescapeHtml(await (await agent.get('/card/account')).text());
    expect(guardianAccount).to.include('<a href="/card/statement-day">More about the statement day</a>');

    await charge(ward, 2_000, "The ward's comic");
    await charge(guardian, 3_000, "The guardian's film");
    expect((await bill(ward, monthsBack(3, 15))).map((s) => s.statement_date)).to.deep.equal([monthsBack(3, 15)]);
    expect((await statementsOf(guardian)).map((s) => s.statement_date)).to.deep.equal([monthsBack(3, 15)]);
    await expectEveryPostingOnce(ward);
    expect((await ts.db('accounts').where({ id: ward.accountId }).first()).statement_day).to.equal(3);

    // Come of age, the ward takes the guardian's schedule as its own: its statements close when they would have.
    await ts.db('accounts').where({ id: ward.accountId }).update({ birthdate: birthdateForAge(ts.config.cards.adultAge) });
    expect(await releaseGrownWards(ts.db, { adultAge: ts.config.cards.adultAge, timeZone: ts.config.billing.timeZone })).to.be.at.least(1);
    const released = await ts.db('accounts').where({ id: ward.accountId }).first();
    expect([released.guardian_account_id, released.statement_day, released.previous_statement_day, released.statement_day_from]).to.deep.equal([
      null,
      15,
      25,
      monthsBack(3, 15),
    ]);
  });

  it('refuses a change while a statement is overdue, saying which and how much, and takes it once that is paid', async () => {
    clock = new Date();
    // A statement dated some 30 days back, due 14 days after it and 5 days' grace: overdue today.
    const back = addDays(todayIn(tz()), -30);
    const day = Math.min(Number(back.slice(8)), 28);
    const card = await cardWithLimit(ts, 100_000, { statement_day: day });
    const agent = await signedInHolder(ts.url, card);
    // A tab opened before the statement fell overdue still holds the form.
    const page = await statementDayPage(agent);
    await charge(card, 8_000, 'Unpaid');
    const [overdue] = await bill(card, `${back.slice(0, 8)}${String(day).padStart(2, '0')}`);
    const other = (day % 28) + 1;
    // The page says why there is no form, and where the statement is, instead of a form every choice of is refused.
    const owing = unescapeHtml(await statementDayPage(agent));
    expect(owing).to.include(
      `<p id="overdue">Payment overdue: the statement of ${overdue!.statement_date} was due on ${overdue!.due_date} and 8,000 KRW is still unpaid. ` +
        'The statement day can change once it is paid.</p>',
    );
    expect(owing).to.include('<a href="/card/account">See the statement and how to pay it</a>');
    expect(owing).to.not.include('<select');
    const refused = await agent.post('/card/statement-day', { csrf: csrfOf(page, '/card/statement-day'), statement_day: String(other) });
    expect(refused.status).to.equal(409);
    const html = await refused.text();
    expect(alertText(html)).to.equal(
      `Payment overdue: the statement of ${overdue!.statement_date} was due on ${overdue!.due_date} and 8,000 KRW is still unpaid. ` +
        'The statement day can change once it is paid.',
    );
    const row = await ts.db('accounts').where({ id: card.accountId }).first();
    expect([row.statement_day, row.previous_statement_day, row.statement_day_from]).to.deep.equal([day, null, null]);

    await repay(ledgerOf(ts), { accountId: card.accountId, amount: 8_000, currency: 'KRW', source: 'operator', actor: 'test' });
    expect(await statementDayPage(agent)).to.include('<select').and.not.include('id="overdue"');
    const taken = await agent.post('/card/statement-day', { csrf: csrfOf(page, '/card/statement-day'), statement_day: String(other) });
    expect(taken.status).to.equal(200);
    expect((await ts.db('accounts').where({ id: card.accountId }).first()).statement_day).to.equal(other);
  });
});
