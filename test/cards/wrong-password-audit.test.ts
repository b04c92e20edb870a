import { expect } from 'chai';
import { listAudit } from '../../src/db/audit-log.ts';
import { Agent, csrfFrom, startInteraction } from '../helpers/agent.ts';
import { APPLY_SERVER, application, birthdateForAge, postApplication } from '../helpers/applicant.ts';
import { sqlDuring } from '../helpers/db.ts';
import { authRequest, issueTestCard, registerTestSite, siteClient, type TestCard } from '../helpers/fixtures.ts';
import { startCardManager, type TestServer } from '../helpers/server.ts';

const WRONG = 'Not the password at all';

describe('wrong card passwords in the audit trail', () => {
  let ts: TestServer;

  before(async () => {
    ts = await startCardManager(APPLY_SERVER);
  });
  after(() => ts?.stop());

  /** The card's card.password_failed entries, oldest first. */
  const failures = async (card: TestCard) => (await listAudit(ts.db, 'card', card.cardId)).filter((e) => e.action === 'card.password_failed');

  /** The audit_log inserts a request sent. */
  const auditInserts = (sql: string[]) => sql.filter((s) => /^insert into "audit_log"/i.test(s));

  const postJson = (path: string, body: unknown) =>
    fetch(`${ts.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

  it("records a wrong password at a member site's login page, naming the site and nothing secret; a right one writes only its login", async () => {
    const card = await issueTestCard(ts);
    const site = await registerTestSite(ts);
    const config = await siteClient(ts, site);
    const agent = new Agent(ts.url);
    const first = await startInteraction(agent, (await authRequest(config, site)).url);
    let status = 0;
    const wrongSql = await sqlDuring(ts.db, async () => {
      status = (await agent.post(`${first.path}/login`, { csrf: first.csrf, card_number: card.number, password: WRONG })).status;
    });
    expect(status).to.equal(401);
    expect(auditInserts(wrongSql), 'one entry for the wrong password').to.have.length(1);
    const [entry, ...more] = await failures(card);
    expect(more).to.deep.equal([]);
    expect(entry).to.deep.include({ actor: 'anonymous', subjectType: 'card', subjectId: card.cardId });
    expect(entry!.details).to.deep.equal({ accountId: card.accountId, page: 'site_login', clientId: site.clientId });
    expect(entry!.requestId).to.be.a('string');
    const kept = JSON.stringify(await ts.db('audit_log').where({ subject_id: card.cardId }));
    expect(kept).to.not.include(WRONG).and.not.include(card.number).and.not.include(card.password);

    // The right password: only the login's own entry, as before (a successful login costs no statement more).
    const again = await startInteraction(agent, (await authRequest(config, site)).url);
    const rightSql = await sqlDuring(ts.db, async () => {
      status = (await agent.post(`${again.path}/login`, { csrf: again.csrf, card_number: card.number, password: card.password })).status;
    });
    expect(status).to.be.oneOf([200, 303]);
    expect(auditInserts(rightSql), 'the card.login entry alone').to.have.length(1);
    expect((await listAudit(ts.db, 'card', card.cardId)).map((e) => e.action).slice(-2)).to.deep.equal(['card.password_failed', 'card.login']);
  });

  it("records wrong passwords at the holder's sign-in, a lost-card report, a password change and a guardian's consent", async () => {
    // Four on one card (a fifth would lock it), the guardian's on another.
    const card = await issueTestCard(ts);
    const guardian = await issueTestCard(ts, '1970-01-01');
    const agent = new Agent(ts.url);
    const csrf = csrfFrom(await (await agent.get('/card/signin')).text());
    expect((await agent.post('/card/signin', { csrf, card_number: card.number, password: WRONG })).status).to.equal(401);
    const lostForm = csrfFrom(await (await agent.get('/card/lost')).text());
    expect((await agent.post('/card/lost', { csrf: lostForm, card_number: card.number, password: WRONG })).status).to.equal(401);
    expect((await postJson('/api/cards/lost', { card_number: card.number, password: WRONG })).status).to.equal(401);
    expect((await postJson('/api/cards/password', { card_number: card.number, password: WRONG, new_password: 'Another good phrase' })).status).to.equal(401);
    const minor = application({ legal_name: 'Test Child', birthdate: birthdateForAge(16), guardian_card_number: guardian.number, guardian_password: WRONG });
    expect((await postApplication(ts, minor)).body.error).to.equal('guardian_invalid');
    // An unknown number is no card's: nothing to record.
    const before = Number((await ts.db('audit_log').count({ n: '*' }).first())!.n);
    expect((await postJson('/api/cards/lost', { card_number: '9999999999999995', password: WRONG })).status).to.equal(401);
    expect(Number((await ts.db('audit_log').count({ n: '*' }).first())!.n)).to.equal(before);

    expect((await failures(card)).map((e) => e.details)).to.deep.equal(
      ['holder_signin', 'lost_card', 'lost_card', 'password_change'].map((page) => ({ accountId: card.accountId, page })),
    );
    expect((await failures(guardian)).map((e) => e.details)).to.deep.equal([{ accountId: guardian.accountId, page: 'guardian_consent' }]);
    const kept = JSON.stringify(await ts.db('audit_log').whereIn('subject_id', [card.cardId, guardian.cardId]));
    expect(kept).to.not.include(WRONG).and.not.include(card.number).and.not.include(guardian.number);
  });
});
