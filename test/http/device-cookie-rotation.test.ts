import { expect } from 'chai';
import { startCardManager, type TestServer } from '../helpers/server.ts';

const OLD = 'old-cookie-key-'.padEnd(40, 'o');
const NEW = 'new-cookie-key-'.padEnd(40, 'n');

/** Asks for a lost-card code (a throttled attempt, which reads the device cookie) and answers the cookies set. */
async function askForCode(ts: TestServer, cookie?: string): Promise<string[]> {
  const res = await fetch(`${ts.url}/api/cards/lost/code`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(cookie ? { cookie } : {}) },
    body: JSON.stringify({ card_number: '9405120000000008' }),
  });
  expect(res.status).to.equal(202);
  return res.headers.getSetCookie();
}

describe('the device cookie across a rotation of COOKIE_KEYS', () => {
  let before: TestServer;
  let after: TestServer;
  beforeEach(async () => {
    before = await startCardManager({}, { env: { COOKIE_KEYS: OLD } });
    after = await startCardManager({}, { env: { COOKIE_KEYS: `${NEW},${OLD}` } });
  });
  afterEach(async () => {
    await before.stop();
    await after.stop();
  });

  it('keeps the device id, signed again under the new key for its whole life, not for the browser session', async () => {
    const first = await askForCode(before);
    const cookie = first.map((l) => l.split(';')[0]).join('; ');
    const device = first.find((l) => l.startsWith('cc.device='))!.split(';')[0];
    expect(first.find((l) => l.startsWith('cc.device.sig='))).to.match(/expires=/i);

    const again = await askForCode(after, cookie);
    expect(again.find((l) => l.startsWith('cc.device='))?.split(';')[0] ?? device).to.equal(device);
    const sig = again.filter((l) => l.startsWith('cc.device.sig='));
    expect(sig).to.have.length(1);
    expect(sig[0]).to.match(/expires=/i);
    expect(sig[0]).to.match(/samesite=lax/i);
    expect(sig[0]).to.match(/httponly/i);

    // Under the new key alone (the old one dropped later), the cookie still verifies: the same device.
    const cookieAfter = [device, sig[0]!.split(';')[0]].join('; ');
    const newOnly = await startCardManager({}, { env: { COOKIE_KEYS: NEW } });
    try {
      expect((await askForCode(newOnly, cookieAfter)).filter((l) => l.startsWith('cc.device'))).to.deep.equal([]);
    } finally {
      await newOnly.stop();
    }
  });
});
