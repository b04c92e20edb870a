import { expect } from 'chai';
import { up } from '../../migrations/20261204100001_revoke_payment_refresh_tokens.ts';
import { upsertPayload } from '../../src/db/oidc-payloads.ts';
import type { Db } from '../../src/db/knex.ts';
import { connect } from '../helpers/db.ts';
import { testEnv } from '../helpers/global.ts';

/** The migration that removes refresh tokens issued to payment grants before they stopped getting them. */
describe('migration: refresh tokens of payment grants', () => {
  let db: Db;
  before(() => {
    db = connect(testEnv.databaseUrl, 2);
  });
  after(() => db.destroy());

  it('removes the refresh tokens of grants holding an approval, and keeps every other row', async () => {
    const tag = `${Date.now().toString(36)}`;
    await upsertPayload(db, 'Grant', `pay-${tag}`, { rar: [{ type: 'payment', amount: 100, approval_no: '1234-5678' }] }, 3600);
    await upsertPayload(db, 'Grant', `plain-${tag}`, { rar: [] }, 3600);
    await upsertPayload(db, 'Grant', `old-${tag}`, { openid: { scope: 'openid' } }, 3600);
    await upsertPayload(db, 'RefreshToken', `rt-pay-${tag}`, { grantId: `pay-${tag}` }, 3600);
    await upsertPayload(db, 'RefreshToken', `rt-plain-${tag}`, { grantId: `plain-${tag}` }, 3600);
    await upsertPayload(db, 'RefreshToken', `rt-old-${tag}`, { grantId: `old-${tag}` }, 3600);
    await upsertPayload(db, 'Session', `s-${tag}`, { grantId: `pay-${tag}` } as never, 3600);
    await up(db);
    const left = (await db('oidc_payloads').where('id', 'like', `%${tag}`).orderBy('id')).map((r: { model: string; id: string }) => `${r.model}:${r.id}`);
    expect(left).to.deep.equal([
      `Grant:old-${tag}`,
      `Grant:pay-${tag}`,
      `Grant:plain-${tag}`,
      `RefreshToken:rt-old-${tag}`,
      `RefreshToken:rt-plain-${tag}`,
      `Session:s-${tag}`,
    ]);
  });
});
