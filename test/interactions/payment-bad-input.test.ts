import { expect } from 'chai';
import * as client from 'openid-client';
import { Agent, csrfFrom, location, startInteraction } from '../helpers/agent.ts';
import { issueTestCard, payRequest, registerTestSite, siteClient, type TestCard, type TestSite } from '../helpers/fixtures.ts';
import { startCardManager, type TestServer } from '../helpers/server.ts';

describe('bad input on the payment pages', () => {
  let ts: TestServer;
  let site: TestSite;
  let config: client.Configuration;
  let card: TestCard;

  before(async () => {
    ts = await startCardManager();
    site = await registerTestSite(ts);
    config = await siteClient(ts, site);
    card = await issueTestCard(ts);
    await ts.db('accounts').where({ id: card.accountId }).update({ credit_limit: 100_000 });
  });
  after(() => ts.stop());

  const held = async () => Number((await ts.db('accounts').where({ id: card.accountId }).first()).held_amount);
  const count = async () => Number((await ts.db('approvals').where({ account_id: card.accountId }).count({ n: '*' }).first())!.n);

  async function onApprovePage(amount = 700) {
    const agent = new Agent(ts.url);
    const { url } = await payRequest(config, site, [{ type: 'payment', amount, currency: 'KRW', description: 'Item' }]);
    const { path: loginPath, csrf: loginCsrf } = await startInteraction(agent, url);
    // The answer to the login form is the approval page of the same interaction.
    const approvePage = await agent.post(`${loginPath}/login`, { csrf: loginCsrf, card_number: card.number, password: card.password });
    expect(approvePage.status).to.equal(200);
    return { agent, path: loginPath, csrf: csrfFrom(await approvePage.text()), loginPath, loginCsrf };
  }

  it('refuses a replayed approval post with a 4xx page: one approval, one hold', async () => {
    const p = await onApprovePage();
    const [before, heldBefore] = [await count(), await held()];
    expect((await p.agent.post(`${p.path}/confirm`, { csrf: p.csrf })).status).to.equal(303);
    const replay = await p.agent.post(`${p.path}/confirm`, { csrf: p.csrf });
    expect(replay.status).to.be.within(400, 499);
    const html = await replay.text();
    expect(html).to.match(/^<!DOCTYPE html>/i);
    // The holder is told the payment went through once (the Back button and a reload re-post the form).
    expect(html).to.include('This payment is complete');
    expect(await count()).to.equal(before + 1);
    expect(await held()).to.equal(heldBefore + 700);
  });

  it('refuses a cancel after the approval: the approval has reached the site with its code', async () => {
    const p = await onApprovePage(600);
    const approved = await p.agent.post(`${p.path}/confirm`, { csrf: p.csrf });
    expect(approved.status).to.equal(303);
    const cancel = await p.agent.post(`${p.path}/abort`, { csrf: p.csrf });
    expect(cancel.status).to.equal(409);
    expect(await cancel.text()).to.include('This payment is complete');
    const back = new URL(approved.headers.get('location')!);
    expect(back.origin + back.pathname).to.equal(site.redirectUri);
    expect(back.searchParams.get('code')).to.be.a('string');
    expect(back.searchParams.get('error')).to.equal(null);
  });

  it('resumes the interaction the approval was posted for, whatever resume cookie the post brings', async () => {
    const p = await onApprovePage(650);
    // The answer is the provider's resume of this interaction; a resume cookie sent along (forged here) is not it.
    p.agent.cookies.set('_interaction_resume', 'forged-uid');
    p.agent.cookies.set('_interaction_resume.sig', 'forged-signature');
    const approved = await p.agent.post(`${p.path}/confirm`, { csrf: p.csrf });
    expect(approved.status).to.equal(303);
    const back = new URL(approved.headers.get('location')!);
    expect(back.origin + back.pathname).to.equal(site.redirectUri);
    expect(back.searchParams.get('code')).to.be.a('string');
  });

  it('keeps no approval and no hold when the code cannot be saved, and the same approval post works once it can', async () => {
    const p = await onApprovePage(660);
    const [before, heldBefore] = [await count(), await held()];
    // The database refuses this holder's authorization codes: the approval's transaction fails as it commits.
    await ts.db.raw(`CREATE FUNCTION refuse_test_codes() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN RAISE EXCEPTION 'no codes for this holder today'; END $$`);
    await ts.db.raw(
      `CREATE TRIGGER refuse_test_codes BEFORE INSERT ON oidc_payloads FOR EACH ROW
       WHEN (NEW.model = 'AuthorizationCode' AND NEW.payload->>'accountId' = '${card.accountId}') EXECUTE FUNCTION refuse_test_codes()`,
    );
    try {
      const failed = await p.agent.post(`${p.path}/confirm`, { csrf: p.csrf });
      expect(failed.status).to.be.within(500, 599);
      expect(failed.headers.get('location')).to.equal(null);
      expect(await failed.text()).to.match(/^<!DOCTYPE html>/i);
      expect(await count()).to.equal(before);
      expect(await held()).to.equal(heldBefore);
    } finally {
      await ts.db.raw('DROP TRIGGER refuse_test_codes ON oidc_payloads');
      await ts.db.raw('DROP FUNCTION refuse_test_codes()');
    }
    const retried = await p.agent.post(`${p.path}/confirm`, { csrf: p.csrf });
    expect(retried.status).to.equal(303);
    expect(new URL(retried.headers.get('location')!).searchParams.get('code')).to.be.a('string');
    expect(await count()).to.equal(before + 1);
    expect(await held()).to.equal(heldBefore + 660);
  });

  it('approves a double-clicked approval once: two posts at the same moment place one hold', async () => {
    const p = await onApprovePage(800);
    const [before, heldBefore] = [await count(), await held()];
    const both = await Promise.all([p.agent.post(`${p.path}/confirm`, { csrf: p.csrf }), p.agent.post(`${p.path}/confirm`, { csrf: p.csrf })]);
    expect(both.map((r) => r.status).sort()).to.deep.equal([303, 409]);
    expect(await count()).to.equal(before + 1);
    expect(await held()).to.equal(heldBefore + 800);
  });

  it('ignores tampered fields posted with the approval: the pushed amount is the one approved and held', async () => {
    const p = await onApprovePage(900);
    const heldBefore = await held();
    const res = await p.agent.post(`${p.path}/confirm`, { csrf: p.csrf, amount: '1', description: 'cheap' });
    expect(res.status).to.equal(303);
    expect(await held()).to.equal(heldBefore + 900);
    const row = await ts.db('approvals').where({ account_id: card.accountId }).orderBy('created_at', 'desc').first();
    expect(Number(row.amount)).to.equal(900);
    expect(row.description).to.equal('Item');
  });

  it('refuses authorization_details changed after PAR with a 400 page', async () => {
    const agent = new Agent(ts.url);
    const { url } = await payRequest(config, site, [{ type: 'payment', amount: 5000, currency: 'KRW', description: 'Pushed' }]);
    url.searchParams.set('authorization_details', JSON.stringify([{ type: 'payment', amount: 1, currency: 'KRW', description: 'Changed' }]));
    const res = await agent.get(url);
    const html = await res.text();
    expect(res.status).to.equal(400);
    expect(html).to.include('authorization_details can only be sent inside the pushed authorization request');
    expect(html).to.not.include('Changed');
  });

  it("refuses an approval or login posted into someone else's interaction, or without cookies", async () => {
    const victim = await onApprovePage();
    const attacker = await onApprovePage();
    const [before, heldBefore] = [await count(), await held()];
    expect((await attacker.agent.post(`${victim.path}/confirm`, { csrf: attacker.csrf })).status).to.equal(400);
    expect((await attacker.agent.post(`${victim.loginPath}/login`, { csrf: attacker.loginCsrf, card_number: card.number, password: card.password })).status).to.equal(400);
    expect((await new Agent(ts.url).post(`${victim.path}/confirm`, { csrf: victim.csrf })).status).to.equal(400);
    const noCsrfCookie = new Agent(ts.url);
    for (const [k, v] of victim.agent.cookies) if (!k.startsWith('cc.csrf')) noCsrfCookie.cookies.set(k, v);
    expect((await noCsrfCookie.post(`${victim.path}/confirm`, { csrf: victim.csrf })).status).to.equal(403);
    expect(await count()).to.equal(before);
    expect(await held()).to.equal(heldBefore);
  });
});
