import { expect } from 'chai';
import * as client from 'openid-client';
import { capture } from '../../src/approvals/capture.ts';
import { inTransaction } from '../../src/db/tx.ts';
import { billingRun } from '../../src/ledger/billing-run.ts';
import { todayIn } from '../../src/ledger/calendar.ts';
import { repay } from '../../src/ledger/repay.ts';
import { suspendSite } from '../../src/member-sites/suspend.ts';
import { reinstateSite } from '../../src/member-sites/reinstate.ts';
import { Agent, runLogin } from '../helpers/agent.ts';
import { birthdateForAge } from '../helpers/applicant.ts';
import { announced } from '../helpers/directory.ts';
import { authRequest, issueTestCard, registerTestSite, siteClient, type TestCard, type TestSite } from '../helpers/fixtures.ts';
import type { TestServer } from '../helpers/server.ts';
import { approveFor, cardWithLimit, ledgerOf, startLedgerServer } from '../ledger/fixtures.ts';

/**
 * A member site asks introspection whether a refresh token (or an opaque access token) is still good, instead of
 * spending it. The answer must be what a refresh (or userinfo) would do now: a token the card manager would refuse
 * there is `active: false`, and active again once nothing refuses it (introspection spends nothing).
 */
describe('/token/introspection answers as a refresh and userinfo would now', () => {
  let ts: TestServer;

  before(async () => {
    ts = await startLedgerServer({ delinquency: { graceDays: 5, guardianResponsible: true, blockLogins: true } });
  });
  after(() => ts.stop());

  /** The site logs the card in without a resource: an opaque access token (userinfo) and a refresh token. */
  async function loggedIn(card: TestCard, site?: TestSite) {
    site ??= await registerTestSite(ts);
    const config = await siteClient(ts, site);
    const req = await authRequest(config, site);
    const result = await runLogin(new Agent(ts.url), req.url, card);
    if (result.kind !== 'redirect') throw new Error(`expected a redirect, got page ${result.status}`);
    const tokens = await client.authorizationCodeGrant(config, result.url, { pkceCodeVerifier: req.verifier, expectedState: req.state, expectedNonce: req.nonce });
    const current: { access_token: string; refresh_token?: string | undefined } = tokens;
    return { site, config, tokens: current, sub: tokens.claims()!.sub };
  }

  type Session = Awaited<ReturnType<typeof loggedIn>>;

  /** What each endpoint says of the session's tokens now: introspection of both, userinfo, and a refresh. */
  async function answers(s: Session) {
    const active = async (token: string) => (await client.tokenIntrospection(s.config, token)).active;
    const userinfo = await client.fetchUserInfo(s.config, s.tokens.access_token, s.sub).then(
      () => 'answered',
      (e: unknown) => (e instanceof client.WWWAuthenticateChallengeError ? e.cause[0]!.parameters.error : String(e)),
    );
    return { refresh: await active(s.tokens.refresh_token!), access: await active(s.tokens.access_token), userinfo };
  }

  /** A refresh with the session's refresh token: its OAuth error, or 'refreshed' (the session then holds the new tokens). */
  async function refresh(s: Session): Promise<string> {
    try {
      const next = await client.refreshTokenGrant(s.config, s.tokens.refresh_token!);
      s.tokens = next;
      return 'refreshed';
    } catch (err) {
      const e = err as client.ResponseBodyError;
      return `${e.error}: ${(e.error_description ?? '').split(':')[0]}`;
    }
  }

  const good = { refresh: true, access: true, userinfo: 'answered' };
  const refused = { refresh: false, access: false, userinfo: 'invalid_token' };

  it('says inactive while the holder blocks the site [spending_control], active again once unblocked', async () => {
    const card = await issueTestCard(ts, birthdateForAge(30));
    const s = await loggedIn(card);
    expect(await answers(s)).to.deep.equal(good);
    await ts.db('accounts').where({ id: card.accountId }).update({ blocked_sites: JSON.stringify([s.site.clientId]) });
    expect(await answers(s)).to.deep.equal(refused);
    expect(await refresh(s)).to.equal('invalid_grant: spending_control');
    await ts.db('accounts').where({ id: card.accountId }).update({ blocked_sites: JSON.stringify([]) });
    expect(await answers(s)).to.deep.equal(good);
    expect(await refresh(s)).to.equal('refreshed');
  });

  it('says inactive once the site is rated above the holder [under_age] or adult content is turned off [spending_control]', async () => {
    const minor = await issueTestCard(ts, birthdateForAge(16));
    const young = await loggedIn(minor);
    const adult = await issueTestCard(ts, birthdateForAge(30));
    const grown = await loggedIn(adult, young.site);
    await announced(ts.cm.directory, `site:${young.site.clientId}`, () =>
      ts.db('member_sites').where({ client_id: young.site.clientId }).update({ content_rating: 19 }),
    );
    expect(await answers(young)).to.deep.equal(refused);
    expect(await refresh(young)).to.equal('invalid_grant: under_age');
    expect(await answers(grown)).to.deep.equal(good);
    await ts.db('accounts').where({ id: adult.accountId }).update({ adult_content_off: true });
    expect(await answers(grown)).to.deep.equal(refused);
    expect(await refresh(grown)).to.equal('invalid_grant: spending_control');
  });

  it('writes no refusal into the audit log: introspection and userinfo are no attempt to enter', async () => {
    const card = await issueTestCard(ts, birthdateForAge(30));
    const s = await loggedIn(card);
    await ts.db('accounts').where({ id: card.accountId }).update({ blocked_sites: JSON.stringify([s.site.clientId]) });
    expect(await answers(s)).to.deep.equal(refused);
    expect(await ts.db('audit_log').where({ subject_id: card.accountId }).whereLike('action', 'access.refused%')).to.deep.equal([]);
  });

  it('says inactive while the statement is overdue with delinquency.blockLogins [delinquent], active again once repaid', async () => {
    const holder = await cardWithLimit(ts, 100_000);
    const s = await loggedIn(holder);
    const a = await approveFor(ts, holder, s.site, 7_000, 'Season pass');
    await inTransaction(ts.db, (trx) => capture(trx, { approvalNo: a.approvalNo, actor: 'test' }));
    // A statement dated 30 days back (due 14 days after it, 5 days' grace): overdue today.
    const d = new Date(`${todayIn(ts.config.billing.timeZone)}T12:00:00Z`);
    d.setUTCDate(d.getUTCDate() - 30);
    if (d.getUTCDate() > 28) d.setUTCDate(28);
    await ts.db('accounts').where({ id: holder.accountId }).update({ statement_day: d.getUTCDate() });
    await billingRun(ledgerOf(ts), { date: d.toISOString().slice(0, 10), cutoff: new Date() });
    expect(await answers(s)).to.deep.equal(refused);
    expect(await refresh(s)).to.equal('invalid_grant: delinquent');
    await repay(ledgerOf(ts), { accountId: holder.accountId, amount: 7_000, currency: 'KRW', source: 'operator', actor: 'test' });
    expect(await answers(s)).to.deep.equal(good);
    expect(await refresh(s)).to.equal('refreshed');
  });

  it("says a suspended site's refresh and opaque access tokens are inactive (userinfo refuses it, a refresh is refused), active again once reinstated", async () => {
    const card = await issueTestCard(ts, birthdateForAge(30));
    const s = await loggedIn(card);
    await announced(ts.cm.directory, `site:${s.site.clientId}`, () => suspendSite(ts.db, s.site.clientId, 'test'));
    expect(await answers(s)).to.deep.equal(refused);
    const why = await client.fetchUserInfo(s.config, s.tokens.access_token, s.sub).catch((e: client.WWWAuthenticateChallengeError) => e.cause[0]!.parameters.error_description);
    expect(why).to.match(/^site_suspended: /);
    expect(await refresh(s)).to.match(/: site_suspended$/);
    await announced(ts.cm.directory, `site:${s.site.clientId}`, () => reinstateSite(ts.db, s.site.clientId, 'test'));
    expect(await answers(s)).to.deep.equal(good);
  });

  it('says inactive once the card is no longer active, however that happened (the refresh finds no holder)', async () => {
    const card = await issueTestCard(ts, birthdateForAge(30));
    const s = await loggedIn(card);
    // A card stopped without its tokens revoked (a race with a block, or a status set by other means).
    await ts.db('cards').where({ id: card.cardId }).update({ status: 'suspended' });
    expect(await answers(s)).to.deep.equal(refused);
    expect(await refresh(s)).to.equal('invalid_grant: grant request is invalid');
  });
});
