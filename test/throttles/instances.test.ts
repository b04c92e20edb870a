import { expect } from 'chai';
import { APPLY_SERVER, issueByApplication, uniqueIp } from '../helpers/applicant.ts';
import { startCardManager, type TestServer } from '../helpers/server.ts';

/**
 * Two instances on one database, as behind a load balancer: wrong passwords sent to either count against one lockout,
 * kept in PostgreSQL, and the lock one instance sets holds on the other at once.
 */
describe('the card lockout across two instances', () => {
  let a: TestServer;
  let b: TestServer;

  before(async () => {
    a = await startCardManager(APPLY_SERVER);
    b = await startCardManager({ ...APPLY_SERVER, issuer: a.url });
  });
  after(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
  });

  async function reportLost(ts: TestServer, number: string, password: string) {
    const res = await fetch(`${ts.url}/api/cards/lost`, {
      method: 'POST',
      // Each guess from its own address: the per-source throttle stays out of it, only the card's count decides.
      headers: { 'content-type': 'application/json', 'x-forwarded-for': uniqueIp() },
      body: JSON.stringify({ card_number: number, password }),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  }

  it('locks the card on the fifth wrong password whichever instances got them, and both refuse the right one then', async () => {
    const issued = await issueByApplication(a);
    const card = { number: issued.cardNumber, password: issued.password, cardId: issued.cardId };
    const statuses: number[] = [];
    for (const [i, ts] of [a, b, a, b, a].entries()) statuses.push((await reportLost(ts, card.number, `wrong ${i}`)).status);
    expect(statuses).to.deep.equal([401, 401, 401, 401, 423]);
    for (const ts of [b, a]) {
      const right = await reportLost(ts, card.number, card.password);
      expect([right.status, right.body.error]).to.deep.equal([423, 'card_locked']);
    }
    expect((await a.db('cards').where({ id: card.cardId }).first()).status).to.equal('active');
    expect(await a.db('audit_log').where({ action: 'card.locked', subject_id: card.cardId })).to.have.length(1);
    // The holder is told once, by email and by SMS.
    expect(await a.db('notifications_outbox').where({ account_id: issued.accountId, template: 'card_locked' })).to.have.length(2);
  });
});
