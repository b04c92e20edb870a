import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { up } from '../../migrations/20261206940001_clean_directory_names.ts';
import { openDb, type Db } from '../../src/db/knex.ts';
import { migrateLatest } from '../../src/db/migrate.ts';
import { connect } from '../helpers/db.ts';
import { testEnv } from '../helpers/global.ts';

/**
 * The migration that cleans member-site and resource-server names stored before control and bidirectional characters
 * were refused: on PostgreSQL and on the embedded PGlite alike, each renamed row audited with the name it had.
 */
describe('migration: control characters out of stored site and resource-server names', function () {
  this.timeout(120_000);

  /** Stores names the registration would refuse today, as an older version let them in, runs the migration, and checks. */
  async function cleans(db: Db) {
    const tag = randomBytes(4).toString('hex');
    const sites: Array<[string, string, string]> = [
      [`rtl-${tag}`, 'Kids \u202Egnippohs\u202C Shop', 'Kids gnippohs Shop'],
      [`lines-${tag}`, 'Shop\r\nVideos\tHD', 'Shop Videos HD'],
      [`csi-${tag}`, '\u009B31mRed\u001B[0m Site', '31mRed[0m Site'],
      [`empty-${tag}`, '\u2066\u2069', `empty-${tag}`],
      [`fine-${tag}`, 'Plain Site \u200F', 'Plain Site \u200F'],
    ];
    for (const [clientId, name] of sites) {
      await db('member_sites').insert({ client_id: clientId, name, token_endpoint_auth_method: 'client_secret_basic', redirect_uris: JSON.stringify(['https://x.example.test/cb']) });
    }
    const resource = `https://api-${tag}.example.test/`;
    await db('resource_servers').insert({ identifier: resource, name: 'Videos\u202E (read)', scope: 'read' });
    const fine = `https://fine-${tag}.example.test/`;
    await db('resource_servers').insert({ identifier: fine, name: 'Fine API', scope: '' });

    await up(db);

    const names = Object.fromEntries((await db('member_sites').whereIn('client_id', sites.map(([id]) => id)).select('client_id', 'name')).map((r) => [r.client_id, r.name]));
    expect(names).to.deep.equal(Object.fromEntries(sites.map(([id, , to]) => [id, to])));
    const rs = Object.fromEntries((await db('resource_servers').whereIn('identifier', [resource, fine]).select('identifier', 'name')).map((r) => [r.identifier, r.name]));
    expect(rs).to.deep.equal({ [resource]: 'Videos (read)', [fine]: 'Fine API' });

    const audited = await db('audit_log')
      .whereIn('subject_id', [...sites.map(([id]) => id), resource, fine])
      // The migration reads the rows in whatever order PostgreSQL keeps them: the entries by what they are about.
      .orderBy(['action', 'subject_id'])
      .select('actor', 'action', 'subject_id', 'details');
    expect(audited.map((e) => [e.actor, e.action, e.subject_id, e.details.from, e.details.to])).to.deep.equal([
      ['system', 'member_site.name_cleaned', `csi-${tag}`, '\\u009B31mRed\\u001B[0m Site', '31mRed[0m Site'],
      ['system', 'member_site.name_cleaned', `empty-${tag}`, '\\u2066\\u2069', `empty-${tag}`],
      ['system', 'member_site.name_cleaned', `lines-${tag}`, 'Shop\\u000D\\u000AVideos\\u0009HD', 'Shop Videos HD'],
      ['system', 'member_site.name_cleaned', `rtl-${tag}`, 'Kids \\u202Egnippohs\\u202C Shop', 'Kids gnippohs Shop'],
      ['system', 'resource_server.name_cleaned', resource, 'Videos\\u202E (read)', 'Videos (read)'],
    ]);
    // Run again (a second instance, a re-run): nothing left to clean, nothing audited twice.
    await up(db);
    const again = await db('audit_log').whereIn('subject_id', [...sites.map(([id]) => id), resource]).count({ n: '*' }).first();
    expect(Number(again!.n)).to.equal(audited.length);
  }

  it('cleans them on PostgreSQL', async () => {
    const db = connect(testEnv.databaseUrl, 2);
    try {
      await cleans(db);
    } finally {
      await db.destroy();
    }
  });

  it('cleans them on the embedded PGlite, where it runs among the other migrations', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'cybercard-clean-names-'));
    const db = openDb({ databaseUrl: null, dataDir: dir });
    try {
      await migrateLatest(db);
      await cleans(db);
    } finally {
      await db.destroy();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
