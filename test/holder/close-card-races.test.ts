import { expect } from 'chai';
import { checkLedger } from '../../src/ledger/check-ledger.ts';
import type { ForwardedAgent } from '../helpers/agent.ts';
import { registerTestSite, type TestCard, type TestSite } from '../helpers/fixtures.ts';
import { signedInHolder } from '../helpers/holder.ts';
import type { TestServer } from '../helpers/server.ts';
import { approveFor, cardWithLimit, operator, startLedgerServer } from '../ledger/fixtures.ts';

/** A holder's close racing itself, the operator and a payment: one effect, and books that still add up. */
describe('a holder closes their card: replays and races', () => {
  let ts: TestServer;
  let site: TestSite;

  before(async () => {
    ts = await startLedgerServer();
    site = await registerTestSite(ts, { name: 'Race Track' } as never);
  });
  after(() => ts?.stop());

  /** The card's status changes since it was issued (its activation is one too). */
  const statusChanges = (c: TestCard) => ts.db('audit_log').where({ subject_id: c.cardId, action: 'card.status_changed' }).whereRaw(`details->>'from' <> 'pending'`);
  const closedMessages = (c: TestCard) => ts.db('notifications_outbox').where({ account_id: c.accountId, template: 'card_closed' });

  function closeByApi(agent: ForwardedAgent, card: TestCard) {
    return agent.request('/api/holder/close', {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ password: card.password, confirm: true }),
    });
  }

  it('closes once when the same close is posted twice at once', async () => {
    const card = await cardWithLimit(ts, 100_000);
    const agent = await signedInHolder(ts.url, card);
    const answers = await Promise.all([closeByApi(agent, card), closeByApi(agent, card)]);
    const statuses = answers.map((r) => r.status);
    expect(statuses).to.include(200);
    for (const s of statuses) expect([200, 401], String(statuses)).to.include(s);
    expect((await ts.db('cards').where({ id: card.cardId }).first()).status).to.equal('closed');
    expect(await statusChanges(card)).to.have.length(1);
    expect((await closedMessages(card)).length).to.be.at.most(2); // one per channel, sent once
    const channels = (await closedMessages(card)).map((m) => m.channel);
    expect(new Set(channels).size).to.equal(channels.length);
  });

  it('lets exactly one of a holder’s close and an operator’s block win when they come at once', async () => {
    for (let i = 0; i < 3; i++) {
      const card = await cardWithLimit(ts, 100_000);
      const agent = await signedInHolder(ts.url, card);
      const [holder, op] = await Promise.all([closeByApi(agent, card), operator(ts, 'POST', `/admin/api/cards/${card.cardId}/block`, { reason: 'fraud check' })]);
      const status = (await ts.db('cards').where({ id: card.cardId }).first()).status as string;
      const changes = await statusChanges(card);
      expect(changes, `${holder.status} ${op.status}`).to.have.length(1);
      if (status === 'closed') {
        expect(holder.status).to.equal(200);
        expect(op.status).to.equal(409);
      } else {
        expect(status).to.equal('suspended');
        expect(op.status).to.equal(200);
        // The holder's close found the card suspended (or its session gone with it): refused, never a 500.
        expect([401, 409]).to.include(holder.status);
      }
    }
  });

  it('keeps the books adding up when payments are approved while the card closes', async () => {
    const card = await cardWithLimit(ts, 1_000_000);
    const agent = await signedInHolder(ts.url, card);
    const payments = Array.from({ length: 6 }, (_, i) => approveFor(ts, card, site, 1_000 + i).then(
      (a) => ({ ok: true as const, id: a.id }),
      (err: unknown) => ({ ok: false as const, code: (err as { refusal?: string }).refusal }),
    ));
    const [closed, ...outcomes] = await Promise.all([closeByApi(agent, card), ...payments]);
    expect(closed.status).to.equal(200);
    for (const o of outcomes) if (!o.ok) expect(o.code).to.equal('card_inactive');
    // Every payment recorded is recorded whole: its hold posted and counted in the account.
    const recorded = outcomes.filter((o) => o.ok).length;
    expect(Number((await ts.db('approvals').where({ card_id: card.cardId }).count({ n: '*' }))[0]!.n)).to.equal(recorded);
    const check = await checkLedger(ts.db);
    expect(check.findings, JSON.stringify(check.findings)).to.deep.equal([]);
    // After the close nothing more is approved.
    const after = await approveFor(ts, card, site, 500).then(() => 'approved', (err: unknown) => (err as { refusal?: string }).refusal);
    expect(after).to.equal('card_inactive');
  });
});
