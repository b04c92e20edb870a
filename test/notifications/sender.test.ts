import { expect } from 'chai';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { sendDueNotifications } from '../../src/notifications/sender.ts';
import { close } from '../../src/server.ts';
import { startCardManager, type TestServer } from '../helpers/server.ts';

/**
 * The outbox sender of two instances on one database, as behind a load balancer: each drains the same outbox, and a
 * holder gets each message once, however long the gateway takes to take it.
 */
describe('the notification sender in two instances', () => {
  let a: TestServer;
  let b: TestServer;
  let gateway: Server;
  /** The Idempotency-Key of every SMS the gateway was given, in order. */
  const posted: string[] = [];
  /** The key whose next post the gateway keeps waiting, what it calls when that post arrives, and its answer's status. */
  let slow: { key: string; delayMs: number; arrived: () => void; status?: number } | undefined;

  before(async () => {
    gateway = createServer((req, res) => {
      void (async () => {
        for await (const _ of req);
        const key = String(req.headers['idempotency-key']);
        posted.push(key);
        const held = key === slow?.key ? slow : undefined;
        if (held) {
          slow = undefined; // that post only: another of the same message is answered at once
          held.arrived();
          await sleep(held.delayMs);
        }
        res.writeHead(held?.status ?? 200).end();
      })();
    });
    await new Promise<void>((resolve) => gateway.listen(0, '127.0.0.1', resolve));
    const webhookUrl = `http://127.0.0.1:${(gateway.address() as AddressInfo).port}/sms`;
    // databaseIdleInTransactionSeconds stands for production's 60 s: a gateway (or SMTP relay) slower than it to answer.
    const overrides = { databaseIdleInTransactionSeconds: 1, notifications: { sms: { transport: 'webhook', webhookUrl } } };
    a = await startCardManager(overrides);
    b = await startCardManager({ ...overrides, issuer: a.url });
  });
  after(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    gateway?.closeAllConnections();
    if (gateway) await close(gateway);
  });

  it('sends a message once when the gateway takes longer to answer than a transaction may stay idle, though the other instance drains meanwhile', async () => {
    const [row] = (await a.db('notifications_outbox')
      .insert({ account_id: null, channel: 'sms', recipient: '+821055501234', template: 'card_unblocked', data: JSON.stringify({ last4: '4321' }), locale: 'en' })
      .returning('id')) as Array<{ id: number }>;
    const key = `cybercard-outbox-${row!.id}`;
    let arrived!: () => void;
    const reached = new Promise<void>((resolve) => (arrived = resolve));
    slow = { key, delayMs: 2500, arrived };

    // Instance a starts sending it; the gateway holds the answer for 2.5 s.
    const drainA = sendDueNotifications(a.cm.notifications).catch((err: unknown) => err);
    await reached;
    // Instance b's sender comes round while a still waits for the gateway, past the idle limit.
    await sleep(1500);
    const drainB = await sendDueNotifications(b.cm.notifications).catch((err: unknown) => err);
    const fromA = await drainA;

    expect(posted.filter((k) => k === key), 'posts of the message to the gateway').to.have.length(1);
    expect(fromA).to.not.be.instanceOf(Error);
    expect(drainB).to.not.be.instanceOf(Error);
    const after = (await a.db('notifications_outbox').where({ id: row!.id }).first()) as { status: string; attempts: number };
    expect({ status: after.status, attempts: after.attempts }).to.deep.equal({ status: 'sent', attempts: 1 });
  });

  it("keeps a message sent by the other instance after its lease ran out when the first sender's attempt then fails: no third send", async () => {
    const [row] = (await a.db('notifications_outbox')
      .insert({ account_id: null, channel: 'sms', recipient: '+821055501235', template: 'card_unblocked', data: JSON.stringify({ last4: '4322' }), locale: 'en' })
      .returning('id')) as Array<{ id: number }>;
    const key = `cybercard-outbox-${row!.id}`;
    let arrived!: () => void;
    const reached = new Promise<void>((resolve) => (arrived = resolve));
    // Instance a's post is held, then refused: a send that outlasted its lease (a stalled relay, a paused process).
    slow = { key, delayMs: 1500, arrived, status: 503 };
    const drainA = sendDueNotifications(a.cm.notifications).catch((err: unknown) => err);
    await reached;
    // The lease runs out while a still waits; b claims the message and the gateway takes it.
    await a.db('notifications_outbox').where({ id: row!.id }).update({ next_attempt_at: a.db.fn.now() });
    expect(await sendDueNotifications(b.cm.notifications)).to.deep.equal({ sent: 1, failed: 0 });
    expect(await drainA).to.not.be.instanceOf(Error);

    const after = (await a.db('notifications_outbox').where({ id: row!.id }).first()) as { status: string };
    expect(after.status, "a's late failure must not make the sent message pending again").to.equal('sent');
    await a.db('notifications_outbox').where({ id: row!.id }).update({ next_attempt_at: a.db.fn.now() });
    await sendDueNotifications(a.cm.notifications);
    expect(posted.filter((k) => k === key), 'posts of the message to the gateway').to.have.length(2);
  });
});
