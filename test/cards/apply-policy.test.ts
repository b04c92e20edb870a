import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { capture } from '../../src/approvals/capture.ts';
import { closeCard } from '../../src/cards/close.ts';
import { findIssuedDuplicates, findPersonMatches } from '../../src/db/applications.ts';
import { inTransaction } from '../../src/db/tx.ts';
import { repay } from '../../src/ledger/repay.ts';
import { Agent, csrfFrom } from '../helpers/agent.ts';
import { APPLY_SERVER, application, birthdateForAge, issueByApplication, postApplication, uniqueEmail, uniqueMobile, type ApplicationBody } from '../helpers/applicant.ts';
import { registerTestSite, type TestCard, type TestSite } from '../helpers/fixtures.ts';
import { alertText, inputValue, unescapeHtml } from '../helpers/html.ts';
import { signedInOperator } from '../helpers/operator.ts';
import { startCardManager, type TestServer } from '../helpers/server.ts';
import { approveFor, ledgerOf } from '../ledger/fixtures.ts';

const OWED =
  'An account with this email address or mobile number still owes money. Please settle what is owed first: ' +
  "a former holder can sign in with the closed card's number and password to see what is owed and how to pay it.";

/** The application rows of one email address, newest first. */
function applicationsOf(ts: TestServer, email: unknown) {
  return ts.db('applications').whereRaw('lower(email) = lower(?)', [String(email)]).orderBy('created_at', 'desc');
}

describe('application policy', () => {
  let ts: TestServer;
  let site: TestSite;

  before(async () => {
    ts = await startCardManager(APPLY_SERVER);
    site = await registerTestSite(ts);
  });
  after(() => ts?.stop());

  /** A holder issued through the API, as a TestCard, with the application that made it. */
  async function holder(over: ApplicationBody = {}): Promise<{ card: TestCard; app: ApplicationBody }> {
    const app = application(over);
    const issued = await issueByApplication(ts, app);
    return { card: { accountId: issued.accountId, cardId: issued.cardId, number: issued.cardNumber, password: issued.password }, app };
  }

  /** A holder whose card was closed while 5,000 KRW of payments were still posted to the account, unpaid. */
  async function closedOwing(over: ApplicationBody = {}) {
    const h = await holder(over);
    const charged = await approveFor(ts, h.card, site, 5_000, 'Issue #1');
    await inTransaction(ts.db, (trx) => capture(trx, { approvalNo: charged.approvalNo, amount: 5_000, actor: 'test' }));
    await closeCard(ts.db, { cardId: h.card.cardId, actor: 'test', reason: 'holder left' });
    return h;
  }

  describe('a former holder who still owes', () => {
    it('is refused a new card on the same email or mobile (409 balance_owed), told to settle first, naming nothing of the account', async () => {
      const { app, card } = await closedOwing();
      for (const again of [
        application({ email: app.email }),
        application({ mobile: app.mobile }),
        application({ email: String(app.email).toUpperCase() }),
      ]) {
        const { status, body } = await postApplication(ts, again);
        expect(status, JSON.stringify(body)).to.equal(409);
        expect(body).to.include({ error: 'balance_owed', error_description: OWED });
        expect(body).to.not.have.property('fields');
        // The refusal is kept, as every refusal is; no account or card was opened.
        const [kept] = await applicationsOf(ts, again.email);
        expect(kept).to.include({ status: 'rejected', reason: 'balance_owed', account_id: null });
      }
      const text = JSON.stringify(await applicationsOf(ts, app.email));
      expect(text).to.not.include(card.number.slice(-4));
    });

    it('is refused while a hold is still open, and while the account is flagged overdue', async () => {
      const held = await holder();
      await approveFor(ts, held.card, site, 3_000, 'Pending');
      await closeCard(ts.db, { cardId: held.card.cardId, actor: 'test', reason: 'holder left' });
      const heldAgain = await postApplication(ts, application({ email: held.app.email }));
      expect(heldAgain.status, JSON.stringify(heldAgain.body)).to.equal(409);
      expect(heldAgain.body.error).to.equal('balance_owed');

      // The flag the delinquency sweep sets on an account whose statement is past due.
      const flagged = await holder();
      await closeCard(ts.db, { cardId: flagged.card.cardId, actor: 'test', reason: 'holder left' });
      await ts.db('accounts').where({ id: flagged.card.accountId }).update({ delinquent_since: new Date() });
      const flaggedAgain = await postApplication(ts, application({ mobile: flagged.app.mobile }));
      expect(flaggedAgain.status, JSON.stringify(flaggedAgain.body)).to.equal(409);
      expect(flaggedAgain.body.error).to.equal('balance_owed');
    });

    it('is not held to a hold past its expiry that the sweep has not released yet (payments.expireIntervalSeconds is off here)', async () => {
      const lapsed = await holder({ legal_name: 'Lapse Heldlong', birthdate: '1979-03-14' });
      const hold = await approveFor(ts, lapsed.card, site, 3_000, 'Lapsed');
      await closeCard(ts.db, { cardId: lapsed.card.cardId, actor: 'test', reason: 'holder left' });
      await ts.db('approvals').where({ id: hold.id }).update({ hold_expires_at: ts.db.raw("now() - interval '1 second'") });
      // Read only: the refusal of the still-running hold (above) is the check that this is the hold's expiry at work.
      const byContacts = await postApplication(ts, application({ email: lapsed.app.email }));
      expect(byContacts.status, JSON.stringify(byContacts.body)).to.equal(201);
      const byPerson = await postApplication(ts, application({ legal_name: 'Lapse Heldlong', birthdate: '1979-03-14' }));
      expect(byPerson.status, JSON.stringify(byPerson.body)).to.equal(201);
      // The operator's look again (an approval from review) reads it the same way.
      const again = await findIssuedDuplicates(ts.db, { accountId: randomUUID(), email: lapsed.app.email as string, mobile: lapsed.app.mobile as string });
      expect(again.owedOnContacts).to.equal(false);
      const person = await findPersonMatches(ts.db, { accountId: null, legalName: 'Lapse Heldlong', birthdate: '1979-03-14', adult: true });
      expect(person.owedByPerson).to.equal(false);
      // Nothing was written by reading: the hold is the sweep's still, and the account still shows it held.
      expect((await ts.db('approvals').where({ id: hold.id }).first()).status).to.equal('approved');
      expect(Number((await ts.db('accounts').where({ id: lapsed.card.accountId }).first()).held_amount)).to.equal(3_000);
    });

    it('still counts a partly lapsed account by what its running holds hold', async () => {
      const both = await holder();
      const running = await approveFor(ts, both.card, site, 1_000, 'Running');
      const lapsedHold = await approveFor(ts, both.card, site, 4_000, 'Lapsed');
      await closeCard(ts.db, { cardId: both.card.cardId, actor: 'test', reason: 'holder left' });
      await ts.db('approvals').where({ id: lapsedHold.id }).update({ hold_expires_at: ts.db.raw("now() - interval '1 second'") });
      const refused = await postApplication(ts, application({ mobile: both.app.mobile }));
      expect(refused.status, JSON.stringify(refused.body)).to.equal(409);
      expect(refused.body.error).to.equal('balance_owed');
      expect((await ts.db('approvals').where({ id: running.id }).first()).status).to.equal('approved');
    });

    it('gets a new card on the same contacts once everything is paid', async () => {
      const { app, card } = await closedOwing();
      expect((await postApplication(ts, application({ email: app.email }))).status).to.equal(409);
      await repay(ledgerOf(ts), { accountId: card.accountId, amount: 5_000, currency: 'KRW', source: 'operator', actor: 'test' });
      const { status, body } = await postApplication(ts, application({ email: app.email }));
      expect(status, JSON.stringify(body)).to.equal(201);
    });

    it('lets a closed account that owes nothing free its contacts, as before', async () => {
      const { app, card } = await holder();
      await closeCard(ts.db, { cardId: card.cardId, actor: 'test', reason: 'holder left' });
      expect((await postApplication(ts, application({ email: app.email, mobile: app.mobile }))).status).to.equal(201);
    });

    it('with new contacts but the same name and date of birth goes to the review queue (202), the reason shown only to the operator', async () => {
      const { app, card } = await closedOwing({ legal_name: 'Baek Owesmore', birthdate: '1984-02-29' });
      const again = application({ legal_name: 'BAEK  owesmore', birthdate: '1984-02-29' });
      const { status, body } = await postApplication(ts, again);
      expect(status, JSON.stringify(body)).to.equal(202);
      expect(body).to.include({ status: 'review', card_status: 'pending' });
      // The applicant learns nothing of another person's account: no reason in the answer.
      expect(body).to.not.have.property('review_reason');
      const [queued] = await applicationsOf(ts, again.email);
      expect(queued).to.include({ status: 'review', reason: 'person_owes' });
      const listed = await fetch(`${ts.url}/admin/api/applications?status=review`, {
        headers: { authorization: `Bearer ${ts.config.secrets.operatorToken}` },
      });
      const { applications } = (await listed.json()) as { applications: Array<Record<string, unknown>> };
      expect(applications.find((a) => a.id === body.application_id)).to.include({ reason: 'person_owes' });
      expect(JSON.stringify(body)).to.not.include(card.accountId);
    });

    it('shows the refusal on the /apply page as its alert, with the form refilled', async () => {
      const { app } = await closedOwing();
      const agent = new Agent(ts.url);
      const ip = '10.250.0.1';
      const csrf = csrfFrom(await (await agent.request('/apply', { headers: { 'x-forwarded-for': ip } })).text());
      const again = application({ email: app.email });
      const form: Record<string, string> = { csrf };
      for (const [k, v] of Object.entries(again)) form[k] = k === 'accept_terms' ? 'yes' : String(v);
      const res = await agent.request('/apply', {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': ip },
        body: new URLSearchParams(form).toString(),
      });
      const html = await res.text();
      expect(res.status).to.equal(409);
      expect(alertText(html)).to.equal(OWED);
      expect(inputValue(html, 'email')).to.equal(app.email);
      expect(inputValue(html, 'legal_name')).to.equal(again.legal_name);
    });
  });

  describe('the same adult with other contacts', () => {
    it('goes to the review queue (202, pending card) when a holder with an open card has the name and date of birth, the reason shown only to the operator', async () => {
      const { card } = await holder({ legal_name: 'Jos\u00e9 Twiceton', birthdate: '1979-11-03' });
      // Another letter case, the accent decomposed (NFD), more spaces: the same name.
      const again = application({ legal_name: 'JOSE\u0301   twiceton', birthdate: '1979-11-03' });
      const { status, body } = await postApplication(ts, again);
      expect(status, JSON.stringify(body)).to.equal(202);
      expect(body).to.include({ status: 'review', card_status: 'pending' });
      expect(body).to.not.have.property('review_reason');
      expect(JSON.stringify(body)).to.not.include(card.number.slice(-4)).and.not.include(card.accountId);
      const one = await fetch(`${ts.url}/admin/api/applications/${String(body.application_id)}`, {
        headers: { authorization: `Bearer ${ts.config.secrets.operatorToken}` },
      });
      expect(await one.json()).to.include({ status: 'review', reason: 'duplicate_person' });

      // The console's queue says what the code means, so the operator knows what to look up.
      const operator = await signedInOperator(ts.url, ts.config.secrets.operatorToken!);
      const html = unescapeHtml(await (await operator.get('/admin/applications')).text());
      const section = html.slice(html.indexOf(`id="application-${String(body.application_id)}"`));
      expect(section).to.include(
        '<code>duplicate_person</code>: a holder of an open card has this name and date of birth: the same person with new contacts, or two people?',
      );
    });

    it('is issued at once with another date of birth, or when the holder of that name and date of birth closed the card owing nothing', async () => {
      const { card } = await holder({ legal_name: 'Kwon Twiceton', birthdate: '1979-11-04' });
      expect((await postApplication(ts, application({ legal_name: 'Kwon Twiceton', birthdate: '1979-11-05' }))).status).to.equal(201);
      await closeCard(ts.db, { cardId: card.cardId, actor: 'test', reason: 'holder left' });
      expect((await postApplication(ts, application({ legal_name: 'Kwon Twiceton', birthdate: '1979-11-04' }))).status).to.equal(201);
    });

    it('counts a holder still in the review queue (a pending card) as holding one', async () => {
      const first = await postApplication(ts, application({ legal_name: 'Ryu Twiceton', birthdate: '1979-11-06' }));
      expect(first.status).to.equal(201);
      const second = await postApplication(ts, application({ legal_name: 'Ryu Twiceton', birthdate: '1979-11-06' }));
      expect(second.status).to.equal(202);
      const third = await postApplication(ts, application({ legal_name: 'Ryu Twiceton', birthdate: '1979-11-06' }));
      expect(third.status).to.equal(202);
    });
  });

  describe('the lookups', () => {
    it('find accounts by index (email, mobile, name and date of birth), in the one statement of the first look', async () => {
      const seen: Array<{ sql: string; bindings: unknown[] }> = [];
      const listen = (q: { sql: string; bindings: unknown[] }) => seen.push(q);
      ts.db.on('query', listen);
      try {
        expect((await postApplication(ts, application())).status).to.equal(201);
      } finally {
        ts.db.off('query', listen);
      }
      const looks = seen.filter((q) => q.sql.includes('owed_by_person'));
      // The first, unlocked look and the exact one under the locks: no round trip of their own.
      expect(looks).to.have.length(2);
      const plan = await ts.db.transaction(async (trx) => {
        // The test tables are small enough that a sequential scan would win: ask what the indexes do.
        await trx.raw('SET LOCAL enable_seqscan = off');
        const r = (await trx.raw(`EXPLAIN ${looks[0]!.sql.replace(/\$\d+/g, '?')}`, looks[0]!.bindings as never)) as { rows: Array<Record<string, string>> };
        return r.rows.map((x) => x['QUERY PLAN']).join('\n');
      });
      expect(plan).to.match(/accounts_person_index/);
      expect(plan).to.match(/accounts_email_lower_idx/);
      expect(plan).to.match(/accounts_mobile_idx/);
      expect(plan).to.not.match(/Seq Scan on accounts/);
    });
  });

  describe('with cards.duplicates review', () => {
    let reviewing: TestServer;
    before(async () => {
      reviewing = await startCardManager({ ...APPLY_SERVER, cards: { ...APPLY_SERVER.cards, duplicates: 'review' } });
    });
    after(() => reviewing?.stop());

    it('sends a former holder who still owes to the review queue (202 balance_owed), as it does a duplicate', async () => {
      const app = application({ email: uniqueEmail(), mobile: uniqueMobile() });
      const issued = await issueByApplication(reviewing, app);
      await reviewing.db('accounts').where({ id: issued.accountId }).update({ delinquent_since: new Date() });
      await closeCard(reviewing.db, { cardId: issued.cardId, actor: 'test', reason: 'holder left' });
      const { status, body } = await postApplication(reviewing, application({ email: app.email }));
      expect(status, JSON.stringify(body)).to.equal(202);
      expect(body).to.include({ review_reason: 'balance_owed' });
    });
  });
});

describe('children per guardian (cards.maxWardsPerGuardian)', () => {
  let ts: TestServer;

  before(async () => {
    ts = await startCardManager({ ...APPLY_SERVER, cards: { ...APPLY_SERVER.cards, maxWardsPerGuardian: 2 } });
  });
  after(() => ts?.stop());

  const TOO_MANY = "This guardian's card already vouches for 2 cyber cards, the most one guardian may. A child's card that is closed no longer counts.";

  async function guardian() {
    const app = application({ birthdate: '1972-06-06' });
    const g = await issueByApplication(ts, app);
    return { ...g, mobile: String(app.mobile), vouch: { guardian_card_number: g.cardNumber, guardian_password: g.password } };
  }

  const child = (vouch: ApplicationBody) => application({ birthdate: birthdateForAge(15), ...vouch });

  /** The guardian's children holding an open card (pending or active here). */
  async function openWards(guardianAccountId: string): Promise<number> {
    const r = await ts.db('accounts as a')
      .join('cards as c', 'c.account_id', 'a.id')
      .where('a.guardian_account_id', guardianAccountId)
      .whereIn('c.status', ['pending', 'active', 'suspended'])
      .countDistinct({ n: 'a.id' })
      .first();
    return Number(r?.n ?? 0);
  }

  it('refuses a child over the limit (403 too_many_wards, beside the guardian card number), keeping only the refusal; a closed child frees a place', async () => {
    const g = await guardian();
    const first = await postApplication(ts, child(g.vouch));
    expect(first.status, JSON.stringify(first.body)).to.equal(201);
    expect((await postApplication(ts, child(g.vouch))).status).to.equal(201);
    const before = await ts.db('accounts').count({ n: '*' }).first();
    const third = child(g.vouch);
    const { status, body } = await postApplication(ts, third);
    expect(status, JSON.stringify(body)).to.equal(403);
    expect(body).to.include({ error: 'too_many_wards', error_description: TOO_MANY });
    expect(body.field_codes).to.deep.equal({ guardian_card_number: 'too_many_wards' });
    expect((await ts.db('accounts').count({ n: '*' }).first())?.n).to.equal(before?.n);
    expect(await ts.db('applications').where({ email: third.email }).first()).to.include({ status: 'rejected', reason: 'too_many_wards' });

    await closeCard(ts.db, { cardId: String(first.body.card_id), actor: 'test', reason: 'child left' });
    expect((await postApplication(ts, child(g.vouch))).status).to.equal(201);
    expect(await openWards(g.accountId)).to.equal(2);
  });

  it('counts a child still in the review queue, and leaves adults (no guardian) alone', async () => {
    const g = await guardian();
    // Both of the guardian's contacts: a person looks at it first (guardian_contacts); its pending card counts.
    const shared = await postApplication(ts, child({ ...g.vouch, email: g.email, mobile: g.mobile }));
    expect(shared.status, JSON.stringify(shared.body)).to.equal(202);
    expect((await postApplication(ts, child(g.vouch))).status).to.be.oneOf([201, 202]);
    expect((await postApplication(ts, child(g.vouch))).body.error).to.equal('too_many_wards');
    expect((await postApplication(ts, application())).status).to.equal(201);
  });

  it('never lets applications at once go over the limit: counted under the guardian account\'s row lock', async () => {
    const g = await guardian();
    const answers = await Promise.all(Array.from({ length: 6 }, () => postApplication(ts, child(g.vouch))));
    const statuses = answers.map((a) => a.status).sort();
    expect(statuses, JSON.stringify(answers.map((a) => a.body.error ?? a.status))).to.deep.equal([201, 201, 403, 403, 403, 403]);
    expect(answers.filter((a) => a.status === 403).every((a) => a.body.error === 'too_many_wards')).to.equal(true);
    expect(await openWards(g.accountId)).to.equal(2);
  });
});
