import { expect } from 'chai';
import { capture } from '../../src/approvals/capture.ts';
import { expireHolds } from '../../src/approvals/expire.ts';
import { checkLedger } from '../../src/ledger/check-ledger.ts';
import { birthdateForAge } from '../helpers/applicant.ts';
import { signedInHolder } from '../helpers/holder.ts';
import { registerTestSite, type TestSite } from '../helpers/fixtures.ts';
import type { TestServer } from '../helpers/server.ts';
import { approveFor, cardWithLimit, startLedgerServer, unbalancedEntries } from './fixtures.ts';

/**
 * A hold past its hold_expires_at is no longer active: capture refuses it and the member-site API reads it as expired.
 * Its credit must be the holder's again at once, not only once the expiry sweep (payments.expireIntervalSeconds, off
 * in the test config) comes round.
 */
describe('credit held by an expired hold', () => {
  let ts: TestServer;
  let site: TestSite;

  before(async () => {
    ts = await startLedgerServer();
    site = await registerTestSite(ts);
  });
  after(() => ts.stop());

  const account = async (id: string) => ts.db('accounts').where({ id }).first();

  it('is available to the next approval before the sweep runs: the expired hold is released in its transaction', async () => {
    const card = await cardWithLimit(ts, 10_000);
    const old = await approveFor(ts, card, site, 8_000, 'Old hold');
    await ts.db('approvals').where({ id: old.id }).update({ hold_expires_at: ts.db.raw("now() - interval '1 second'") });

    const next = await approveFor(ts, card, site, 5_000, 'New item');
    expect(next.status).to.equal('approved');

    const released = await ts.db('approvals').where({ id: old.id }).first();
    expect(released.status).to.equal('expired');
    expect(Number(released.released_amount)).to.equal(8_000);
    expect(Number((await account(card.accountId)).held_amount)).to.equal(5_000);
    const kinds = (await ts.db('journal_entries').where({ approval_id: old.id }).orderBy('id')).map((e) => e.kind);
    expect(kinds).to.deep.equal(['hold', 'release']);
    const audit = await ts.db('audit_log').where({ subject_id: old.id, action: 'approval.expired' });
    expect(audit).to.have.length(1);
    // The sweep finds nothing left to release; the books add up.
    expect(await expireHolds({ db: ts.db })).to.equal(0);
    expect(await unbalancedEntries(ts)).to.equal(0);
    expect((await checkLedger(ts.db)).findings).to.deep.equal([]);
  });

  it('keeps a hold still running counted, and a partly captured expired hold reads captured', async () => {
    const card = await cardWithLimit(ts, 10_000);
    const running = await approveFor(ts, card, site, 4_000, 'Running');
    const partly = await approveFor(ts, card, site, 5_000, 'Partly');
    await ts.db.transaction((trx) => capture(trx, { actor: 'test', approvalNo: partly.approvalNo, amount: 2_000 }));
    await ts.db('approvals').where({ id: partly.id }).update({ hold_expires_at: ts.db.raw("now() - interval '1 second'") });
    // Limit 10,000 − posted 2,000 − running 4,000 = 4,000 once the 3,000 left of `partly` is released: 4,001 is refused.
    const before = await account(card.accountId);
    const refused = await approveFor(ts, card, site, 4_001).then(
      () => undefined,
      (err: unknown) => err as { refusal?: string; message: string },
    );
    expect(refused?.refusal, 'refused over the limit').to.equal('over_limit');
    expect(refused!.message).to.match(/available credit of 4,000 KRW/);
    // Refused in a transaction of its own: nothing of it stays, the expired hold included (the sweep's to release).
    expect(await account(card.accountId)).to.deep.equal(before);

    const ok = await approveFor(ts, card, site, 4_000);
    expect(ok.status).to.equal('approved');
    const p = await ts.db('approvals').where({ id: partly.id }).first();
    expect(p.status).to.equal('captured');
    expect(Number(p.released_amount)).to.equal(3_000);
    expect((await ts.db('approvals').where({ id: running.id }).first()).status).to.equal('approved');
    expect(Number((await account(card.accountId)).held_amount)).to.equal(8_000);
    expect((await checkLedger(ts.db)).findings).to.deep.equal([]);
  });
  it("shows the holder an expired hold's credit as available, and the hold no longer open, before the sweep", async () => {
    const card = await cardWithLimit(ts, 10_000);
    const running = await approveFor(ts, card, site, 1_000, 'Running');
    const lapsed = await approveFor(ts, card, site, 6_000, 'Lapsed');
    await ts.db('approvals').where({ id: lapsed.id }).update({ hold_expires_at: ts.db.raw("now() - interval '1 second'") });
    const agent = await signedInHolder(ts.url, card);
    const body = (await (await agent.get('/api/holder/account')).json()) as Record<string, any>;
    expect(body).to.include({ held: 1_000, available_credit: 9_000 });
    expect(body.open_holds.map((h: { approval_no: string }) => h.approval_no)).to.deep.equal([running.approvalNo]);
    const recent = body.recent_approvals.find((a: { approval_no: string }) => a.approval_no === lapsed.approvalNo);
    expect(recent).to.include({ status: 'expired', held_amount: 0, hold_expires_at: null });
    // Reading changed nothing: the sweep still releases it.
    expect((await ts.db('approvals').where({ id: lapsed.id }).first()).status).to.equal('approved');
  });
  it("shows a guardian a ward's expired hold as the ward's credit again, before the sweep", async () => {
    const guardian = await cardWithLimit(ts, 100_000);
    const ward = await cardWithLimit(ts, 10_000, { guardian_account_id: guardian.accountId, birthdate: birthdateForAge(15) });
    await approveFor(ts, ward, site, 1_000, 'Running');
    const lapsed = await approveFor(ts, ward, site, 6_000, 'Lapsed');
    await ts.db('approvals').where({ id: lapsed.id }).update({ hold_expires_at: ts.db.raw("now() - interval '1 second'") });
    const agent = await signedInHolder(ts.url, guardian);
    const [view] = (await (await agent.get('/api/holder/wards')).json()) as Array<Record<string, any>>;
    expect(view).to.include({ account_id: ward.accountId, held: 1_000, available_credit: 9_000 });
    const shown = view!.recent_approvals.find((a: { approval_no: string }) => a.approval_no === lapsed.approvalNo);
    expect(shown).to.include({ status: 'expired', held_amount: 0, hold_expires_at: null });
  });
});
