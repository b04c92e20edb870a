import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { findMemberSite } from '../../src/db/member-sites.ts';
import { seedDemo } from '../../src/dev/seed-demo.ts';
import { startCardManager, type TestServer } from '../helpers/server.ts';

describe('the demo seed of npm start', () => {
  let ts: TestServer;
  let dir: string;

  before(async () => {
    ts = await startCardManager();
    dir = mkdtempSync(path.join(tmpdir(), 'cybercard-seed-'));
  });
  after(async () => {
    await ts.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('registers the demo site and card once, and moves the site with the demo URL on a later start', async () => {
    const first = await seedDemo(ts.cm.cards, dir, 'http://localhost:3001');
    expect((await findMemberSite(ts.db, first.clientId))!.redirectUris).to.deep.equal(['http://localhost:3001/callback']);
    const again = await seedDemo(ts.cm.cards, dir, 'http://localhost:3471');
    expect(again).to.deep.equal(first);
    const site = (await findMemberSite(ts.db, first.clientId))!;
    expect(site.redirectUris).to.deep.equal(['http://localhost:3471/callback']);
    expect(site.postLogoutRedirectUris).to.deep.equal(['http://localhost:3471/']);
    // Its sessions end with the holder's at the card manager: its back-channel logout URI moves too.
    expect(site).to.include({ backchannelLogoutUri: 'http://localhost:3471/backchannel-logout', backchannelLogoutSessionRequired: true, approvalEventsUri: 'http://localhost:3471/approval-events' });
  });
});
