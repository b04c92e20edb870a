import { expect } from 'chai';
import { listAudit } from '../../src/db/audit-log.ts';
import { APPLY_SERVER, application, issueByApplication, postApplication } from '../helpers/applicant.ts';
import { startCardManager, type TestServer } from '../helpers/server.ts';

type Step = [from: string, to: string, actor: string, reason: string];

describe('the audit trail of a card', () => {
  let ts: TestServer;
  let operator: Record<string, string>;
  let started: Date;

  before(async () => {
    ts = await startCardManager({
      ...APPLY_SERVER,
      cards: { ...APPLY_SERVER.cards, denyList: { action: 'review', names: ['* reviewson'], emails: [], mobiles: [] } },
    });
    operator = { authorization: `Bearer ${ts.config.secrets.operatorToken}`, 'content-type': 'application/json' };
    started = new Date(Date.now() - 1000);
  });
  after(() => ts?.stop());

  async function admin(path: string, body?: Record<string, unknown>): Promise<{ status: number; body: Record<string, unknown> }> {
    const res = await fetch(`${ts.url}/admin/api${path}`, {
      method: body ? 'POST' : 'GET',
      headers: operator,
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  }

  async function queued(): Promise<{ applicationId: string; cardId: string; number: string; password: string }> {
    const app = application({ legal_name: 'Audit Reviewson' });
    const { status, body } = await postApplication(ts, app);
    expect(status).to.equal(202);
    return { applicationId: String(body.application_id), cardId: String(body.card_id), number: String(body.card_number), password: String(app.password) };
  }

  /** The card's status changes as [from, to, actor, reason], checking each has a time within the test. */
  async function steps(cardId: string): Promise<Step[]> {
    const entries = (await listAudit(ts.db, 'card', cardId)).filter((e) => e.action === 'card.status_changed');
    for (const e of entries) {
      expect(e.at).to.be.instanceOf(Date);
      expect(e.at.getTime()).to.be.within(started.getTime(), Date.now() + 1000);
    }
    return entries.map((e) => [String(e.details?.from), String(e.details?.to), e.actor, String(e.details?.reason)]);
  }

  it('records every allowed transition with actor, reason and time', async () => {
    // pending → active → suspended → active → lost → closed
    const a = await queued();
    expect((await admin(`/applications/${a.applicationId}/approve`, { reason: 'passport seen' })).status).to.equal(200);
    expect((await admin(`/cards/${a.cardId}/block`, { reason: 'suspicious payments' })).status).to.equal(200);
    expect((await admin(`/cards/${a.cardId}/unblock`, { reason: 'holder confirmed the payments' })).status).to.equal(200);
    const lost = await fetch(`${ts.url}/api/cards/lost`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ card_number: a.number, password: a.password }),
    });
    expect(lost.status).to.equal(200);
    expect((await admin(`/cards/${a.cardId}/close`, { reason: 'holder moved abroad' })).status).to.equal(200);
    expect(await steps(a.cardId)).to.deep.equal([
      ['pending', 'active', 'operator', 'application approved: passport seen'],
      ['active', 'suspended', 'operator', 'suspicious payments'],
      ['suspended', 'active', 'operator', 'holder confirmed the payments'],
      ['active', 'lost', `card:${a.cardId}`, 'reported lost by the holder'],
      ['lost', 'closed', 'operator', 'holder moved abroad'],
    ]);

    // pending → closed
    const b = await queued();
    expect((await admin(`/applications/${b.applicationId}/reject`, { reason: 'identity not confirmed' })).status).to.equal(200);
    expect(await steps(b.cardId)).to.deep.equal([['pending', 'closed', 'operator', 'application rejected: identity not confirmed']]);

    // active (automatic) → suspended → lost; active → closed; suspended → closed
    const c = await issueByApplication(ts);
    await admin(`/cards/${c.cardId}/block`, { reason: 'fraud check' });
    await admin(`/cards/${c.cardId}/lost`, { reason: 'holder phoned: stolen' });
    const d = await issueByApplication(ts);
    await admin(`/cards/${d.cardId}/close`, { reason: 'holder asked' });
    const e = await issueByApplication(ts);
    await admin(`/cards/${e.cardId}/block`, { reason: 'fraud check' });
    await admin(`/cards/${e.cardId}/close`, { reason: 'fraud confirmed' });
    expect(await steps(c.cardId)).to.deep.equal([
      ['pending', 'active', 'system', 'application approved automatically'],
      ['active', 'suspended', 'operator', 'fraud check'],
      ['suspended', 'lost', 'operator', 'holder phoned: stolen'],
    ]);
    expect((await steps(d.cardId)).slice(1)).to.deep.equal([['active', 'closed', 'operator', 'holder asked']]);
    expect((await steps(e.cardId)).slice(1)).to.deep.equal([
      ['active', 'suspended', 'operator', 'fraud check'],
      ['suspended', 'closed', 'operator', 'fraud confirmed'],
    ]);
  });

  it('records a reissue on both cards, and refuses (without recording) a transition the life cycle forbids', async () => {
    const h = await issueByApplication(ts);
    await admin(`/cards/${h.cardId}/lost`, { reason: 'stolen bag' });
    const back = await admin(`/cards/${h.cardId}/unblock`, { reason: 'found it' });
    expect(back.status).to.equal(409);
    expect(back.body.error).to.equal('invalid_transition');
    const reissued = await admin(`/cards/${h.cardId}/reissue`, { reason: 'after theft' });
    expect(reissued.status).to.equal(201);
    const newCardId = String(reissued.body.id);
    expect(await steps(h.cardId)).to.deep.equal([
      ['pending', 'active', 'system', 'application approved automatically'],
      ['active', 'lost', 'operator', 'stolen bag'],
    ]);
    expect(await steps(newCardId)).to.deep.equal([['pending', 'active', 'operator', 'reissued: after theft']]);
    const old = await listAudit(ts.db, 'card', h.cardId);
    expect(old.at(-1)).to.include({ action: 'card.reissued', actor: 'operator' });
    expect(old.at(-1)!.details).to.include({ newCardId, reason: 'after theft' });

    // The operator sees the holder's whole trail, over both cards, through the API.
    const trail = await admin(`/cards/${newCardId}/audit`);
    const entries = trail.body.entries as Array<{ action: string; subject_id: string; actor: string; at: string; details: Record<string, unknown> }>;
    const changes = entries.filter((x) => x.action === 'card.status_changed');
    expect(changes.map((x) => [x.subject_id, x.details.to])).to.deep.equal([
      [h.cardId, 'active'],
      [h.cardId, 'lost'],
      [newCardId, 'active'],
    ]);
    for (const x of entries) expect(Date.parse(x.at)).to.be.a('number').and.not.NaN;
    expect(JSON.stringify(entries)).to.not.include(h.cardNumber);
    expect(JSON.stringify(entries)).to.not.include(String(reissued.body.card_number));
  });

  it('cannot be changed or deleted, even with direct SQL', async () => {
    const h = await issueByApplication(ts);
    const [row] = await ts.db('audit_log').where({ subject_type: 'card', subject_id: h.cardId }).limit(1);
    let update: unknown;
    try {
      await ts.db('audit_log').where({ id: row.id }).update({ actor: 'someone else' });
    } catch (err) {
      update = err;
    }
    expect(String(update)).to.include('append-only');
    let del: unknown;
    try {
      await ts.db('audit_log').where({ id: row.id }).delete();
    } catch (err) {
      del = err;
    }
    expect(String(del)).to.include('append-only');
  });
});
