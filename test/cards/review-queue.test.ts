import { expect } from 'chai';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { verifyCredentials } from '../../src/cards/verify-credentials.ts';
import { listAudit } from '../../src/db/audit-log.ts';
import { InvalidCredentialsError } from '../../src/errors.ts';
import { Agent, csrfFrom } from '../helpers/agent.ts';
import { APPLY_SERVER, application, birthdateForAge, GOOD_PASSWORD, latestMessage, postApplication, templatesFor, uniqueIp } from '../helpers/applicant.ts';
import { issueTestCard } from '../helpers/fixtures.ts';
import { testEnv } from '../helpers/global.ts';
import { startCardManager, type TestServer } from '../helpers/server.ts';

const run = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '..', '..');

/** `npm run cli -- …` on the run's database and data directory (so it shares the server's secrets). */
async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], {
      cwd: ROOT,
      env: { ...process.env, NODE_ENV: 'test', DATABASE_URL: testEnv.databaseUrl, DATA_DIR: testEnv.dataDir },
      timeout: 30_000,
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

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

    it('approves: the card becomes active and logs in, the applicant is told, and a second decision is refused', async () => {
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
      const again = await decideByApi(q.id, 'reject', { reason: 'changed my mind' });
      expect(again.status).to.equal(409);
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
        ['approved', 'cli'],
        ['rejected', 'cli'],
      ]);
      expect(await templatesFor(ts, yes.accountId)).to.include('application_approved');
      expect(await latestMessage(ts, no.accountId, 'application_rejected')).to.include({ reason: 'duplicate identity' });

      const decided = await cli('applications', 'list', '--status', 'approved', '--limit', '500');
      expect(decided.stdout).to.include(yes.id);
      const twice = await cli('applications', 'approve', yes.id);
      expect(twice.code).to.equal(1);
      expect(twice.stderr).to.include('already approved');
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
