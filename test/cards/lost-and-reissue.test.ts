import { expect } from 'chai';
import * as client from 'openid-client';
import { approve } from '../../src/approvals/approve.ts';
import { capture } from '../../src/approvals/capture.ts';
import { ApprovalRefusedError } from '../../src/approvals/errors.ts';
import { readCreditLine } from '../../src/db/credit-lines.ts';
import { listAudit } from '../../src/db/audit-log.ts';
import { inTransaction } from '../../src/db/tx.ts';
import { luhnCheckDigit } from '../../src/lib/luhn.ts';
import { Agent, runLogin } from '../helpers/agent.ts';
import { APPLY_SERVER, issueByApplication, latestMessage } from '../helpers/applicant.ts';
import { authRequest, registerTestSite, siteClient, type TestSite } from '../helpers/fixtures.ts';
import { startCardManager, type TestServer } from '../helpers/server.ts';

async function postJson(ts: TestServer, path: string, body: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${ts.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** The error an openid-client call fails with (ResponseBodyError, WWWAuthenticateChallengeError, …). */
async function failure(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected the call to fail');
}

describe('a lost card', () => {
  let ts: TestServer;
  let site: TestSite;
  let config: client.Configuration;

  before(async () => {
    ts = await startCardManager(APPLY_SERVER);
    site = await registerTestSite(ts);
    config = await siteClient(ts, site);
  });
  after(() => ts?.stop());

  /** The member site logs the card in (openid profile offline_access: an opaque access token and a refresh token). */
  async function logIn(number: string, password: string) {
    const req = await authRequest(config, site);
    const result = await runLogin(new Agent(ts.url), req.url, { number, password });
    if (result.kind !== 'redirect') throw new Error(`login ended on a ${result.status} page`);
    return client.authorizationCodeGrant(config, result.url, {
      pkceCodeVerifier: req.verifier,
      expectedState: req.state,
      expectedNonce: req.nonce,
    });
  }

  /** A payment approved on the card and captured: it is on the account's balance for good. */
  async function spend(accountId: string, cardId: string, amount: number, description: string) {
    const deps = { db: ts.db, policy: { currency: 'KRW', holdSeconds: 3600 } };
    const approval = await approve(deps, {
      accountId,
      cardId,
      clientId: site.clientId,
      amount,
      currency: 'KRW',
      description,
      contentRef: null,
      rating: 0,
    });
    await inTransaction(ts.db, (trx) => capture(trx, { approvalNo: approval.approvalNo, actor: 'test' }));
    return approval;
  }

  it('is refused at once everywhere (refresh, introspection, userinfo); the reissued card logs in to the same account, balance and history', async () => {
    const holder = await issueByApplication(ts, { legal_name: 'Yoon Seoyeon' });
    const tokens = await logIn(holder.cardNumber, holder.password);
    const sub = tokens.claims()!.sub;
    expect((await client.tokenIntrospection(config, tokens.refresh_token!)).active).to.equal(true);
    expect((await client.fetchUserInfo(config, tokens.access_token, sub)).name).to.equal('Yoon Seoyeon');
    const bought = await spend(holder.accountId, holder.cardId, 1_500, 'Episode 1');
    const before = await readCreditLine(ts.db, holder.accountId);
    expect(before!.postedBalance).to.equal(1_500);

    const lost = await postJson(ts, '/api/cards/lost', { card_number: holder.cardNumber, password: holder.password });
    expect(lost.status).to.equal(200);
    expect(lost.body).to.deep.equal({ status: 'lost', last4: holder.cardNumber.slice(-4) });

    // At once: the refresh token no longer refreshes, introspection says inactive, userinfo refuses.
    const refresh = await failure(client.refreshTokenGrant(config, tokens.refresh_token!));
    expect((refresh as client.ResponseBodyError).error).to.equal('invalid_grant');
    expect((await client.tokenIntrospection(config, tokens.refresh_token!)).active).to.equal(false);
    expect((await client.tokenIntrospection(config, tokens.access_token)).active).to.equal(false);
    const userinfo = await failure(client.fetchUserInfo(config, tokens.access_token, sub));
    expect(userinfo).to.be.instanceOf(client.WWWAuthenticateChallengeError);
    expect((userinfo as client.WWWAuthenticateChallengeError).cause[0]!.parameters.error).to.equal('invalid_token');
    // Nor can the old card approve anything.
    let refused: unknown;
    try {
      await spend(holder.accountId, holder.cardId, 100, 'after loss');
    } catch (err) {
      refused = err;
    }
    expect(refused).to.be.instanceOf(ApprovalRefusedError);
    expect(await latestMessage(ts, holder.accountId, 'card_blocked')).to.include({ last4: holder.cardNumber.slice(-4) });

    // Reissue, proven by a one-time code sent to the registered contacts.
    expect((await postJson(ts, '/api/cards/reissue/code', { card_number: holder.cardNumber })).status).to.equal(202);
    const { code } = (await latestMessage(ts, holder.accountId, 'reissue_code'))!;
    const reissued = await postJson(ts, '/api/cards/reissue', { card_number: holder.cardNumber, code });
    expect(reissued.status, JSON.stringify(reissued.body)).to.equal(201);
    const newNumber = String(reissued.body.card_number);
    const newPassword = String(reissued.body.password);
    expect(newNumber).to.not.equal(holder.cardNumber);
    expect(await latestMessage(ts, holder.accountId, 'card_reissued')).to.include({
      last4: newNumber.slice(-4),
      oldLast4: holder.cardNumber.slice(-4),
    });

    // The new card logs in at the same site as the same person (same pairwise subject, same name) …
    const again = await logIn(newNumber, newPassword);
    expect(again.claims()!.sub).to.equal(sub);
    expect((await client.fetchUserInfo(config, again.access_token, sub)).name).to.equal('Yoon Seoyeon');
    // … on the same account: the balance is there, the history holds the old card's purchase, new ones add up.
    const newCard = await ts.db('cards').where({ account_id: holder.accountId, status: 'active' }).first();
    expect(newCard.id).to.not.equal(holder.cardId);
    expect(await readCreditLine(ts.db, holder.accountId)).to.deep.equal(before);
    await spend(holder.accountId, newCard.id, 2_000, 'Episode 2');
    const after = await readCreditLine(ts.db, holder.accountId);
    expect(after!.postedBalance).to.equal(3_500);
    expect(after!.creditLimit).to.equal(500_000);
    const history = await ts.db('approvals').where({ account_id: holder.accountId }).orderBy('created_at');
    expect(history.map((a: { approval_no: string }) => a.approval_no)[0]).to.equal(bought.approvalNo);
    expect(history).to.have.length(2);

    // The old number never logs in again, and the attempt is audited.
    const old = await runLogin(new Agent(ts.url), (await authRequest(config, site)).url, { number: holder.cardNumber, password: holder.password });
    expect(old.kind).to.equal('page');
    if (old.kind === 'page') expect([401, 403]).to.include(old.status);
    const audit = await listAudit(ts.db, 'card', holder.cardId);
    expect(audit.some((e) => e.action === 'card.login_refused' && e.details?.status === 'lost' && e.details?.passwordMatched === true)).to.equal(
      true,
    );
  });

  it('can be reported with a one-time code instead of the password, and the same code cannot be used twice', async () => {
    const holder = await issueByApplication(ts);
    const tokens = await logIn(holder.cardNumber, holder.password);
    expect((await postJson(ts, '/api/cards/lost/code', { card_number: holder.cardNumber })).status).to.equal(202);
    const { code } = (await latestMessage(ts, holder.accountId, 'lost_card_code'))!;
    const wrong = await postJson(ts, '/api/cards/lost', { card_number: holder.cardNumber, code: code === '000000' ? '111111' : '000000' });
    expect(wrong.status).to.equal(400);
    expect(wrong.body.error).to.equal('invalid_code');
    const ok = await postJson(ts, '/api/cards/lost', { card_number: holder.cardNumber, code });
    expect(ok.status).to.equal(200);
    expect((await client.tokenIntrospection(config, tokens.refresh_token!)).active).to.equal(false);
    const reused = await postJson(ts, '/api/cards/lost', { card_number: holder.cardNumber, code });
    expect(reused.status).to.equal(400);
    const card = await ts.db('cards').where({ id: holder.cardId }).first();
    expect(card.status).to.equal('lost');
    const change = (await listAudit(ts.db, 'card', holder.cardId)).find((e) => e.action === 'card.status_changed' && e.details?.to === 'lost');
    expect(change!.details).to.include({ proof: 'code', reason: 'reported lost by the holder' });
    expect(change!.actor).to.equal(`card:${holder.cardId}`);
  });

  it('answers every one of several reports sent at once as done (a double click, two devices), blocking the card once', async () => {
    const holder = await issueByApplication(ts);
    const results = await Promise.all(
      Array.from({ length: 4 }, () => postJson(ts, '/api/cards/lost', { card_number: holder.cardNumber, password: holder.password })),
    );
    expect(results.map((r) => r.status)).to.deep.equal([200, 200, 200, 200]);
    const changes = (await listAudit(ts.db, 'card', holder.cardId)).filter((e) => e.action === 'card.status_changed' && e.details?.to === 'lost');
    expect(changes).to.have.length(1);
  });

  it('answers a wrong password exactly like an unknown card, and blocks nothing', async () => {
    const holder = await issueByApplication(ts);
    const wrong = await postJson(ts, '/api/cards/lost', { card_number: holder.cardNumber, password: 'not the password' });
    const body = `940512${String(Date.now()).slice(-9)}`;
    const nobody = body + String(luhnCheckDigit(body));
    const unknown = await postJson(ts, '/api/cards/lost', { card_number: nobody, password: 'not the password' });
    expect(wrong.status).to.equal(401);
    expect(unknown).to.deep.equal(wrong);
    expect((await ts.db('cards').where({ id: holder.cardId }).first()).status).to.equal('active');
  });

  it("never lets the holder undo the operator's block or close with a lost report and a reissue", async () => {
    const operator = (path: string) =>
      fetch(`${ts.url}/admin/api/cards${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${ts.config.secrets.operatorToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ reason: 'fraud suspected' }),
      });
    const statuses = async (accountId: string) => (await ts.db('cards').where({ account_id: accountId }).orderBy('created_at')).map((c: { status: string }) => c.status);

    // Blocked: the holder can report it lost neither by password nor by code, so there is nothing to reissue.
    const blocked = await issueByApplication(ts);
    expect((await operator(`/${blocked.cardId}/block`)).status).to.equal(200);
    const byPassword = await postJson(ts, '/api/cards/lost', { card_number: blocked.cardNumber, password: blocked.password });
    expect(byPassword.status).to.be.within(400, 499);
    expect((await postJson(ts, '/api/cards/lost/code', { card_number: blocked.cardNumber })).status).to.equal(202);
    expect(await latestMessage(ts, blocked.accountId, 'lost_card_code'), 'no code is sent for a suspended card').to.equal(undefined);
    expect(await statuses(blocked.accountId)).to.deep.equal(['suspended']);

    // Lost, reissued, and the replacement closed by the operator: the old lost card is not reissued again.
    const closed = await issueByApplication(ts);
    expect((await postJson(ts, '/api/cards/lost', { card_number: closed.cardNumber, password: closed.password })).status).to.equal(200);
    expect((await postJson(ts, '/api/cards/reissue/code', { card_number: closed.cardNumber })).status).to.equal(202);
    const first = await postJson(ts, '/api/cards/reissue', { card_number: closed.cardNumber, code: (await latestMessage(ts, closed.accountId, 'reissue_code'))!.code });
    expect(first.status).to.equal(201);
    const replacement = await ts.db('cards').where({ account_id: closed.accountId, status: 'pending' }).orWhere({ account_id: closed.accountId, status: 'active' }).first();
    expect((await operator(`/${replacement.id}/close`)).status).to.equal(200);
    expect((await postJson(ts, '/api/cards/reissue/code', { card_number: closed.cardNumber })).status).to.equal(202);
    const again = await postJson(ts, '/api/cards/reissue', { card_number: closed.cardNumber, code: (await latestMessage(ts, closed.accountId, 'reissue_code'))!.code });
    expect(again.status).to.equal(409);
    expect(await statuses(closed.accountId)).to.deep.equal(['lost', 'closed']);
  });
});
