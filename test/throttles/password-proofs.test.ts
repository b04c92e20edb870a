import { expect } from 'chai';
import { findThrottle } from '../../src/db/throttles.ts';
import { cardThrottleKey } from '../../src/throttles/check-card-password.ts';
import { application, APPLY_SERVER, birthdateForAge, postApplication, uniqueIp } from '../helpers/applicant.ts';
import { Agent, csrfFrom } from '../helpers/agent.ts';
import { issueTestCard, type TestCard } from '../helpers/fixtures.ts';
import { startCardManager, type TestServer } from '../helpers/server.ts';

/**
 * Every page and API that proves a card by its password counts wrong guesses against the same card
 * lockout and source throttle as the login page, so none of them is a way to guess round the lockout.
 */
describe('password proofs outside the login page', () => {
  let ts: TestServer;

  before(async () => {
    ts = await startCardManager({ ...APPLY_SERVER });
  });
  after(() => ts.stop());

  async function postJson(path: string, body: unknown, ip: string) {
    const res = await fetch(`${ts.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-forwarded-for': ip },
      body: JSON.stringify(body),
    });
    return { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, unknown> };
  }

  const failures = async (card: TestCard) =>
    (await findThrottle(ts.db, { scope: 'card', key: cardThrottleKey(ts.config.secrets.cardHmacKey, card.number)! }))?.count ?? 0;
  const status = async (card: TestCard) => (await ts.db('cards').where({ id: card.cardId }).first()).status as string;

  it('adds wrong passwords from the lost-card, password and application APIs and the lost-card page into one lockout', async () => {
    const card = await issueTestCard(ts, '1980-03-03', 'Park Guardian');
    const ip = uniqueIp();

    expect((await postJson('/api/cards/lost', { card_number: card.number, password: 'wrong one' }, ip)).status).to.equal(401);
    expect(
      (await postJson('/api/cards/password', { card_number: card.number, password: 'wrong two', new_password: 'Quiet copper meadow' }, ip)).status,
    ).to.equal(401);
    const minor = application({ birthdate: birthdateForAge(15), guardian_card_number: card.number, guardian_password: 'wrong three' });
    expect((await postApplication(ts, minor, ip)).body.error).to.equal('guardian_invalid');

    const agent = new Agent(ts.url);
    const form = await (await agent.get('/card/lost')).text();
    const page = await agent.post('/card/lost', { csrf: csrfFrom(form), card_number: card.number, password: 'wrong four' });
    expect(page.status).to.equal(401);
    expect(await failures(card)).to.equal(4);

    // The fifth wrong guess locks the card; from then on even the right password is refused everywhere.
    expect((await postJson('/api/cards/lost', { card_number: card.number, password: 'wrong five' }, ip)).status).to.equal(423);
    const right = await postJson('/api/cards/lost', { card_number: card.number, password: card.password }, ip);
    expect(right.status).to.equal(423);
    expect(right.body.error).to.equal('card_locked');
    expect(await status(card)).to.equal('active');
    // The page says so with a link to the password reset, which unlocks the card.
    const lockedPage = await agent.post('/card/lost', { csrf: csrfFrom(form), card_number: card.number, password: card.password });
    expect(lockedPage.status).to.equal(423);
    expect(await lockedPage.text()).to.include('<p id="unlock"><a href="/card/password/reset">Reset your password to unlock the card</a></p>');
    const guardianRight = await postApplication(ts, { ...minor, email: `x${Date.now()}@example.com`, guardian_password: card.password }, ip);
    expect(guardianRight.status).to.equal(423);
    expect(await ts.db('audit_log').where({ action: 'card.locked', subject_id: card.cardId })).to.have.length(1);
  });

  it('gives the attempt back when the password was right, so a holder does not lock their own card', async () => {
    const card = await issueTestCard(ts);
    const ip = uniqueIp();
    for (let i = 0; i < 6; i++) {
      const res = await postJson('/api/cards/password', { card_number: card.number, password: card.password, new_password: 'password123' }, ip);
      expect(res.status).to.equal(400);
    }
    expect(await failures(card)).to.equal(0);
    const changed = await postJson('/api/cards/password', { card_number: card.number, password: card.password, new_password: 'Quiet copper meadow' }, ip);
    expect(changed.status).to.equal(200);
  });
});
