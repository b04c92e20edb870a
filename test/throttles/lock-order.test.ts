import { expect } from 'chai';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Db, Trx } from '../../src/db/knex.ts';
import { deleteStaleThrottles, releaseAttempt, type ThrottleKey } from '../../src/db/throttles.ts';
import { connect } from '../helpers/db.ts';
import { testEnv } from '../helpers/global.ts';

/**
 * Every statement on the throttles locks its rows in one order (the sources, ip then device, then the
 * card), as the reservation does. A release that locked the card first deadlocked with a reservation
 * for the same card from the same address (seen under load: one login of a pair waited a second for
 * PostgreSQL's deadlock detector and failed).
 */
describe('throttle row lock order', () => {
  let db: Db;
  const tag = `${process.pid}-${Date.now().toString(36)}`;
  const keys: ThrottleKey[] = [
    { scope: 'card', key: `card-${tag}` },
    { scope: 'device', key: `device-${tag}` },
    { scope: 'ip', key: `ip-${tag}` },
  ];

  before(async () => {
    db = connect(testEnv.databaseUrl, 6);
    await db('throttles').insert(keys.map((k) => ({ ...k, count: 2, window_start: db.fn.now(), updated_at: db.fn.now() })));
  });
  after(async () => {
    await db('throttles').whereIn(['scope', 'key'], keys.map((k) => [k.scope, k.key])).delete();
    await db.destroy();
  });

  /** Whether another transaction could take this row's lock right now. */
  async function locked(k: ThrottleKey): Promise<boolean> {
    const probe = await db.transaction();
    try {
      await probe.raw('SELECT 1 FROM throttles WHERE scope = ? AND key = ? FOR UPDATE NOWAIT', [k.scope, k.key]);
      return false;
    } catch (err) {
      if ((err as { code?: string }).code === '55P03') return true;
      throw err;
    } finally {
      await probe.rollback();
    }
  }

  it('releases in the reservation\'s order: the sources are locked before it waits for the card', async () => {
    // Another attempt holds the card row, as a reservation for the same card would.
    const holder: Trx = await db.transaction();
    await holder.raw('SELECT 1 FROM throttles WHERE scope = ? AND key = ? FOR UPDATE', ['card', `card-${tag}`]);
    const releaser: Trx = await db.transaction();
    const releasing = releaseAttempt(releaser, keys);
    await sleep(200);
    try {
      // A release locking the card first would be waiting for it with the ip row still free.
      expect(await locked({ scope: 'ip', key: `ip-${tag}` })).to.equal(true);
      expect(await locked({ scope: 'device', key: `device-${tag}` })).to.equal(true);
    } finally {
      await holder.rollback();
      await releasing;
      await releaser.rollback();
    }
  });

  it('sweeps stale rows without waiting for a row an attempt holds', async () => {
    await db('throttles').whereIn(['scope', 'key'], keys.map((k) => [k.scope, k.key])).update({ updated_at: db.raw("now() - interval '2 days'") });
    const holder: Trx = await db.transaction();
    await holder.raw('SELECT 1 FROM throttles WHERE scope = ? AND key = ? FOR UPDATE', ['ip', `ip-${tag}`]);
    try {
      const swept = await Promise.race([deleteStaleThrottles(db, 3600, 3600), sleep(3000).then(() => 'waited')]);
      expect(swept).to.be.a('number');
      const left = await db('throttles').whereIn(['scope', 'key'], keys.map((k) => [k.scope, k.key])).select('scope');
      expect(left.map((r: { scope: string }) => r.scope)).to.deep.equal(['ip']);
    } finally {
      await holder.rollback();
    }
  });
});
