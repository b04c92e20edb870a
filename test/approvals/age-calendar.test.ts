import { expect } from 'chai';
import { decodeJwt } from 'jose';
import * as client from 'openid-client';
import { releaseGrownWards } from '../../src/cards/release-grown-wards.ts';
import { operatorHolder } from '../../src/cards/create-card.ts';
import { ValidationError } from '../../src/errors.ts';
import { Agent, runLogin } from '../helpers/agent.ts';
import { authRequest, issueTestCard, registerTestSite, siteClient, type TestCard } from '../helpers/fixtures.ts';
import { startCardManager, type TestServer } from '../helpers/server.ts';

const AGE_19 = JSON.stringify({ id_token: { age_over_19: { essential: true } } });
/** 01:00 on 7 December in Seoul, still 6 December in UTC. */
const SEOUL_AFTER_MIDNIGHT = '2026-12-06T16:00:00Z';
/** 19:00 on 6 December in Los Angeles, already 7 December in UTC. */
const LA_EVENING = '2026-12-07T03:00:00Z';

/**
 * A birthday begins at midnight on the calendar of billing.timeZone, for every age decision alike: the application
 * (test/cards/apply-evasion.test.ts), the age gate of a rated site or request, the age_over_NN claims, the guardian
 * link's end at coming of age and the operator's issuance. In UTC it began nine hours late in Seoul and, west of UTC,
 * hours early. Each test failed before the age gate, the claims and the release counted in that zone.
 */
describe('ages on the calendar of billing.timeZone', () => {
  /** A server whose clock stands at `instant`, with ages counted in `timeZone`, a 19+ site and an unrated one. */
  async function at(instant: string, timeZone: string, check: (w: World) => Promise<void>) {
    const ts = await startCardManager({ billing: { timeZone } }, { now: () => new Date(instant) });
    try {
      const rated = await registerTestSite(ts, { contentRating: 19 });
      const unrated = await registerTestSite(ts);
      await check({ ts, rated: { site: rated, config: await siteClient(ts, rated) }, unrated: { site: unrated, config: await siteClient(ts, unrated) } });
    } finally {
      await ts.stop();
    }
  }
  type Site = { site: Awaited<ReturnType<typeof registerTestSite>>; config: client.Configuration };
  type World = { ts: TestServer; rated: Site; unrated: Site };

  /** How a login of the holder born on `birthdate` ends: the ID token's and access token's age_over_19, or the refusal's status. */
  async function enter(w: World, at: Site, birthdate: string, params: Record<string, string> = {}) {
    const card = await issueTestCard(w.ts, birthdate);
    const req = await authRequest(at.config, at.site, { resource: at.site.resource, ...params });
    const result = await runLogin(new Agent(w.ts.url), req.url, card);
    if (result.kind === 'page') return `refused ${result.status}`;
    const tokens = await client.authorizationCodeGrant(at.config, result.url, { pkceCodeVerifier: req.verifier, expectedState: req.state, expectedNonce: req.nonce });
    return { idToken: tokens.claims()?.age_over_19, accessToken: decodeJwt(tokens.access_token).age_over_19 };
  }

  describe('the age gate and the age_over_NN claims', () => {
    it('keeps out of a 19+ site, and of a request for age_over_19, one who turns 19 tomorrow in Los Angeles though it is their birthday in UTC', async () => {
      await at(LA_EVENING, 'America/Los_Angeles', async (w) => {
        expect(await enter(w, w.rated, '2007-12-07'), 'at the 19+ site').to.equal('refused 403');
        expect(await enter(w, w.unrated, '2007-12-07', { claims: AGE_19 }), 'asking age_over_19').to.equal('refused 403');
        expect(await enter(w, w.rated, '2007-12-06'), 'turned 19 today there').to.deep.equal({ idToken: undefined, accessToken: true });
        expect(await enter(w, w.unrated, '2007-12-06', { claims: AGE_19 })).to.deep.equal({ idToken: true, accessToken: true });
      });
    });

    it('lets into a 19+ site, and says age_over_19, one whose birthday has begun in Seoul though not in UTC', async () => {
      await at(SEOUL_AFTER_MIDNIGHT, 'Asia/Seoul', async (w) => {
        expect(await enter(w, w.rated, '2007-12-07'), 'at the 19+ site').to.deep.equal({ idToken: undefined, accessToken: true });
        expect(await enter(w, w.unrated, '2007-12-07', { claims: AGE_19 }), 'asking age_over_19').to.deep.equal({ idToken: true, accessToken: true });
        expect(await enter(w, w.rated, '2007-12-08'), 'turns 19 tomorrow').to.equal('refused 403');
      });
    });
  });

  describe("the guardian link's end at coming of age", () => {
    /** Whether the ward born on `birthdate` is released at `instant` in `timeZone`. */
    async function released(ts: TestServer, birthdate: string, instant: string, timeZone: string): Promise<boolean> {
      const guardian = await issueTestCard(ts, '1980-03-03');
      const ward: TestCard = await issueTestCard(ts, '2012-01-01');
      await ts.db('accounts').where({ id: ward.accountId }).update({ guardian_account_id: guardian.accountId, birthdate });
      await releaseGrownWards(ts.db, { adultAge: 19, timeZone, now: () => new Date(instant) });
      return (await ts.db('accounts').where({ id: ward.accountId }).first()).guardian_account_id === null;
    }

    it('releases a ward on the day their 19th birthday begins in billing.timeZone, not in UTC', async () => {
      const ts = await startCardManager();
      try {
        expect(await released(ts, '2007-12-07', LA_EVENING, 'America/Los_Angeles'), 'turns 19 tomorrow in Los Angeles').to.equal(false);
        expect(await released(ts, '2007-12-06', LA_EVENING, 'America/Los_Angeles'), 'turned 19 today in Los Angeles').to.equal(true);
        expect(await released(ts, '2007-12-07', SEOUL_AFTER_MIDNIGHT, 'Asia/Seoul'), 'turned 19 today in Seoul').to.equal(true);
        expect(await released(ts, '2007-12-08', SEOUL_AFTER_MIDNIGHT, 'Asia/Seoul'), 'turns 19 tomorrow in Seoul').to.equal(false);
      } finally {
        await ts.stop();
      }
    });
  });

  describe("the operator's issuance (adults only)", () => {
    const rules = (timeZone: string, instant: string) => ({ mobileCallingCode: '82', adultAge: 19, creditLimit: 0, timeZone, now: new Date(instant) });
    const issues = (birthdate: string, timeZone: string, instant: string) => {
      try {
        operatorHolder({ name: 'Kim Minji', birthdate }, rules(timeZone, instant));
        return 'issued';
      } catch (err) {
        if (err instanceof ValidationError) return 'minor';
        throw err;
      }
    };

    it('counts the holder 19 from midnight in billing.timeZone', () => {
      expect(issues('2007-12-07', 'America/Los_Angeles', LA_EVENING), 'turns 19 tomorrow in Los Angeles').to.equal('minor');
      expect(issues('2007-12-07', 'Asia/Seoul', SEOUL_AFTER_MIDNIGHT), 'turned 19 today in Seoul').to.equal('issued');
    });
  });
});
