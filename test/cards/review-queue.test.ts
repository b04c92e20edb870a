import { userInfo } from 'node:os';
import { expect } from 'chai';
import { applicationCommands } from '../../src/admin/applications-cli.ts';
import { refusalLines } from '../../src/admin/cli-options.ts';
import { applicationLocks } from '../../src/cards/application-locks.ts';
import { createCard } from '../../src/cards/create-card.ts';
import { verifyCredentials } from '../../src/cards/verify-credentials.ts';
import { lockValues } from '../../src/db/advisory-lock.ts';
import { listAudit } from '../../src/db/audit-log.ts';
import { AppError, InvalidCredentialsError } from '../../src/errors.ts';
import { Agent, csrfFrom } from '../helpers/agent.ts';
import {
  APPLY_SERVER,
  application,
  applicationRowCounts,
  birthdateForAge,
  e164,
  GOOD_PASSWORD,
  issueByApplication,
  latestMessage,
  postApplication,
  templatesFor,
  uniqueEmail,
  uniqueIp,
  uniqueMobile,
  uniqueName,
} from '../helpers/applicant.ts';
import { issueTestCard } from '../helpers/fixtures.ts';
import { alertText } from '../helpers/html.ts';
import { postConsoleForm, signedInOperator } from '../helpers/operator.ts';
import { runCli } from '../helpers/cli.ts';
import { startCardManager, type TestServer } from '../helpers/server.ts';

const cli = runCli;

async function loginRefused(ts: TestServer, number: string, password: string): Promise<boolean> {
  try {
    await verifyCredentials(ts.cm.cards, number, password);
    return false;
  } catch (err) {
    if (err instanceof InvalidCredentialsError) return true;
    throw err;
  }
}

describe('the review queue', () => {
  let ts: TestServer;
  let operator: Record<string, string>;

  before(async () => {
    ts = await startCardManager({
      ...APPLY_SERVER,
      cards: {
        ...APPLY_SERVER.cards,
        duplicates: 'review',
        denyList: { action: 'review', names: ['* reviewson'], emails: [], mobiles: [] },
      },
    });
    operator = { authorization: `Bearer ${ts.config.secrets.operatorToken}` };
  });
  after(() => ts?.stop());

  /** An application the deny list sends to review: 202, a pending card, the number shown once. */
  async function queued(name = 'Alex Reviewson') {
    const app = application({ legal_name: name });
    const { status, body } = await postApplication(ts, app);
    expect(status, JSON.stringify(body)).to.equal(202);
    const card = await ts.db('cards').where({ id: body.card_id }).first();
    return { app, body, id: String(body.application_id), number: String(body.card_number), accountId: String(card.account_id) };
  }

  function admin(pathname: string, init: RequestInit = {}) {
    return fetch(`${ts.url}/admin/api/applications${pathname}`, { ...init, headers: { ...operator, ...(init.headers ?? {}) } });
  }

  function decideByApi(id: string, decision: 'approve' | 'reject', body?: Record<string, unknown>) {
    return admin(`/${id}/${decision}`, {
      method: 'POST',
      ...(body ? { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) } : {}),
    });
  }

  it('queues an application that needs a person: 202 with the number, a pending card that cannot log in, and a "received" message', async () => {
    const q = await queued();
    expect(q.body).to.include({ status: 'review', review_reason: 'denied', card_status: 'pending' });
    expect(q.number).to.match(/^\d{16}$/);
    expect(await loginRefused(ts, q.number, GOOD_PASSWORD)).to.equal(true);
    expect(await templatesFor(ts, q.accountId)).to.deep.equal(['application_received', 'application_received']);
    const row = await ts.db('applications').where({ id: q.id }).first();
    expect(row).to.include({ status: 'review', reason: 'denied', decided_at: null });
  });

  it('sends a duplicate email to review instead of refusing it, when configured so', async () => {
    const first = await postApplication(ts, application());
    expect(first.status).to.equal(201);
    const card = await ts.db('cards').where({ id: first.body.card_id }).first();
    const account = await ts.db('accounts').where({ id: card.account_id }).first();
    const { status, body } = await postApplication(ts, application({ email: account.email }));
    expect(status).to.equal(202);
    expect(body.review_reason).to.equal('duplicate_email');
  });

  it('sends the same child twice under one guardian to review (duplicate_ward), when configured so', async () => {
    const guardian = await issueTestCard(ts, '1979-09-09', 'Moon Guardian');
    const child = { legal_name: 'Moon Nari', birthdate: birthdateForAge(15), guardian_card_number: guardian.number, guardian_password: guardian.password };
    expect((await postApplication(ts, application(child))).status).to.equal(201);
    const { status, body } = await postApplication(ts, application(child));
    expect(status, JSON.stringify(body)).to.equal(202);
    expect(body.review_reason).to.equal('duplicate_ward');
  });

  describe('operator API /admin/api/applications', () => {
    it('refuses a request without the operator token (401) or with a wrong one', async () => {
      const none = await fetch(`${ts.url}/admin/api/applications`);
      expect(none.status).to.equal(401);
      expect(none.headers.get('www-authenticate')).to.match(/^Bearer /);
      const wrong = await fetch(`${ts.url}/admin/api/applications`, { headers: { authorization: 'Bearer nope' } });
      expect(wrong.status).to.equal(401);
    });

    it('lists the queue oldest first, and shows one application', async () => {
      const a = await queued('Dana Reviewson');
      const b = await queued('Eli Reviewson');
      const res = await admin('');
      expect(res.status).to.equal(200);
      const { applications } = (await res.json()) as { applications: Array<Record<string, unknown>> };
      const ids = applications.map((x) => x.id);
      expect(ids).to.include.members([a.id, b.id]);
      expect(ids.indexOf(a.id)).to.be.lessThan(ids.indexOf(b.id));
      for (const x of applications) expect(x.status).to.equal('review');
      expect(JSON.stringify(applications)).to.not.include(a.number);

      const one = (await (await admin(`/${a.id}`)).json()) as Record<string, unknown>;
      expect(one).to.include({ id: a.id, status: 'review', reason: 'denied', legal_name: 'Dana Reviewson', email: a.app.email });
      expect((await admin('?status=maybe')).status).to.equal(400);
      expect((await admin('/not-a-uuid')).status).to.equal(400);
      expect((await admin('/00000000-0000-4000-8000-000000000000')).status).to.equal(404);
    });

    it('approves: the card becomes active and logs in, the applicant is told; the same again changes nothing, the other decision is refused', async () => {
      const q = await queued();
      const res = await decideByApi(q.id, 'approve', { reason: 'identity checked by phone' });
      const body = (await res.json()) as Record<string, unknown>;
      expect(res.status, JSON.stringify(body)).to.equal(200);
      expect(body).to.include({ status: 'approved', decided_by: 'operator', decision_note: 'identity checked by phone' });
      expect((await verifyCredentials(ts.cm.cards, q.number, GOOD_PASSWORD)).status).to.equal('active');
      expect(await templatesFor(ts, q.accountId)).to.deep.equal([
        'application_received',
        'application_received',
        'application_approved',
        'application_approved',
      ]);
      expect(await latestMessage(ts, q.accountId, 'application_approved')).to.include({ applicationId: q.id, last4: q.number.slice(-4) });
      expect(body.changed).to.equal(true);
      const audit = await ts.db('audit_log').count({ n: '*' }).first();
      const twice = await decideByApi(q.id, 'approve', { reason: 'a retry' });
      expect(twice.status).to.equal(200);
      expect(await twice.json()).to.include({ status: 'approved', decision_note: 'identity checked by phone', changed: false });
      const again = await decideByApi(q.id, 'reject', { reason: 'changed my mind' });
      expect(again.status).to.equal(409);
      expect(((await again.json()) as { error_description: string }).error_description).to.equal('This application was already approved.');
      expect((await templatesFor(ts, q.accountId)).filter((t) => t === 'application_approved')).to.have.length(2);
      expect(await ts.db('audit_log').count({ n: '*' }).first()).to.deep.equal(audit);
    });

    it('approves without a body at all', async () => {
      const q = await queued();
      const res = await decideByApi(q.id, 'approve');
      expect(res.status).to.equal(200);
    });

    it('rejects only with a reason: the card is closed, never logs in, and the applicant is told why', async () => {
      const q = await queued();
      const missing = await decideByApi(q.id, 'reject', {});
      expect(missing.status).to.equal(400);
      const missingBody = (await missing.json()) as Record<string, unknown>;
      expect(missingBody.fields).to.have.property('reason');
      const control = await decideByApi(q.id, 'reject', { reason: 'bad\u0000reason' });
      expect(control.status).to.equal(400);

      const res = await decideByApi(q.id, 'reject', { reason: 'We could not confirm your identity.' });
      const body = (await res.json()) as Record<string, unknown>;
      expect(res.status).to.equal(200);
      expect(body).to.include({ status: 'rejected', decided_by: 'operator', decision_note: 'We could not confirm your identity.' });
      const card = await ts.db('cards').where({ id: q.body.card_id }).first();
      expect(card.status).to.equal('closed');
      expect(await loginRefused(ts, q.number, GOOD_PASSWORD)).to.equal(true);
      expect(await latestMessage(ts, q.accountId, 'application_rejected')).to.include({ reason: 'We could not confirm your identity.' });
      const audit = await listAudit(ts.db, 'card', String(q.body.card_id));
      const closed = audit.find((e) => e.action === 'card.status_changed' && e.details?.to === 'closed');
      expect(closed!.actor).to.equal('operator');
      expect(closed!.details).to.include({ from: 'pending', reason: 'application rejected: We could not confirm your identity.' });
    });

    it('still rejects an application whose pending card the operator closed directly, and tells the holder of the close', async () => {
      const q = await queued();
      const close = await fetch(`${ts.url}/admin/api/cards/${q.body.card_id}/close`, {
        method: 'POST',
        headers: { authorization: `Bearer ${ts.config.secrets.operatorToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ reason: 'closed from the card page' }),
      });
      expect(close.status).to.equal(200);
      expect(await latestMessage(ts, q.accountId, 'card_closed')).to.not.equal(undefined);
      expect((await decideByApi(q.id, 'approve', {})).status, 'a closed card cannot be approved').to.equal(409);
      const rejected = await decideByApi(q.id, 'reject', { reason: 'Closed by the operator.' });
      expect(rejected.status).to.equal(200);
      expect(((await rejected.json()) as { status: string }).status).to.equal('rejected');
    });
  });

  describe('approving checks again what may have changed while the application waited', () => {
    /** The operator API's action on a card: block, unblock, close, lost, reissue. */
    async function cardAction(cardId: string, action: string) {
      const res = await fetch(`${ts.url}/admin/api/cards/${cardId}/${action}`, {
        method: 'POST',
        headers: { ...operator, 'content-type': 'application/json' },
        body: JSON.stringify({ reason: `test: ${action}` }),
      });
      expect(res.status, `${action}: ${await res.clone().text()}`).to.be.oneOf([200, 201]);
      return (await res.json()) as Record<string, unknown>;
    }

    /** A guardian with an email and mobile, and a minor giving both: in review for guardian_contacts. */
    async function minorInReview(server = ts) {
      const guardian = await issueTestCard(server, '1976-06-06', 'Lim Guardian');
      const email = uniqueEmail('guardian');
      const mobile = uniqueMobile();
      await server.db('accounts').where({ id: guardian.accountId }).update({ email, mobile: e164(mobile) });
      const { status, body } = await postApplication(
        server,
        application({ legal_name: 'Lim Child', birthdate: birthdateForAge(15), email, mobile, guardian_card_number: guardian.number, guardian_password: guardian.password }),
      );
      expect(status, JSON.stringify(body)).to.equal(202);
      expect(body.review_reason).to.equal('guardian_contacts');
      return { guardian, id: String(body.application_id), cardId: String(body.card_id) };
    }

    /** Everything a decision writes, to see that a refused one wrote nothing. */
    async function snapshot(server: TestServer, id: string) {
      const app = await server.db('applications').where({ id }).first();
      const card = await server.db('cards').where({ id: app.card_id }).first();
      return { counts: await applicationRowCounts(server), app, card: card.status };
    }

    /**
     * Another holder comes to have these contacts while the application waits (say another application, accepted as a
     * duplicate by an operator): a card issued, its contacts then written straight in the database.
     */
    async function issuedByHand(server: TestServer, contacts: { email?: string; mobile?: string }) {
      const card = await createCard(server.cm.cards, { legalName: 'Other Holder', birthdate: '1985-02-02' }, 'test');
      await server.db('accounts').where({ id: card.accountId }).update({ email: contacts.email ?? null, mobile: contacts.mobile ?? null });
      return card;
    }

    async function refusedApproval(server: TestServer, id: string, code: string, body?: Record<string, unknown>) {
      const before = await snapshot(server, id);
      const res = await fetch(`${server.url}/admin/api/applications/${id}/approve`, {
        method: 'POST',
        headers: { authorization: `Bearer ${server.config.secrets.operatorToken}`, ...(body ? { 'content-type': 'application/json' } : {}) },
        ...(body ? { body: JSON.stringify(body) } : {}),
      });
      const answer = (await res.json()) as { error: string; error_description: string };
      expect(res.status, JSON.stringify(answer)).to.equal(409);
      expect(answer.error).to.equal(code);
      expect(await snapshot(server, id), 'a refused approval changes nothing').to.deep.equal(before);
      expect(before.app.status).to.equal('review');
      expect(before.card).to.equal('pending');
      return answer.error_description;
    }

    it("refuses to approve a minor whose guardian's card was closed since (409 guardian_inactive); the operator can still reject", async () => {
      const m = await minorInReview();
      await cardAction(m.guardian.cardId, 'close');
      const message = await refusedApproval(ts, m.id, 'guardian_inactive');
      expect(message).to.match(/^The guardian no longer holds an active card/);
      const rejected = await decideByApi(m.id, 'reject', { reason: 'Your guardian’s card is closed.' });
      expect(rejected.status).to.equal(200);
    });

    it("refuses while the guardian's card is blocked or lost, and approves once the guardian holds an active card again", async () => {
      const blocked = await minorInReview();
      await cardAction(blocked.guardian.cardId, 'block');
      await refusedApproval(ts, blocked.id, 'guardian_inactive');
      await cardAction(blocked.guardian.cardId, 'unblock');
      expect((await decideByApi(blocked.id, 'approve')).status).to.equal(200);

      const lost = await minorInReview();
      await cardAction(lost.guardian.cardId, 'lost');
      await refusedApproval(ts, lost.id, 'guardian_inactive');
      await cardAction(lost.guardian.cardId, 'reissue');
      const approved = await decideByApi(lost.id, 'approve');
      expect(approved.status, 'the reissued card vouches as the lost one did').to.equal(200);
      expect((await ts.db('cards').where({ id: lost.cardId }).first()).status).to.equal('active');
    });

    it('refuses a duplicate the operator was never shown (409 duplicate_email), and approves it once accepted, recording that in the audit', async () => {
      const q = await queued('Ivy Reviewson');
      await issuedByHand(ts, { email: String(q.app.email) });
      const message = await refusedApproval(ts, q.id, 'duplicate_email');
      expect(message).to.include("Another holder's active card has this application's email address.");
      expect(message).to.include('accept_duplicate');
      expect((await decideByApi(q.id, 'approve', { accept_duplicate: 'yes' })).status, 'a flag that is not a boolean').to.equal(400);
      const res = await decideByApi(q.id, 'approve', { accept_duplicate: true, reason: 'same family, checked by phone' });
      expect(res.status).to.equal(200);
      const audit = await listAudit(ts.db, 'application', q.id);
      expect(audit.find((e) => e.action === 'application.approved')!.details).to.deep.include({ duplicates: ['duplicate_email'], reviewReason: 'denied' });
    });

    /** A former holder with these contacts whose closed account still owes (5,000 posted, unpaid). */
    async function closedOwingByHand(server: TestServer, contacts: { email?: string; mobile?: string }) {
      const card = await issuedByHand(server, contacts);
      await server.db('accounts').where({ id: card.accountId }).update({ posted_balance: 5_000 });
      await server.db('cards').where({ id: card.cardId }).update({ status: 'closed' });
      return card;
    }

    it('refuses an approval when an account with the contacts came to owe while it waited (409 balance_owed), until accepted', async () => {
      const q = await queued('Owen Reviewson');
      await closedOwingByHand(ts, { email: String(q.app.email) });
      const message = await refusedApproval(ts, q.id, 'balance_owed');
      expect(message).to.include("An account with this application's email address or mobile number still owes money (it may be closed).");
      const res = await decideByApi(q.id, 'approve', { accept_duplicate: true, reason: 'the debt is a relative’s, checked' });
      expect(res.status).to.equal(200);
      const audit = await listAudit(ts.db, 'application', q.id);
      expect(audit.find((e) => e.action === 'application.approved')!.details).to.deep.include({ duplicates: ['balance_owed'] });
    });

    it('approves past the debt the application was sent to review for (balance_owed)', async () => {
      const owing = await closedOwingByHand(ts, { mobile: e164(uniqueMobile()) });
      const mobile = (await ts.db('accounts').where({ id: owing.accountId }).first()).mobile as string;
      const { status, body } = await postApplication(ts, application({ mobile }));
      expect(status, JSON.stringify(body)).to.equal(202);
      expect(body.review_reason).to.equal('balance_owed');
      expect((await decideByApi(String(body.application_id), 'approve')).status, 'the operator saw that debt').to.equal(200);
    });

    it('approves past the duplicate the application was sent to review for, but not past another one that appeared since', async () => {
      const holder = await issueByApplication(ts);
      const seen = await postApplication(ts, application({ email: holder.email }));
      expect(seen.body.review_reason).to.equal('duplicate_email');
      expect((await decideByApi(String(seen.body.application_id), 'approve')).status, 'the operator saw that duplicate').to.equal(200);

      const again = application({ email: holder.email });
      const second = await postApplication(ts, again);
      expect(second.body.review_reason).to.equal('duplicate_email');
      await issuedByHand(ts, { mobile: e164(String(again.mobile)) });
      const message = await refusedApproval(ts, String(second.body.application_id), 'duplicate_mobile');
      expect(message).to.include("Another holder's active card has this application's mobile number.");
      expect(message, 'the email was before the operator already').to.not.include('email address');
    });

    it('lets the first of two applications in review with one email be approved, and refuses the second', async () => {
      const email = uniqueEmail('twice');
      const first = await postApplication(ts, application({ legal_name: 'Jo Reviewson', email }));
      const second = await postApplication(ts, application({ legal_name: 'Jo Reviewson', email }));
      // The deny list's reason goes first: the operator is not told of the duplicate when the second arrives.
      expect([first.body.review_reason, second.body.review_reason]).to.deep.equal(['denied', 'denied']);
      expect((await decideByApi(String(first.body.application_id), 'approve')).status, 'a pending duplicate does not block').to.equal(200);
      await refusedApproval(ts, String(second.body.application_id), 'duplicate_email');
    });

    it("refuses the guardian's same child twice once the first card is active (409 duplicate_ward)", async () => {
      const guardian = await issueTestCard(ts, '1977-07-07', 'Kang Guardian');
      const child = application({ legal_name: 'Kang Reviewson', birthdate: birthdateForAge(16), guardian_card_number: guardian.number, guardian_password: guardian.password });
      const first = await postApplication(ts, child);
      const second = await postApplication(ts, { ...child, email: uniqueEmail(), mobile: uniqueMobile() });
      expect([first.body.review_reason, second.body.review_reason]).to.deep.equal(['denied', 'denied']);
      expect((await decideByApi(String(first.body.application_id), 'approve')).status).to.equal(200);
      const message = await refusedApproval(ts, String(second.body.application_id), 'duplicate_ward');
      expect(message).to.include('The guardian already has a child with this name and date of birth');
    });

    it("holds cards.maxWardsPerGuardian at approval, lowered while the children waited (409 too_many_wards); a closed child's card frees a place", async () => {
      const guardian = await issueTestCard(ts, '1978-08-08', 'Seo Guardian');
      const ids: string[] = [];
      for (const name of ['Seo Ahn Reviewson', 'Seo Bo Reviewson', 'Seo Cho Reviewson']) {
        const child = application({ legal_name: name, birthdate: birthdateForAge(15), guardian_card_number: guardian.number, guardian_password: guardian.password });
        const { status, body } = await postApplication(ts, child);
        expect(status, JSON.stringify(body)).to.equal(202);
        ids.push(String(body.application_id));
      }
      // The operator lowers the limit to 2 (another instance, on the same database) while all three wait.
      const tight = await startCardManager({
        ...APPLY_SERVER,
        cards: { ...APPLY_SERVER.cards, duplicates: 'review', maxWardsPerGuardian: 2, denyList: { action: 'review', names: ['* reviewson'], emails: [], mobiles: [] } },
      });
      try {
        const approve = (id: string) =>
          fetch(`${tight.url}/admin/api/applications/${id}/approve`, { method: 'POST', headers: { authorization: `Bearer ${tight.config.secrets.operatorToken}` } });
        expect((await approve(ids[0]!)).status).to.equal(200);
        expect((await approve(ids[1]!)).status).to.equal(200);
        const message = await refusedApproval(tight, ids[2]!, 'too_many_wards', { accept_duplicate: true });
        expect(message).to.include("The guardian's card already vouches for 2 children's cards, the most one guardian may (cards.maxWardsPerGuardian).");
        const first = await tight.db('applications').where({ id: ids[0] }).first();
        expect((await tight.db('cards').where({ id: first.card_id }).first()).status).to.equal('active');
        await cardAction(String(first.card_id), 'close');
        expect((await approve(ids[2]!)).status, "the closed child's place").to.equal(200);
      } finally {
        await tight.stop();
      }
    });

    it("counts the guardian's children at approval under the guardian account's row lock", async () => {
      const guardian = await issueTestCard(ts, '1979-09-09', 'Yoon Guardian');
      const child = application({ legal_name: 'Yoon Reviewson', birthdate: birthdateForAge(15), guardian_card_number: guardian.number, guardian_password: guardian.password });
      const { body } = await postApplication(ts, child);
      let answer: Response | undefined;
      let approving: Promise<Response> | undefined;
      // Something else that changes the guardian's children holds the guardian's row (as apply() takes it).
      await ts.db.transaction(async (trx) => {
        await trx('accounts').where({ id: guardian.accountId }).forUpdate().first();
        approving = decideByApi(String(body.application_id), 'approve').then((res) => (answer = res));
        // Until the approval is seen waiting for a lock (bounded: one that never waits fails here).
        let waiting = false;
        for (let i = 0; i < 400 && !waiting && answer === undefined; i++) {
          const r = await ts.db.raw("SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'");
          waiting = (r.rows[0] as { n: number }).n > 0;
          if (!waiting) await new Promise((resolve) => setTimeout(resolve, 25));
        }
        expect(answer, "the approval waits for the guardian's row").to.equal(undefined);
        expect(waiting).to.equal(true);
      });
      expect((await approving!).status).to.equal(200);
    });

    it('cannot race an application: one in flight with the same email holds the approval back, and its card then counts', async () => {
      const q = await queued('Nia Reviewson');
      let answer: Response | undefined;
      let approving: Promise<Response> | undefined;
      // An application of another holder with this email, between apply()'s locks and its commit.
      await ts.db.transaction(async (trx) => {
        await lockValues(trx, applicationLocks({ ip: uniqueIp(), email: String(q.app.email), mobile: e164(uniqueMobile()) }));
        const racing = await createCard({ ...ts.cm.cards, db: trx }, { legalName: 'Racing Holder', birthdate: '1981-01-01' }, 'test');
        await trx('accounts').where({ id: racing.accountId }).update({ email: String(q.app.email) });
        approving = decideByApi(q.id, 'approve').then((res) => (answer = res));
        await new Promise((resolve) => setTimeout(resolve, 300));
        expect(answer, 'the approval waits for the application to commit').to.equal(undefined);
      });
      const res = await approving!;
      expect(res.status).to.equal(409);
      expect(((await res.json()) as { error: string }).error).to.equal('duplicate_email');
    });

    describe('the deny list as it is now, not as it was when the application was sent to review', () => {
      /** Another instance on the same database whose deny list names more (as after a restart with entries added). */
      let later: TestServer;
      const deniedMobile = uniqueMobile();
      before(async () => {
        later = await startCardManager({
          ...APPLY_SERVER,
          cards: {
            ...APPLY_SERVER.cards,
            duplicates: 'review',
            // The mobile in national form, as an operator types it: matched as the E.164 number stored.
            denyList: { action: 'refuse', names: ['* reviewson', '* laterson'], emails: ['denied-later-*@example.com'], mobiles: [deniedMobile] },
          },
        });
      });
      after(() => later?.stop());

      /** An application in review for a duplicate email (no deny-list match when it was sent), with `over` given. */
      async function duplicateInReview(over: Record<string, string>) {
        const app = application(over);
        await issuedByHand(ts, { email: String(app.email) });
        const { status, body } = await postApplication(ts, app);
        expect(status, JSON.stringify(body)).to.equal(202);
        expect(body.review_reason).to.equal('duplicate_email');
        return String(body.application_id);
      }

      /** What `applications show ID` prints, run on `server`'s config and database. */
      async function cliShow(server: TestServer, id: string): Promise<string[]> {
        const out: string[] = [];
        const log = console.log;
        console.log = (...a: unknown[]) => void out.push(a.join(' '));
        try {
          await applicationCommands['applications show']!({ config: server.config, db: server.db, args: [id] });
        } finally {
          console.log = log;
        }
        return out;
      }

      async function findingCodes(server: TestServer, id: string): Promise<string[]> {
        const res = await fetch(`${server.url}/admin/api/applications/${id}`, { headers: { authorization: `Bearer ${server.config.secrets.operatorToken}` } });
        return ((await res.json()) as { findings: Array<{ code: string }> }).findings.map((f) => f.code);
      }

      it('shows a deny-list match among what a check finds now: a name, an email or a mobile (API findings, `applications show`)', async () => {
        const byName = await duplicateInReview({ legal_name: `${uniqueName('Zoe')} Laterson` });
        const byEmail = await duplicateInReview({ email: uniqueEmail('denied-later') });
        const byMobile = await duplicateInReview({ mobile: deniedMobile });
        for (const id of [byName, byEmail, byMobile]) {
          expect(await findingCodes(later, id), 'on the instance whose deny list names it').to.deep.equal(['denied', 'duplicate_email']);
          expect(await findingCodes(ts, id), 'on the one whose deny list does not').to.deep.equal(['duplicate_email']);
        }
        expect(await cliShow(later, byName)).to.include('  found now: denied: the name, email or mobile matches the deny list');
        expect((await cliShow(ts, byName)).join('\n')).not.to.include('denied');
      });

      it('refuses to approve an applicant the deny list names now (409 denied), past which nothing approves: nothing issued, still in review, a rejection goes through', async () => {
        const byName = await duplicateInReview({ legal_name: `${uniqueName('Yul')} Laterson` });
        const byEmail = await duplicateInReview({ email: uniqueEmail('denied-later') });
        const byMobile = await duplicateInReview({ mobile: deniedMobile });
        const message = await refusedApproval(later, byName, 'denied', { accept_duplicate: true, reason: 'checked' });
        expect(message).to.match(/^The name, email or mobile matches the deny list \(cards\.denyList\)/);
        expect(message).to.include('reject the application with a reason');
        await refusedApproval(later, byEmail, 'denied');
        await refusedApproval(later, byMobile, 'denied', { accept_duplicate: true });
        expect((await listAudit(ts.db, 'application', byName)).map((e) => e.action)).not.to.include('application.approved');
        // Where the deny list does not name it, the same approval goes through (the duplicate accepted).
        const elsewhere = await decideByApi(byEmail, 'approve', { accept_duplicate: true });
        expect(elsewhere.status).to.equal(200);
        const rejected = await fetch(`${later.url}/admin/api/applications/${byName}/reject`, {
          method: 'POST',
          headers: { ...operator, 'content-type': 'application/json' },
          body: JSON.stringify({ reason: 'We cannot accept this application.' }),
        });
        expect(rejected.status).to.equal(200);
      });

      it("with denyList.action 'refuse', refuses even the match the application was sent to review for (under 'review' then)", async () => {
        const q = await queued('Una Reviewson');
        expect(q.body.review_reason).to.equal('denied');
        await refusedApproval(later, q.id, 'denied');
      });

      it("with denyList.action 'review', approves past the match the application was sent to review for, not past one found since", async () => {
        const reviewing = await startCardManager({
          ...APPLY_SERVER,
          cards: { ...APPLY_SERVER.cards, duplicates: 'review', denyList: { action: 'review', names: ['* reviewson', '* laterson'], emails: [], mobiles: [] } },
        });
        try {
          const q = await queued('Vic Reviewson');
          const approved = await fetch(`${reviewing.url}/admin/api/applications/${q.id}/approve`, { method: 'POST', headers: operator });
          expect(approved.status, 'the match the operator was asked to judge').to.equal(200);
          const since = await duplicateInReview({ legal_name: `${uniqueName('Wes')} Laterson` });
          await refusedApproval(reviewing, since, 'denied', { accept_duplicate: true });
        } finally {
          await reviewing.stop();
        }
      });

      it('refuses in the console with a 409 page, the message beside the approve form and its reason kept, nothing changed', async () => {
        const id = await duplicateInReview({ legal_name: `${uniqueName('Xia')} Laterson` });
        const agent = await signedInOperator(later.url, later.config.secrets.operatorToken!);
        const before = await snapshot(later, id);
        const res = await postConsoleForm(agent, '/admin/applications', `/admin/applications/${id}/approve`, { reason: 'looked at it', accept_duplicate: 'on' });
        expect(res.status).to.equal(409);
        const html = await res.text();
        expect(alertText(html)).to.match(/^The name, email or mobile matches the deny list/);
        expect(html).to.match(new RegExp(`id="error-approve-${id}"[^>]*>The name, email or mobile matches the deny list`));
        expect(html).to.match(new RegExp(`id="reason-approve-${id}" name="reason" value="looked at it"`));
        expect(await snapshot(later, id)).to.deep.equal(before);
      });

      it('refuses in the CLI with a one-line error, nothing changed', async () => {
        const id = await duplicateInReview({ legal_name: `${uniqueName('Yan')} Laterson` });
        const before = await snapshot(later, id);
        let refused: unknown;
        try {
          await applicationCommands['applications approve']!({ config: later.config, db: later.db, args: [id, '--accept-duplicate'] });
        } catch (err) {
          refused = err;
        }
        expect(refused).to.be.instanceOf(AppError);
        expect((refused as AppError).code).to.equal('denied');
        const lines = refusalLines(refused as AppError);
        expect(lines).to.have.length(1);
        expect(lines[0]).to.match(/^error: The name, email or mobile matches the deny list/);
        expect(lines[0]).not.to.include('\n');
        expect(await snapshot(later, id)).to.deep.equal(before);
      });
    });

    describe("with cards.duplicates 'refuse'", () => {
      let strict: TestServer;
      before(async () => {
        strict = await startCardManager({
          ...APPLY_SERVER,
          cards: { ...APPLY_SERVER.cards, duplicates: 'refuse', denyList: { action: 'review', names: ['* reviewson'], emails: [], mobiles: [] } },
        });
      });
      after(() => strict?.stop());

      it('refuses an approval when another holder’s card got the email or mobile, even when the operator would accept it', async () => {
        const byEmail = application({ legal_name: 'Kit Reviewson' });
        const a = await postApplication(strict, byEmail);
        expect(a.status).to.equal(202);
        await issuedByHand(strict, { email: String(byEmail.email) });
        const message = await refusedApproval(strict, String(a.body.application_id), 'duplicate_email', { accept_duplicate: true });
        expect(message).to.include("Duplicates are refused (cards.duplicates is 'refuse')");

        const byMobile = application({ legal_name: 'Lou Reviewson' });
        const b = await postApplication(strict, byMobile);
        await issuedByHand(strict, { mobile: e164(String(byMobile.mobile)) });
        await refusedApproval(strict, String(b.body.application_id), 'duplicate_mobile');
        const rejected = await fetch(`${strict.url}/admin/api/applications/${String(b.body.application_id)}/reject`, {
          method: 'POST',
          headers: { authorization: `Bearer ${strict.config.secrets.operatorToken}`, 'content-type': 'application/json' },
          body: JSON.stringify({ reason: 'This mobile number already has a card.' }),
        });
        expect(rejected.status).to.equal(200);
      });

      it('refuses an approval when an account with the contacts came to owe while it waited, even when the operator would accept it', async () => {
        const app = application({ legal_name: 'Pat Reviewson' });
        const a = await postApplication(strict, app);
        expect(a.status).to.equal(202);
        await closedOwingByHand(strict, { mobile: e164(String(app.mobile)) });
        const message = await refusedApproval(strict, String(a.body.application_id), 'balance_owed', { accept_duplicate: true });
        expect(message).to.include("(cards.duplicates is 'refuse')");
      });

      it('still approves a minor who gives the guardian’s contacts: the guardian is no duplicate', async () => {
        const m = await minorInReview(strict);
        const res = await fetch(`${strict.url}/admin/api/applications/${m.id}/approve`, {
          method: 'POST',
          headers: { authorization: `Bearer ${strict.config.secrets.operatorToken}` },
        });
        expect(res.status, await res.clone().text()).to.equal(200);
      });
    });

    it('through the CLI too: a clear message, exit code 1, the application still in review', async function () {
      this.timeout(60_000);
      const m = await minorInReview();
      await cardAction(m.guardian.cardId, 'close');
      const refused = await cli('applications', 'approve', m.id);
      expect(refused.code).to.equal(1);
      expect(refused.stderr).to.include('error: The guardian no longer holds an active card');
      // `applications show` says why it was sent to review and what a check finds now.
      const shown = await cli('applications', 'show', m.id);
      expect(shown.stdout).to.include('(guardian_contacts)');
      expect(shown.stdout).to.include('  found now: guardian_inactive: the guardian no longer holds an active card: no one vouches for this minor');
      expect((await ts.db('applications').where({ id: m.id }).first()).status).to.equal('review');

      // The CLI reads config/ (cards.duplicates 'refuse'), whatever this test server was started with.
      const q = await queued('Max Reviewson');
      await issuedByHand(ts, { email: String(q.app.email) });
      const dup = await cli('applications', 'approve', q.id, '--accept-duplicate');
      expect(dup.code).to.equal(1);
      expect(dup.stderr).to.include("Another holder's active card has this application's email address.");
      const misplaced = await cli('applications', 'reject', q.id, '--reason', 'no', '--accept-duplicate');
      expect(misplaced.code).to.equal(1);
      expect(misplaced.stderr).to.include('--accept-duplicate: Goes with approve only.');
      const rejected = await cli('applications', 'reject', q.id, '--reason', 'This email address already has a card.');
      expect(rejected.code, rejected.stderr).to.equal(0);
    });
  });

  describe('operator CLI', function () {
    this.timeout(60_000);

    it('lists the queue, approves and rejects with a reason, and the applicants are notified', async () => {
      const yes = await queued('Fay Reviewson');
      const no = await queued('Gus Reviewson');

      const list = await cli('applications', 'list');
      expect(list.code, list.stderr).to.equal(0);
      expect(list.stdout).to.include(yes.id);
      expect(list.stdout).to.include(no.id);
      expect(list.stdout).to.include('Fay Reviewson');
      expect(list.stdout).to.not.include(yes.number);

      const approved = await cli('applications', 'approve', yes.id, '--reason', 'documents seen');
      expect(approved.code, approved.stderr).to.equal(0);
      expect(approved.stdout).to.match(/approved/);
      expect((await verifyCredentials(ts.cm.cards, yes.number, GOOD_PASSWORD)).status).to.equal('active');

      const noReason = await cli('applications', 'reject', no.id);
      expect(noReason.code).to.equal(1);
      expect(noReason.stderr).to.match(/reason/i);

      const rejected = await cli('applications', 'reject', no.id, '--reason', 'duplicate identity');
      expect(rejected.code, rejected.stderr).to.equal(0);
      expect(await loginRefused(ts, no.number, GOOD_PASSWORD)).to.equal(true);

      const rows = await ts.db('applications').whereIn('id', [yes.id, no.id]).orderBy('legal_name');
      expect(rows.map((r: { status: string; decided_by: string }) => [r.status, r.decided_by])).to.deep.equal([
        ['approved', `cli:${userInfo().username}`],
        ['rejected', `cli:${userInfo().username}`],
      ]);
      expect(await templatesFor(ts, yes.accountId)).to.include('application_approved');
      expect(await latestMessage(ts, no.accountId, 'application_rejected')).to.include({ reason: 'duplicate identity' });

      const decided = await cli('applications', 'list', '--status', 'approved', '--limit', '500');
      expect(decided.stdout).to.include(yes.id);
      const twice = await cli('applications', 'approve', yes.id);
      expect(twice.code, twice.stderr).to.equal(0);
      expect(twice.stdout).to.include(`application ${yes.id} was approved already: nothing changed`);
      const otherWay = await cli('applications', 'reject', yes.id, '--reason', 'changed my mind');
      expect(otherWay.code).to.equal(1);
      expect(otherWay.stderr).to.include('This application was already approved.');
    });
  });

  describe('the /apply page', () => {
    it('shows the "pending review" result with the number, and says the card works once approved', async () => {
      const ip = uniqueIp();
      const agent = new Agent(ts.url);
      const form = await agent.request('/apply', { headers: { 'x-forwarded-for': ip } });
      const csrf = csrfFrom(await form.text());
      const app = application({ legal_name: 'Hana Reviewson' });
      const res = await agent.request('/apply', {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': ip },
        body: new URLSearchParams({ csrf, ...(app as Record<string, string>), accept_terms: 'yes' }).toString(),
      });
      const html = await res.text();
      expect(res.status).to.equal(202);
      expect(html).to.include('id="pending-review"');
      expect(html).to.include('Your application is being reviewed');
      expect(html).to.match(/id="card-number"[^>]*>\d{4} \d{4} \d{4} \d{4}</);
    });
  });
});
