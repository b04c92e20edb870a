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
  /** The key whose post the gateway keeps waiting, and what it calls when that post arrives. */
  let slow: { key: string; delayMs: number; arrived: () => void } | undefined;

  before(async () => {
    gateway = createServer((req, res) => {
      void (async () => {
        for await (const _ of req);
        const key = String(req.headers['idempotency-key']);
        posted.push(key);
        if (key === slow?.key) {
          slow.arrived();
          await sleep(slow.delayMs);
        }
        res.writeHead(200).end();
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
});
