import { userInfo } from 'node:os';
import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import { APPLY_SERVER, birthdateForAge, issueByApplication } from '../helpers/applicant.ts';
import { runCli } from '../helpers/cli.ts';
import { issueTestCard } from '../helpers/fixtures.ts';
import { startCardManager, type TestServer } from '../helpers/server.ts';
import { billingToday, nextDateOnDay, operator, plusDays, STATEMENT_DAY_RANGE } from './fixtures.ts';

/** The operator sets a holder's statement day: PUT /admin/api/ledger/cards/:cardId/statement-day and `ledger statement-day`. */
describe("the operator's change of a statement day", () => {
  let ts: TestServer;

  before(async () => {
    ts = await startCardManager(APPLY_SERVER);
  });
  after(() => ts.stop());

  const today = () => billingToday(ts);
  const schedule = (accountId: string) =>
    ts.db('accounts').where({ id: accountId }).select('statement_day', 'previous_statement_day', 'statement_day_from').first();
  const audit = (accountId: string) => ts.db('audit_log').where({ subject_id: accountId, action: 'account.statement_day_changed' }).orderBy('id');
  const path = (cardId: string) => `/admin/api/ledger/cards/${cardId}/statement-day`;

  it('sets the day with a reason: the answer says when the period running closes, audited as the operator, the holder told', async () => {
    const h = await issueByApplication(ts);
    const res = await operator(ts, 'PUT', path(h.cardId), { statement_day: 12, reason: 'Holder asked by phone: salary on the 10th' });
    expect(res.status, res.text).to.equal(200);
    const first = nextDateOnDay(12, today());
    const next = nextDateOnDay(1, today());
    const closes = first < next ? first : next;
    expect(res.json).to.deep.equal({
      account_id: h.accountId,
      statement_day: 12,
      previous_statement_day: 1,
      current_period_closes: closes,
      current_period_due: plusDays(closes, 14),
      first_statement_date: first,
    });
    expect(await schedule(h.accountId)).to.deep.equal({ statement_day: 12, previous_statement_day: 1, statement_day_from: first });
    const [entry] = await audit(h.accountId);
    expect(entry.actor).to.equal('operator');
    expect(entry.details).to.deep.include({ from: 1, to: 12, by: 'operator', reason: 'Holder asked by phone: salary on the 10th' });
    const told = await ts.db('notifications_outbox').where({ account_id: h.accountId, template: 'statement_day_changed' });
    expect(told.map((m) => m.data.by)).to.deep.equal(['operator', 'operator']);
    // The operator's account view shows it too.
    const view = await operator(ts, 'GET', `/admin/api/ledger/cards/${h.cardId}`);
    expect(view.json).to.deep.include({ statement_day: 12, statement_day_from: first, previous_statement_day: 1 });
  });

  it('refuses bad input with 4xx and nothing changed: 0, 29, "x", 7.5, missing day or reason, an extra field, no token, an unknown or malformed card', async () => {
    const h = await issueByApplication(ts);
    const before = await schedule(h.accountId);
    for (const bad of [0, 29, 'x', '7', 7.5, null]) {
      const res = await operator(ts, 'PUT', path(h.cardId), { statement_day: bad, reason: 'test' });
      expect(res.status, String(bad)).to.equal(400);
      expect(res.json).to.deep.equal({ error: 'invalid_request', error_description: 'Some fields need attention.', fields: { statement_day: STATEMENT_DAY_RANGE } });
    }
    const noDay = await operator(ts, 'PUT', path(h.cardId), { reason: 'test' });
    expect([noDay.status, (noDay.json.fields as Record<string, string>).statement_day]).to.deep.equal([400, STATEMENT_DAY_RANGE]);
    const noReason = await operator(ts, 'PUT', path(h.cardId), { statement_day: 7 });
    expect(noReason.status).to.equal(400);
    expect(Object.keys(noReason.json.fields as object)).to.deep.equal(['reason']);
    const blank = await operator(ts, 'PUT', path(h.cardId), { statement_day: 7, reason: '  ' });
    expect((blank.json.fields as Record<string, string>).reason).to.equal('Say why (it goes into the audit trail).');
    const extra = await operator(ts, 'PUT', path(h.cardId), { statement_day: 7, reason: 'test', account_id: h.accountId });
    expect(extra.status).to.equal(400);
    expect(extra.json.fields).to.deep.equal({ account_id: 'Unknown field.' });
    const tokenless = await fetch(`${ts.url}${path(h.cardId)}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ statement_day: 7, reason: 'test' }),
    });
    expect(tokenless.status).to.equal(401);
    const unknown = await operator(ts, 'PUT', path(randomUUID()), { statement_day: 7, reason: 'test' });
    expect([unknown.status, unknown.json.error_description, unknown.json.fields]).to.deep.equal([404, 'There is no such card.', { card_id: 'There is no such card.' }]);
    const malformed = await operator(ts, 'PUT', path('not-a-card'), { statement_day: 7, reason: 'test' });
    expect(malformed.status).to.equal(400);
    expect(await schedule(h.accountId)).to.deep.equal(before);
    expect(await audit(h.accountId)).to.have.length(0);
  });

  it("refuses a minor's account (billed on the guardian's day, 403) and a second change before the first has taken effect (409)", async () => {
    const guardian = await issueTestCard(ts, '1980-02-02', 'Guardian');
    const ward = await issueTestCard(ts, birthdateForAge(16), 'Ward');
    await ts.db('accounts').where({ id: ward.accountId }).update({ guardian_account_id: guardian.accountId });
    const refused = await operator(ts, 'PUT', path(ward.cardId), { statement_day: 7, reason: 'test' });
    expect(refused.status).to.equal(403);
    expect(refused.json).to.deep.equal({
      error: 'follows_guardian',
      error_description: "This account is a minor's, linked to a guardian: it is billed on the guardian's statement day. Change the guardian's instead.",
    });
    expect(await audit(ward.accountId)).to.have.length(0);

    // The guardian's change is taken, and audited on the ward's account as well.
    expect((await operator(ts, 'PUT', path(guardian.cardId), { statement_day: 7, reason: 'test' })).status).to.equal(200);
    expect((await audit(ward.accountId)).map((e) => [e.details.by, e.details.to, e.details.guardianAccountId])).to.deep.equal([['guardian', 7, guardian.accountId]]);
    const again = await operator(ts, 'PUT', path(guardian.cardId), { statement_day: 8, reason: 'test' });
    expect(again.status).to.equal(409);
    expect(again.json.error).to.equal('statement_day_change_pending');
    expect(again.json.error_description).to.equal(
      `The statement day was changed to 7 already, from the statement of ${nextDateOnDay(7, today())} on. It can change again from that date.`,
    );
    expect((await schedule(guardian.accountId)).statement_day).to.equal(7);
  });

  it('`ledger statement-day` sets it from the shell, audited as cli:<login name>, and refuses a bad day, a missing reason and an unknown card', async () => {
    const h = await issueByApplication(ts);
    const done = await runCli('ledger', 'statement-day', '--card', h.cardNumber, '--day', '25', '--reason', 'Asked at the counter');
    expect(done.code, done.stderr).to.equal(0);
    expect(done.stdout).to.include(`statement day of account ${h.accountId}: day 1 → day 25; the current period closes on`);
    expect(await schedule(h.accountId)).to.deep.include({ statement_day: 25, previous_statement_day: 1 });
    const [entry] = await audit(h.accountId);
    expect(entry.actor).to.equal(`cli:${userInfo().username}`);
    expect(entry.details).to.deep.include({ to: 25, by: 'operator', reason: 'Asked at the counter' });

    const other = await issueByApplication(ts);
    const bad = await runCli('ledger', 'statement-day', '--card', other.cardId, '--day', '29', '--reason', 'test');
    expect(bad.code).to.equal(1);
    expect(bad.stderr).to.include(`--day: ${STATEMENT_DAY_RANGE}`);
    const noReason = await runCli('ledger', 'statement-day', '--card', other.cardId, '--day', 'x');
    expect(noReason.code).to.equal(1);
    expect(noReason.stderr).to.include('--reason: Say why (it goes into the audit trail).');
    const unknown = await runCli('ledger', 'statement-day', '--card', randomUUID(), '--day', '5', '--reason', 'test');
    expect([unknown.code, unknown.stderr.trim()]).to.deep.equal([1, 'error: There is no such card. (--card)']);
    expect(await schedule(other.accountId)).to.deep.equal({ statement_day: 1, previous_statement_day: null, statement_day_from: null });

    const usage = await runCli();
    expect(usage.code).to.equal(2);
    expect(usage.stderr).to.include('ledger statement-day --card ID|NUMBER --day 1-28 --reason TEXT');
  });
});
