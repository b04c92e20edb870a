import { expect } from 'chai';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { up } from '../../migrations/20261208121938_contacts_names_normal_form.ts';
import { checkApplication } from '../../src/db/applications.ts';
import { openDb, type Db } from '../../src/db/knex.ts';
import { migrateLatest } from '../../src/db/migrate.ts';
import { connect } from '../helpers/db.ts';
import { testEnv } from '../helpers/global.ts';

/**
 * The migration that rewrites mobiles stored with the Korean trunk 0 (+82010…) and names stored with ’ to today's
 * normal form: on PostgreSQL and on the embedded PGlite alike, after which the duplicate and same-person checks of a
 * new application (which writes the normal form) find the old rows.
 */
describe("migration: older rows' mobiles and names in today's normal form", function () {
  this.timeout(120_000);

  async function rewrites(db: Db) {
    const digits = String(10_000_000 + (randomBytes(4).readUInt32BE() % 89_999_999));
    const oldMobile = `+82010${digits}`;
    const newMobile = `+8210${digits}`;
    const family = `Twice${randomBytes(3).toString('hex')}`;
    const oldName = `O’Brien ${family}`;
    const birthdate = '1969-07-21';
    // An account with an active card, as an older version stored it; and one from another country that keeps its 0.
    const accountId = randomUUID();
    await db('accounts').insert({ id: accountId, legal_name: oldName, birthdate, email: `${family}@example.test`, mobile: oldMobile });
    await db('cards').insert({ id: randomUUID(), account_id: accountId, number_hmac: randomBytes(32), last4: '1234', password_hash: 'x', status: 'active' });
    const applicationId = randomUUID();
    await db('applications').insert({
      id: applicationId, status: 'rejected', reason: 'duplicate_email', legal_name: oldName, birthdate, email: `${family}@example.test`, mobile: oldMobile, decided_at: new Date(), ip: '192.0.2.1', ip_key: '192.0.2.1',
    });
    const italian = randomUUID();
    const italianMobile = `+390${digits}`;
    await db('accounts').insert({ id: italian, legal_name: 'Rossi Mario', birthdate, mobile: italianMobile });

    // A new application, in today's form: the number as +8210…, the name with a plain apostrophe.
    const check = () =>
      checkApplication(db, { ip: '192.0.2.1', email: `new-${family}@example.test`, mobile: newMobile, person: { legalName: `O'Brien ${family}`, birthdate, adult: true } });
    const before = await check();
    expect({ mobile: before.mobileInUse, person: before.personInUse }, 'before').to.deep.equal({ mobile: false, person: false });

    await up(db);
    expect(await db('accounts').where({ id: accountId }).first()).to.include({ mobile: newMobile, legal_name: `O'Brien ${family}` });
    expect(await db('applications').where({ id: applicationId }).first()).to.include({ mobile: newMobile, legal_name: `O'Brien ${family}` });
    expect(await db('accounts').where({ id: italian }).first()).to.include({ mobile: italianMobile });
    const after = await check();
    expect({ mobile: after.mobileInUse, person: after.personInUse }, 'after').to.deep.equal({ mobile: true, person: true });

    // Run again (a second instance, a re-run): nothing more to rewrite.
    await up(db);
    expect(await db('accounts').where({ id: accountId }).first()).to.include({ mobile: newMobile, legal_name: `O'Brien ${family}` });
  }

  it('rewrites them on PostgreSQL', async () => {
    const db = connect(testEnv.databaseUrl, 2);
    try {
      await rewrites(db);
    } finally {
      await db.destroy();
    }
  });

  it('rewrites them on the embedded PGlite, where it runs among the other migrations', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'cybercard-normal-form-'));
    const db = openDb({ databaseUrl: null, dataDir: dir });
    try {
      await migrateLatest(db);
      await rewrites(db);
    } finally {
      await db.destroy();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
