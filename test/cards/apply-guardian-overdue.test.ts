import { expect } from 'chai';
import { applicationCommands } from '../../src/admin/applications-cli.ts';
import { Agent, csrfFrom } from '../helpers/agent.ts';
import {
  APPLY_SERVER,
  application,
  applicationRowCounts,
  birthdateForAge,
  e164,
  GOOD_PASSWORD,
  postApplication,
  uniqueEmail,
  uniqueIp,
  uniqueMobile,
  type ApplicationBody,
} from '../helpers/applicant.ts';
import { registerTestSite, type TestCard, type TestSite } from '../helpers/fixtures.ts';
import { fieldError, inputValue, unescapeHtml } from '../helpers/html.ts';
import { signedInOperator } from '../helpers/operator.ts';
import type { TestServer } from '../helpers/server.ts';
import { cardWithLimit, makeGuardianOverdue, makeOverdue, operator, startLedgerServer } from '../ledger/fixtures.ts';

/** What the applicant is told, beside the guardian's card number. */
const REFUSED =
  "This guardian's card has an overdue statement (its own, or a child's card it answers for), so it cannot vouch for a new card. " +
  'Please apply again once the statement is paid.';

/**
 * A guardian who owes (delinquency.guardianResponsible, on by default: the guardian and the linked minors answer for
 * each other) vouches for no new minor: the new card would be stopped from the start, and it adds credit to a
 * household that is not paying. Refused like a guardian card that cannot vouch, and held again at the operator's approval.
 */
describe("applying as a minor with a guardian whose card an overdue statement stops", () => {
  let ts: TestServer;
  let site: TestSite;

  before(async () => {
    // A database of its own: making a statement overdue takes a billing run, which bills every account it finds.
    ts = await startLedgerServer(APPLY_SERVER);
    site = await registerTestSite(ts, { maxAmount: 50_000 });
  });

  after(async () => {
    await ts.stop();
  });

  /** A guardian with contacts of their own and a minor linked to the card (neither owes anything yet). */
  async function family(): Promise<{ guardian: TestCard & { email: string; mobile: string }; minor: TestCard }> {
    const email = uniqueEmail('guardian');
    const mobile = uniqueMobile();
    const guardian = await cardWithLimit(ts, 100_000, { email, mobile: e164(mobile) });
    const minor = await cardWithLimit(ts, 20_000, { guardian_account_id: guardian.accountId, birthdate: birthdateForAge(15) });
    return { guardian: { ...guardian, email, mobile }, minor };
  }

  const child = (g: TestCard, over: ApplicationBody = {}) =>
    application({ birthdate: birthdateForAge(15), guardian_card_number: g.number, guardian_password: g.password, ...over });

  async function expectRefused(g: TestCard): Promise<void> {
    const before = await applicationRowCounts(ts);
    const app = child(g);
    const { status, body } = await postApplication(ts, app);
    expect(status, JSON.stringify(body)).to.equal(403);
    expect(body).to.include({ error: 'guardian_overdue', error_description: REFUSED });
    expect(body.field_codes).to.deep.equal({ guardian_card_number: 'guardian_overdue' });
    const after = await applicationRowCounts(ts);
    // No account, no card, no message: only the refusal is kept, as for every refusal of the application's checks.
    expect({ accounts: after.accounts, cards: after.cards, notifications_outbox: after.notifications_outbox }).to.deep.equal({
      accounts: before.accounts,
      cards: before.cards,
      notifications_outbox: before.notifications_outbox,
    });
    expect(await ts.db('applications').where({ email: app.email }).first()).to.include({ status: 'rejected', reason: 'guardian_overdue' });
  }

  it("refuses (403 guardian_overdue, beside the guardian's card number) while the guardian's own statement is overdue", async () => {
    const f = await family();
    // Before: the guardian vouches.
    expect((await postApplication(ts, child(f.guardian))).status).to.equal(201);
    await makeGuardianOverdue(ts, site, f);
    await expectRefused(f.guardian);
  });

  it("refuses while a linked minor's statement is overdue (the guardian's card is ward_delinquent)", async () => {
    const f = await family();
    await makeOverdue(ts, site, f);
    await expectRefused(f.guardian);
  });

  it('comes back on the form with the values kept (never the passwords) and the reason beside the guardian card number', async () => {
    const f = await family();
    await makeGuardianOverdue(ts, site, f);
    const ip = uniqueIp();
    const agent = new Agent(ts.url);
    const csrf = csrfFrom(await (await agent.request('/apply', { headers: { 'x-forwarded-for': ip } })).text());
    const app = child(f.guardian);
    const form: Record<string, string> = {};
    for (const [k, v] of Object.entries(app)) form[k] = k === 'accept_terms' ? 'yes' : String(v);
    const before = await applicationRowCounts(ts);
    const res = await agent.request('/apply', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': ip },
      body: new URLSearchParams({ csrf, ...form }).toString(),
    });
    const html = await res.text();
    expect(res.status).to.equal(403);
    expect(fieldError(html, 'guardian_card_number')).to.equal(REFUSED);
    expect(inputValue(html, 'legal_name')).to.equal(app.legal_name);
    expect(inputValue(html, 'email')).to.equal(app.email);
    expect(inputValue(html, 'birthdate')).to.equal(app.birthdate);
    expect(inputValue(html, 'guardian_card_number')).to.equal(f.guardian.number);
    expect(inputValue(html, 'guardian_password')).to.equal(undefined);
    expect(html).to.not.include(GOOD_PASSWORD);
    expect(html).to.not.include(f.guardian.password);
    expect((await applicationRowCounts(ts)).accounts).to.equal(before.accounts);
  });

  it("holds it again at the operator's approval (409 guardian_overdue): the application stays in review, the card pending", async () => {
    const f = await family();
    // Both of the guardian's contacts: a person looks at it first (guardian_contacts).
    const queued = await postApplication(ts, child(f.guardian, { email: f.guardian.email, mobile: f.guardian.mobile }));
    expect(queued.status, JSON.stringify(queued.body)).to.equal(202);
    expect(queued.body.review_reason).to.equal('guardian_contacts');
    await makeGuardianOverdue(ts, site, f);
    const id = String(queued.body.application_id);
    const res = await operator(ts, 'POST', `/admin/api/applications/${id}/approve`, { reason: 'checked by phone' });
    expect(res.status, res.text).to.equal(409);
    expect(res.json.error).to.equal('guardian_overdue');
    expect(await ts.db('applications').where({ id }).first()).to.include({ status: 'review' });
    expect(await ts.db('cards').where({ id: queued.body.card_id }).first()).to.include({ status: 'pending' });
  });

  it("shows it among what a check finds now (guardian_overdue) in the console's queue, the API and `applications show`", async () => {
    const f = await family();
    const queued = await postApplication(ts, child(f.guardian, { email: f.guardian.email, mobile: f.guardian.mobile }));
    expect(queued.status, JSON.stringify(queued.body)).to.equal(202);
    const id = String(queued.body.application_id);
    const codes = async () => ((await operator(ts, 'GET', `/admin/api/applications/${id}`)).json.findings as Array<{ code: string }>).map((x) => x.code);
    // Before: the guardian vouches, and nothing is found.
    expect(await codes()).to.deep.equal([]);
    await makeGuardianOverdue(ts, site, f);
    const about = "an overdue statement stops the guardian's card (its own, or a child's it answers for): it cannot vouch for this minor";
    expect((await operator(ts, 'GET', `/admin/api/applications/${id}`)).json.findings).to.deep.equal([{ code: 'guardian_overdue', about }]);

    const agent = await signedInOperator(ts.url, ts.config.secrets.operatorToken!);
    const html = await (await agent.get('/admin/applications')).text();
    const shown = new RegExp(`<li id="found-guardian_overdue-${id}">(.*?)</li>`).exec(html);
    expect(shown, 'the queue lists it for this application').to.not.equal(null);
    expect(unescapeHtml(shown![1]!.replace(/<[^>]+>/g, ''))).to.equal(`guardian_overdue: ${about}`);

    const out: string[] = [];
    const log = console.log;
    console.log = (...a: unknown[]) => void out.push(a.join(' '));
    try {
      await applicationCommands['applications show']!({ config: ts.config, db: ts.db, args: [id] });
    } finally {
      console.log = log;
    }
    expect(out).to.include(`  found now: guardian_overdue: ${about}`);
  });

  it('finds it on a linked minor\'s overdue statement too (delinquency.guardianResponsible)', async () => {
    const f = await family();
    const queued = await postApplication(ts, child(f.guardian, { email: f.guardian.email, mobile: f.guardian.mobile }));
    expect(queued.status, JSON.stringify(queued.body)).to.equal(202);
    await makeOverdue(ts, site, f);
    const found = (await operator(ts, 'GET', `/admin/api/applications/${String(queued.body.application_id)}`)).json.findings as Array<{ code: string }>;
    expect(found.map((x) => x.code)).to.deep.equal(['guardian_overdue']);
  });
});
