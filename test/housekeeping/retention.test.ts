import { expect } from 'chai';
import { randomBytes, randomUUID } from 'node:crypto';
import { deleteRetired } from '../../src/db/retention.ts';
import { startHousekeeping } from '../../src/housekeeping/start-housekeeping.ts';
import { createLogger } from '../../src/log.ts';
import { until } from '../helpers/directory.ts';
import { issueTestCard, registerTestSite, type TestCard, type TestSite } from '../helpers/fixtures.ts';
import { startCardManager, type TestServer } from '../helpers/server.ts';

const POLICY = { outboxDays: 90, idempotencyKeyDays: 30, oneTimeCodeDays: 1 };

describe('retention of rows that have served their purpose', () => {
  let ts: TestServer;
  let card: TestCard;
  let site: TestSite;

  before(async () => {
    ts = await startCardManager();
    card = await issueTestCard(ts);
    site = await registerTestSite(ts);
  });
  /** What the tests seeded and left (the kept rows): taken away again, since other test files share the outbox. */
  const seeded: Array<{ table: string; ids: ReadonlyArray<number | string> }> = [];
  after(async () => {
    for (const { table, ids } of seeded) await ts.db(table).whereIn('id', ids as never[]).del();
    await ts.stop();
  });

  /** Rows of each kind, some past their time and some not; returns their ids by what should happen to them. */
  async function seed(tag: string) {
    const ago = (days: number) => ts.db.raw(`now() - make_interval(days => ?)`, [days]);
    const outbox = async (status: string, days: number) =>
      Number(
        (
          await ts.db('notifications_outbox')
            .insert({ account_id: card.accountId, channel: 'email', recipient: `${tag}@example.test`, template: 'card_issued', status, created_at: ago(days) })
            .returning('id')
        )[0].id,
      );
    const logout = async (status: string, days: number) =>
      Number((await ts.db('backchannel_logouts').insert({ client_id: site.clientId, account_id: card.accountId, reason: 'card blocked', status, created_at: ago(days) }).returning('id'))[0].id);
    const event = async (status: string, days: number) =>
      Number(
        (
          await ts.db('approval_events')
            .insert({ client_id: site.clientId, jti: randomUUID(), event: 'https://cybercard.dev/events/approval-expired', payload: {}, approval_no: 'A1', status, created_at: ago(days) })
            .returning('id')
        )[0].id,
      );
    const key = async (days: number) =>
      Number((await ts.db('idempotency_keys').insert({ client_id: site.clientId, key: `${tag}-${days}-${randomUUID()}`, request_hash: 'h', created_at: ago(days) }).returning('id'))[0].id);
    const code = async (expiredDaysAgo: number) => {
      const id = randomUUID();
      await ts.db('one_time_codes').insert({
        id,
        account_id: card.accountId,
        card_id: card.cardId,
        purpose: 'lost_card',
        code_hash: randomBytes(32),
        created_at: ago(expiredDaysAgo + 1),
        expires_at: ago(expiredDaysAgo),
        consumed_at: ago(expiredDaysAgo + 1),
      });
      return id;
    };
    const change = async (expiredDaysAgo: number) => {
      const id = randomUUID();
      await ts.db('contact_changes').insert({
        id,
        account_id: card.accountId,
        card_id: card.cardId,
        new_email: `${tag}@example.test`,
        email_code_hash: randomBytes(32),
        proof_channel: 'sms',
        proof_code_hash: randomBytes(32),
        created_at: ago(expiredDaysAgo + 1),
        expires_at: ago(expiredDaysAgo),
      });
      return id;
    };
    const rows = {
      gone: {
        outbox: [await outbox('sent', 91), await outbox('failed', 200)],
        logouts: [await logout('sent', 91), await logout('failed', 200)],
        events: [await event('sent', 91), await event('failed', 200)],
        keys: [await key(31)],
        codes: [await code(2)],
        changes: [await change(2)],
      },
      kept: {
        outbox: [await outbox('sent', 10), await outbox('pending', 400)],
        logouts: [await logout('sent', 10), await logout('pending', 400)],
        events: [await event('sent', 10), await event('pending', 400)],
        keys: [await key(1)],
        codes: [await code(0)],
        changes: [await change(0)],
      },
    };
    for (const [table, ids] of [
      ['notifications_outbox', rows.kept.outbox],
      ['backchannel_logouts', rows.kept.logouts],
      ['approval_events', rows.kept.events],
      ['idempotency_keys', rows.kept.keys],
      ['one_time_codes', rows.kept.codes],
      ['contact_changes', rows.kept.changes],
    ] as const) {
      seeded.push({ table, ids });
    }
    return rows;
  }

  const present = async (table: string, ids: ReadonlyArray<number | string>) => (await ts.db(table).whereIn('id', ids as never[]).select('id')).length;

  it('deletes sent and failed notifications, back-channel logouts and approval events, idempotency keys and one-time codes past their time, and nothing else', async () => {
    const rows = await seed('direct');
    const auditBefore = Number((await ts.db('audit_log').count({ n: '*' }).first())!.n);
    const counts = await deleteRetired(ts.db, POLICY, 1);
    expect(counts.outbox).to.be.at.least(2);
    expect(counts.backchannelLogouts).to.be.at.least(2);
    expect(counts.approvalEvents).to.be.at.least(2);
    expect(counts.idempotencyKeys).to.be.at.least(1);
    expect(counts.oneTimeCodes).to.be.at.least(1);
    expect(counts.contactChanges).to.be.at.least(1);
    expect(await present('notifications_outbox', rows.gone.outbox)).to.equal(0);
    expect(await present('backchannel_logouts', rows.gone.logouts)).to.equal(0);
    expect(await present('approval_events', rows.gone.events)).to.equal(0);
    expect(await present('idempotency_keys', rows.gone.keys)).to.equal(0);
    expect(await present('one_time_codes', rows.gone.codes)).to.equal(0);
    expect(await present('contact_changes', rows.gone.changes)).to.equal(0);
    expect(await present('notifications_outbox', rows.kept.outbox), 'recent and pending messages').to.equal(2);
    expect(await present('backchannel_logouts', rows.kept.logouts), 'recent and pending logouts').to.equal(2);
    expect(await present('approval_events', rows.kept.events), 'recent and pending approval events').to.equal(2);
    expect(await present('idempotency_keys', rows.kept.keys)).to.equal(1);
    expect(await present('one_time_codes', rows.kept.codes)).to.equal(1);
    expect(await present('contact_changes', rows.kept.changes)).to.equal(1);
    expect(Number((await ts.db('audit_log').count({ n: '*' }).first())!.n), 'the audit log is the record').to.equal(auditBefore);
    expect(await deleteRetired(ts.db, POLICY)).to.deep.equal({ outbox: 0, backchannelLogouts: 0, approvalEvents: 0, idempotencyKeys: 0, oneTimeCodes: 0, contactChanges: 0 });
  });

  it("deletes operators' idempotency keys past their time as the member sites', and keeps recent ones", async () => {
    const key = (days: number, name: string) =>
      ts
        .db('operator_idempotency_keys')
        .insert({ actor: 'operator:alice', key: name, request_hash: 'h', status: 201, response: '{}', created_at: ts.db.raw('now() - make_interval(days => ?)', [days]) })
        .returning('id')
        .then((r: Array<{ id: string }>) => r[0]!.id);
    const old = await key(POLICY.idempotencyKeyDays + 1, `old-${Date.now()}`);
    const recent = await key(0, `recent-${Date.now()}`);
    const counts = await deleteRetired(ts.db, POLICY);
    expect(counts.idempotencyKeys).to.be.at.least(1);
    expect(await present('operator_idempotency_keys', [old])).to.equal(0);
    expect(await present('operator_idempotency_keys', [recent])).to.equal(1);
    await ts.db('operator_idempotency_keys').where({ id: recent }).delete();
  });

  it('runs soon after an instance starts, not only a whole interval later (instances restarted more often would never run it)', async () => {
    const rows = await seed('first');
    const stop = startHousekeeping(ts.db, createLogger('silent'), { ...POLICY, intervalSeconds: 3600, adultAge: 19, timeZone: ts.config.billing.timeZone }, { firstRunMs: 50 });
    try {
      await until(async () => (await present('contact_changes', rows.gone.changes)) === 0, 'the first retention run', 5000);
      expect(await present('notifications_outbox', rows.kept.outbox)).to.equal(2);
    } finally {
      stop();
    }
  });

  it('runs on its own in a server with retention.intervalSeconds set', async () => {
    const other = await startCardManager({ retention: { intervalSeconds: 1 } });
    try {
      const rows = await seed('job');
      // A run deletes table after table: wait for the last of them.
      await until(async () => (await present('contact_changes', rows.gone.changes)) === 0, 'the retention job ran', 5000);
      expect(await present('notifications_outbox', rows.gone.outbox)).to.equal(0);
      expect(await present('idempotency_keys', rows.gone.keys)).to.equal(0);
      expect(await present('notifications_outbox', rows.kept.outbox)).to.equal(2);
    } finally {
      await other.stop();
    }
  });
});
