import { expect } from 'chai';
import { createCard } from '../../src/cards/create-card.ts';
import { APPLY_SERVER, application, birthdateForAge, postApplication, uniqueEmail, uniqueName } from '../helpers/applicant.ts';
import { createTestDatabase, dropTestDatabase, sqlDuring } from '../helpers/db.ts';
import { issueTestCard } from '../helpers/fixtures.ts';
import { unescapeHtml } from '../helpers/html.ts';
import type { ForwardedAgent } from '../helpers/agent.ts';
import { signedInOperator } from '../helpers/operator.ts';
import { startCardManager, type TestServer } from '../helpers/server.ts';

/**
 * The console's review queue reads what a check finds now for every application it lists (up to 100): a database of
 * its own, so the queue holds only the applications made here and the count of what it lists is known.
 */
describe('operator console review queue: what a check finds now, read for the whole page at once', () => {
  let databaseUrl: string;
  let ts: TestServer;
  let agent: ForwardedAgent;

  before(async () => {
    databaseUrl = await createTestDatabase('cybercard_queue');
    ts = await startCardManager({
      ...APPLY_SERVER,
      databaseUrl,
      // One child per guardian, so a ward added by hand fills the guardian's places (too_many_wards).
      cards: { ...APPLY_SERVER.cards, duplicates: 'review', maxWardsPerGuardian: 1, denyList: { action: 'review', names: ['* queueson'], emails: [], mobiles: [] } },
    });
    agent = await signedInOperator(ts.url, ts.config.secrets.operatorToken!);
  });
  after(async () => {
    await ts?.stop();
    if (databaseUrl) await dropTestDatabase(databaseUrl);
  });

  async function inReview(body: Record<string, unknown>): Promise<string> {
    const { status, body: answer } = await postApplication(ts, body);
    expect(status, JSON.stringify(answer)).to.equal(202);
    return String(answer.application_id);
  }

  /** A holder's account created by hand with these columns (a card issued, then its row changed). */
  async function accountByHand(legalName: string, birthdate: string, columns: Record<string, unknown>, cardStatus = 'active') {
    const card = await createCard(ts.cm.cards, { legalName, birthdate }, 'test');
    await ts.db('accounts').where({ id: card.accountId }).update(columns);
    if (cardStatus !== 'active') await ts.db('cards').where({ id: card.cardId }).update({ status: cardStatus });
    return card;
  }

  /** A statement of the account, due 40 days ago (past any grace) and unpaid: an overdue statement stops its card. */
  async function overdueByHand(accountId: string) {
    const day = (n: number) => new Date(Date.now() - n * 86_400_000).toISOString().slice(0, 10);
    await ts.db('statements').insert({
      account_id: accountId,
      statement_date: day(60),
      period_start: new Date(Date.now() - 90 * 86_400_000),
      period_end: new Date(Date.now() - 60 * 86_400_000),
      currency: 'KRW',
      opening_balance: 0,
      charges: 5_000,
      refunds: 0,
      repayments: 0,
      closing_balance: 5_000,
      due_date: day(40),
      payment_reference: `by-hand-${accountId}`,
    });
  }

  /**
   * Applications in review (all on the deny list), each coming to have something found since: a duplicate email, a
   * debt on the contacts, a holder and a debtor of the same name and date of birth, and minors whose guardian's card
   * closed, whose guardian's places filled, whose guardian has the same child already, and whose guardian's statement is
   * overdue. Eight in all: each id with
   * the codes a check finds now.
   */
  async function variedQueue(): Promise<Array<[string, string[]]>> {
    const adult = () => application({ legal_name: `${uniqueName('Ada')} Queueson` });
    const dup = adult();
    const dupId = await inReview(dup);
    await accountByHand('Other Holder', '1980-01-01', { email: String(dup.email) });
    const owed = adult();
    const owedId = await inReview(owed);
    await accountByHand('Former Holder', '1980-01-01', { email: String(owed.email), posted_balance: 5_000 }, 'closed');
    const person = adult();
    const personId = await inReview(person);
    await accountByHand(String(person.legal_name), String(person.birthdate), { email: uniqueEmail('same') });
    const debtor = adult();
    const debtorId = await inReview(debtor);
    await accountByHand(String(debtor.legal_name), String(debtor.birthdate), { posted_balance: 7_000 }, 'closed');

    const minor = async () => {
      const guardian = await issueTestCard(ts, '1970-03-03', `${uniqueName('Gil')} Guardian`);
      const child = application({
        legal_name: `${uniqueName('Min')} Queueson`,
        birthdate: birthdateForAge(15),
        guardian_card_number: guardian.number,
        guardian_password: guardian.password,
      });
      return { guardian, child, id: await inReview(child) };
    };
    const inactive = await minor();
    await ts.db('cards').where({ id: inactive.guardian.cardId }).update({ status: 'closed' });
    const full = await minor();
    await accountByHand(`${uniqueName('Sib')} Ward`, birthdateForAge(12), { guardian_account_id: full.guardian.accountId });
    const twice = await minor();
    await accountByHand(String(twice.child.legal_name), String(twice.child.birthdate), { guardian_account_id: twice.guardian.accountId });
    const owing = await minor();
    await overdueByHand(owing.guardian.accountId);
    return [
      [dupId, ['denied', 'duplicate_email']],
      [owedId, ['denied', 'balance_owed']],
      [personId, ['denied', 'duplicate_person']],
      [debtorId, ['denied', 'person_owes']],
      [inactive.id, ['denied', 'guardian_inactive']],
      [full.id, ['denied', 'too_many_wards']],
      // The same child is an issued ward too: it fills the guardian's one place.
      [twice.id, ['denied', 'too_many_wards', 'duplicate_ward']],
      [owing.id, ['denied', 'guardian_overdue']],
    ];
  }

  /** The queue page, the SQL it sent, and what it shows found now for each application, by id. */
  async function queuePage(): Promise<{ sql: string[]; found: Map<string, string[]> }> {
    let html = '';
    const sql = await sqlDuring(ts.db, async () => {
      const res = await agent.get('/admin/applications');
      expect(res.status).to.equal(200);
      html = await res.text();
    });
    const found = new Map<string, string[]>();
    for (const section of html.split('<section class="queue-item" ').slice(1)) {
      const id = /^id="application-([0-9a-f-]+)"/.exec(section)![1]!;
      found.set(id, [...section.matchAll(/<li id="found-[^"]+">(.*?)<\/li>/g)].map((m) => unescapeHtml(m[1]!.replace(/<[^>]+>/g, ''))));
    }
    return { sql, found };
  }

  it('sends as many queries for eight applications as for twenty-four, and shows for each what a check finds, as the API shows it', async () => {
    const expected = new Map(await variedQueue());
    const few = await queuePage();
    expect(few.found.size).to.equal(8);
    for (const [id, codes] of [...(await variedQueue()), ...(await variedQueue())]) expected.set(id, codes);
    const many = await queuePage();
    expect(many.found.size).to.equal(24);
    expect(many.sql.length, 'the queries for 24 applications, against those for 8').to.equal(few.sql.length);

    for (const [id, shown] of many.found) {
      expect(shown.map((line) => line.split(':')[0]), id).to.deep.equal(expected.get(id));
      const res = await fetch(`${ts.url}/admin/api/applications/${id}`, { headers: { authorization: `Bearer ${ts.config.secrets.operatorToken}` } });
      const { findings } = (await res.json()) as { findings: Array<{ code: string; about: string }> };
      expect(shown, id).to.deep.equal(findings.map((f) => `${f.code}: ${f.about}`));
    }
  });
});
