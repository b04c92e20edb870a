import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { cliActor } from '../../src/admin/cli-actor.ts';
import { csrfOf, ForwardedAgent } from '../helpers/agent.ts';
import { APPLY_SERVER, issueByApplication, uniqueIp, uniqueName } from '../helpers/applicant.ts';
import { registerTestSite, type TestCard, type TestSite } from '../helpers/fixtures.ts';
import { runCli } from '../helpers/cli.ts';
import { downloadedDataFile } from '../helpers/data-file.ts';
import { signedInHolder } from '../helpers/holder.ts';
import { signedInOperator } from '../helpers/operator.ts';
import { startCardManager, type TestServer } from '../helpers/server.ts';
import { approveFor } from '../ledger/fixtures.ts';

// any: the downloaded file, read as it comes and checked part by part.
type Json = Record<string, any>;

const EXPORTED = 'operator.holder_data_exported';
const GIVEN_OUT = 'holder_data_given_out';
const REFUSED = 'operator.holder_data_export_refused';

/**
 * The operator's copy of a holder's data, for a data-subject request (PIPA art. 35, GDPR art. 15) from a holder who
 * cannot sign in: GET /admin/api/cards/:cardId/export, `cards export`, and the console card page's download.
 */
describe("operator: a copy of a holder's data (GET /admin/api/cards/:id/export, cards export, the console)", function () {
  this.timeout(120_000);
  const alice = randomBytes(32).toString('base64url');
  let ts: TestServer;
  let site: TestSite;
  let dir: string;

  before(async () => {
    ts = await startCardManager(APPLY_SERVER, { env: { OPERATOR_TOKENS: `alice:${alice}` } });
    site = await registerTestSite(ts, { name: 'Comics Daily' } as never);
    dir = await mkdtemp(path.join(tmpdir(), 'cc-export-'));
  });
  after(async () => {
    await ts?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** The API's export of the card's holder, with this bearer token (alice's by default; null: none). */
  function api(cardId: string, token: string | null = alice): Promise<Response> {
    return fetch(`${ts.url}/admin/api/cards/${cardId}/export`, { headers: token === null ? {} : { authorization: `Bearer ${token}` } });
  }
  function operatorPost(cardPath: string, body: unknown): Promise<Response> {
    return fetch(`${ts.url}/admin/api/cards/${cardPath}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${alice}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  }
  const exports = (accountId: string) => ts.db('audit_log').where({ action: EXPORTED, subject_id: accountId }).orderBy('id');
  const auditCount = async () => Number((await ts.db('audit_log').count({ n: '*' }).first())!.n);

  /** A holder applied for (email and mobile) with two payments at the site, signed in once. */
  async function holder(): Promise<TestCard & { email: string }> {
    const h = await issueByApplication(ts, { legal_name: uniqueName('Export') });
    const card: TestCard = { accountId: h.accountId, cardId: h.cardId, number: h.cardNumber, password: h.password };
    await ts.db('accounts').where({ id: h.accountId }).update({ credit_limit: 100_000 });
    await approveFor(ts, card, site, 7_000, 'Issue #1');
    await approveFor(ts, card, site, 3_000, 'Issue #2');
    return { ...card, email: h.email };
  }

  /** Nothing of the card's secrets or our row ids in the file. */
  async function expectNothingSecret(raw: string, card: TestCard): Promise<void> {
    const row = await ts.db('cards').where({ id: card.cardId }).first();
    for (const secret of [
      card.number,
      card.password,
      row.password_hash,
      Buffer.from(row.number_hmac).toString('hex'),
      Buffer.from(row.number_hmac).toString('base64'),
      card.cardId,
      card.accountId,
    ]) {
      expect(raw, 'a secret or an id in the file').not.to.include(secret);
    }
    expect(raw).not.to.match(/"code"|"password|hash"/);
  }

  /** The file as the holder's is, but for when it was made and its activity (this very download is in it). */
  function sameAsHolders(file: Json, holders: Json, changedSince: string[] = []): void {
    expect(Object.keys(file).sort()).to.deep.equal(Object.keys(holders).sort());
    const parts = ['account', 'spending_controls', 'second_factor', 'approvals', 'payment_reports', 'statements', 'repayments', 'payouts', 'devices', 'messages', 'cap', 'capped'];
    for (const part of parts.filter((p) => !changedSince.includes(p))) {
      expect(file[part], part).to.deep.equal(holders[part]);
    }
  }

  it('gives the former holder of a card closed while blocked the file the holder gets, nothing secret in it, audited as the operator who asked', async () => {
    const card = await holder();
    const asHolder = await (await signedInHolder(ts.url, card)).request('/api/holder/data', {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ password: card.password }),
    });
    expect(asHolder.status).to.equal(200);
    const holders = (await asHolder.json()) as Json;

    // Blocked, then closed, by the operator: the former holder no longer signs in (README, after the card is closed).
    expect((await operatorPost(`${card.cardId}/block`, { reason: 'fraud check' })).status).to.equal(200);
    expect((await operatorPost(`${card.cardId}/close`, { reason: 'fraud confirmed' })).status).to.equal(200);
    let signedIn = true;
    await signedInHolder(ts.url, card).catch(() => (signedIn = false));
    expect(signedIn, 'the former holder cannot sign in').to.equal(false);

    const before = await ts.db('cards').where({ id: card.cardId }).first('status', 'updated_at');
    const audited = await auditCount();
    const res = await api(card.cardId);
    const raw = await downloadedDataFile(res);
    const file = JSON.parse(raw) as Json;

    expect(Date.parse(file.made_at)).to.be.closeTo(Date.now(), 60_000);
    // The messages of the block and the close came after the holder's copy.
    sameAsHolders(file, holders, ['messages']);
    const templates = (m: Json[]) => m.map((x) => x.template);
    expect(templates(file.messages.slice(-holders.messages.length))).to.deep.equal(templates(holders.messages));
    expect(file.account).to.include({ email: card.email, credit_limit: 100_000 });
    expect(file.approvals.map((a: Json) => a.description).sort()).to.deep.equal(['Issue #1', 'Issue #2']);
    expect(file.cards.map((c: Json) => [c.last4, c.status])).to.deep.equal([[card.number.slice(-4), 'closed']]);
    expect(file.cards[0].closed_at).to.be.a('string');
    expect(file.activity.map((e: Json) => e.kind)).to.include.members(['card_closed', 'card_suspended', 'data_exported']);
    await expectNothingSecret(raw, card);

    // One audit row, the operator's, naming the account and the card; nothing else changed.
    expect(await auditCount()).to.equal(audited + 1);
    const [entry, ...more] = await exports(card.accountId);
    expect(more).to.have.length(0);
    expect(entry).to.include({ actor: 'operator:alice', subject_type: 'account', subject_id: card.accountId });
    expect(entry.details).to.deep.include({ cardId: card.cardId, capped: [] });
    expect(await ts.db('cards').where({ id: card.cardId }).first('status', 'updated_at')).to.deep.equal(before);
    // The trail of the card's holder shows it, as every operator action.
    const trail = (await (await fetch(`${ts.url}/admin/api/cards/${card.cardId}/audit`, { headers: { authorization: `Bearer ${alice}` } })).json()) as Json;
    expect(trail.entries.filter((e: Json) => e.action === EXPORTED).map((e: Json) => e.actor)).to.deep.equal(['operator:alice']);
  });

  it('tells the holder at their email and mobile that a copy was given out, queued in the audit entry\'s transaction (API and CLI)', async () => {
    const card = await holder();
    const account = await ts.db('accounts').where({ id: card.accountId }).first('email', 'mobile');
    expect(account.mobile, 'the holder gave a mobile number').to.be.a('string');
    const told = () => ts.db('notifications_outbox').where({ account_id: card.accountId, template: GIVEN_OUT }).orderBy('id');

    expect((await api(card.cardId)).status).to.equal(200);
    const [entry] = await exports(card.accountId);
    const messages = await told();
    expect(messages.map((m) => [m.channel, m.recipient]).sort()).to.deep.equal([['email', account.email], ['sms', account.mobile]]);
    for (const m of messages) {
      const data = (typeof m.data === 'string' ? JSON.parse(m.data) : m.data) as Json;
      // The date in the deployment's time zone (formatLocalTime), the card by its last four digits: nothing of the file.
      expect(data).to.deep.equal({ last4: card.number.slice(-4), at: data.at });
      expect(data.at).to.deep.equal({ at: (data.at as { at: string }).at, timeZone: ts.config.billing.timeZone });
      expect(Date.now() - Date.parse((data.at as { at: string }).at)).to.be.within(0, 60_000);
      // now() is the transaction's start: the same instant on both rows means one transaction wrote them.
      expect(new Date(m.created_at).getTime(), 'queued with the audit entry').to.equal(new Date(entry.at).getTime());
    }

    const printed = await runCli('cards', 'export', '--card', card.cardId);
    expect(printed.code, printed.stderr).to.equal(0);
    expect(await told()).to.have.length(4);
  });

  it('refuses no token or a wrong one (401), a malformed card id (400) and a card nobody has (404), writing nothing', async () => {
    const card = await holder();
    const audited = await auditCount();
    for (const [label, res, status, code] of [
      ['no token', await api(card.cardId, null), 401, 'unauthorized'],
      ['a wrong token', await api(card.cardId, 'not-a-token'), 401, 'unauthorized'],
      ['a malformed id', await api('not-a-card'), 400, 'invalid_request'],
      ['an unknown card', await api('00000000-0000-4000-8000-000000000000'), 404, 'not_found'],
    ] as const) {
      expect(res.status, label).to.equal(status);
      expect(res.headers.get('content-disposition'), label).to.equal(null);
      const body = (await res.json()) as Json;
      expect(body.error, label).to.equal(code);
      expect(JSON.stringify(body), label).not.to.include(card.email);
      if (status === 400 || status === 404) expect(Object.keys(body.fields ?? {}), label).to.deep.equal(['card_id']);
    }
    expect(await auditCount()).to.equal(audited);
    expect(await exports(card.accountId)).to.have.length(0);
    expect(await ts.db('notifications_outbox').where({ account_id: card.accountId, template: GIVEN_OUT })).to.have.length(0);
  });

  it('`cards export --card` prints the same file, or writes it to --out (never over a file), audited as cli:<login>', async () => {
    const card = await holder();
    const viaApi = (await (await api(card.cardId)).json()) as Json;

    const printed = await runCli('cards', 'export', '--card', card.cardId);
    expect(printed.code, printed.stderr).to.equal(0);
    const fromStdout = JSON.parse(printed.stdout) as Json;
    // The notices the API's export queued are in the later file, and nothing else is new.
    sameAsHolders(fromStdout, viaApi, ['messages']);
    const othersThan = (m: Json[]) => m.filter((x) => x.template !== GIVEN_OUT);
    expect(othersThan(fromStdout.messages)).to.deep.equal(othersThan(viaApi.messages));
    expect(fromStdout.messages.filter((x: Json) => x.template === GIVEN_OUT)).to.have.length(2);
    await expectNothingSecret(printed.stdout, card);

    const out = path.join(dir, 'holder.json');
    const written = await runCli('cards', 'export', '--card', card.cardId, '--out', out);
    expect(written.code, written.stderr).to.equal(0);
    expect(written.stdout.trim()).to.equal(`wrote the data of account ${card.accountId} (card **** ${card.number.slice(-4)}) to ${out}`);
    const raw = await readFile(out, 'utf8');
    sameAsHolders(JSON.parse(raw) as Json, viaApi, ['messages']);
    await expectNothingSecret(raw, card);
    expect((await stat(out)).mode & 0o077, 'readable by its owner alone').to.equal(0);

    const actors = (await exports(card.accountId)).map((e) => e.actor);
    expect(actors).to.deep.equal(['operator:alice', cliActor(), cliActor()]);

    // An existing file is never overwritten, an unknown or malformed card refused: exit 1, no file, no audit row.
    const audited = await auditCount();
    const taken = path.join(dir, 'taken.json');
    await writeFile(taken, 'keep me');
    const over = await runCli('cards', 'export', '--card', card.cardId, '--out', taken);
    expect(over.code).to.equal(1);
    expect(over.stderr).to.match(/exists/);
    expect(await readFile(taken, 'utf8')).to.equal('keep me');
    const unknownOut = path.join(dir, 'unknown.json');
    const unknown = await runCli('cards', 'export', '--card', '00000000-0000-4000-8000-000000000000', '--out', unknownOut);
    expect(unknown.code).to.equal(1);
    expect(unknown.stderr).to.match(/no such card/i);
    const malformed = await runCli('cards', 'export', '--card', 'nonsense');
    expect(malformed.code).to.equal(1);
    expect(malformed.stdout).to.equal('');
    const missing = await runCli('cards', 'export');
    expect(missing.code).to.equal(1);
    await stat(unknownOut).then(
      () => expect.fail('a file was left for an unknown card'),
      () => undefined,
    );
    expect(await auditCount()).to.equal(audited);
  });

  it('keeps the reason given (the request\'s reference) in the audit entry: ?reason= on the API, --reason on the CLI, the console\'s field; a bad one is refused, nothing written', async () => {
    const card = await holder();
    const told = () => ts.db('notifications_outbox').where({ account_id: card.accountId, template: GIVEN_OUT });
    const withReason = (reason: string) =>
      fetch(`${ts.url}/admin/api/cards/${card.cardId}/export?${new URLSearchParams({ reason })}`, { headers: { authorization: `Bearer ${alice}` } });

    // Refused first, each before anything is read or written: a control or bidi character, too long, twice.
    const agent = await signedInOperator(ts.url, alice); // (its sign-in is audited: before the count)
    const audited = await auditCount();
    for (const [label, query] of [
      ['a control character', new URLSearchParams({ reason: 'DSR-1\u0007' })],
      ['a bidi override', new URLSearchParams({ reason: 'DSR-\u202E1' })],
      ['a newline', new URLSearchParams({ reason: 'DSR-1\nforged line' })],
      ['too long', new URLSearchParams({ reason: 'x'.repeat(501) })],
      ['given twice', new URLSearchParams([['reason', 'a'], ['reason', 'b']])],
    ] as const) {
      const res = await fetch(`${ts.url}/admin/api/cards/${card.cardId}/export?${query}`, { headers: { authorization: `Bearer ${alice}` } });
      expect(res.status, label).to.equal(400);
      expect(res.headers.get('content-disposition'), label).to.equal(null);
      const body = (await res.json()) as Json;
      expect(body.error, label).to.equal('invalid_request');
      expect(Object.keys(body.fields ?? {}), label).to.deep.equal(['reason']);
    }
    const cli = await runCli('cards', 'export', '--card', card.cardId, '--reason', 'DSR-\u202E2');
    expect(cli.code).to.equal(1);
    expect(cli.stdout).to.equal('');
    const refused = await agent.get(`/admin/cards/${card.cardId}/export?${new URLSearchParams({ reason: 'DSR-\u20663' })}`);
    expect(refused.status).to.equal(400);
    expect(refused.headers.get('content-disposition')).to.equal(null);
    const page = await refused.text();
    expect(page).to.match(/id="form-error"[^>]*>Reason: Contains characters that are not allowed\./);
    expect(page).to.match(/id="export-reason"[^>]*aria-invalid="true"/);
    expect(await auditCount()).to.equal(audited);
    expect(await told()).to.have.length(0);

    // Given: kept (trimmed) in the entry, whichever way the operator asked; none, as before: no reason in it.
    expect((await withReason('  DSR-2026-0042 (email of 3 Dec)  ')).status).to.equal(200);
    expect((await runCli('cards', 'export', '--card', card.cardId, '--reason', 'DSR-2026-0043')).code).to.equal(0);
    const viaConsole = await agent.get(`/admin/cards/${card.cardId}/export?${new URLSearchParams({ reason: 'DSR-2026-0044' })}`);
    expect(viaConsole.status).to.equal(200);
    await viaConsole.arrayBuffer();
    expect((await withReason('')).status).to.equal(200);
    const entries = await exports(card.accountId);
    expect(entries.map((e) => [e.actor, e.details.reason])).to.deep.equal([
      ['operator:alice', 'DSR-2026-0042 (email of 3 Dec)'],
      [cliActor(), 'DSR-2026-0043'],
      ['operator:alice', 'DSR-2026-0044'],
      ['operator:alice', undefined],
    ]);
    expect(entries[3].details).to.not.have.property('reason');
    // The operator sees it in the card's trail.
    const trail = (await (await fetch(`${ts.url}/admin/api/cards/${card.cardId}/audit`, { headers: { authorization: `Bearer ${alice}` } })).json()) as Json;
    expect(trail.entries.filter((e: Json) => e.action === EXPORTED).map((e: Json) => e.details.reason ?? null)).to.include('DSR-2026-0042 (email of 3 Dec)');
  });

  it('reads a hold past its expiry as expired in the file, as the holder\'s pages do, before the sweep has released it (read only)', async () => {
    const card = await holder();
    const lapsed = await approveFor(ts, card, site, 2_000, 'Lapsed');
    await ts.db('approvals').where({ approval_no: lapsed.approvalNo }).update({ hold_expires_at: ts.db.raw("now() - interval '1 second'") });
    const file = JSON.parse(await downloadedDataFile(await api(card.cardId))) as Json;
    const byDescription = new Map(file.approvals.map((a: Json) => [a.description, a.status]));
    expect(byDescription.get('Lapsed')).to.equal('expired');
    expect(byDescription.get('Issue #1')).to.equal('approved');
    expect((await ts.db('approvals').where({ approval_no: lapsed.approvalNo }).first()).status).to.equal('approved');
  });

  it("the console's card page offers the download (a GET form with its reason), which only the operator's session gets, audited as that operator", async () => {
    const card = await holder();
    const agent = await signedInOperator(ts.url, alice);
    const page = await (await agent.get(`/admin/cards/${card.cardId}`)).text();
    expect(page).to.match(new RegExp(`<form method="get" action="/admin/cards/${card.cardId}/export" id="export-form">`));
    expect(page).to.match(/<input type="text" id="export-reason" name="reason"/);

    const res = await agent.get(`/admin/cards/${card.cardId}/export`);
    const raw = await downloadedDataFile(res);
    expect((JSON.parse(raw) as Json).account.email).to.equal(card.email);
    await expectNothingSecret(raw, card);
    expect((await exports(card.accountId)).map((e) => e.actor)).to.deep.equal(['operator:alice']);

    // No session: the sign-in, not the file; the API's bearer token is no console session either.
    const audited = await auditCount();
    const stranger = new ForwardedAgent(ts.url, uniqueIp());
    const bare = await stranger.get(`/admin/cards/${card.cardId}/export`);
    expect(bare.status).to.equal(303);
    expect(bare.headers.get('location')).to.equal('/admin/signin');
    const bearer = await stranger.request(`/admin/cards/${card.cardId}/export`, { headers: { authorization: `Bearer ${alice}` } });
    expect(bearer.status).to.equal(303);
    // A card no one has, or not a card id: the console's 404 page, no file.
    for (const id of ['00000000-0000-4000-8000-000000000000', 'not-a-card']) {
      const none = await agent.get(`/admin/cards/${id}/export`);
      expect(none.status, id).to.equal(404);
      expect(none.headers.get('content-disposition'), id).to.equal(null);
    }
    expect(await auditCount()).to.equal(audited);
    // Its csrf-bound forms stay as they were: the page still offers them.
    expect(csrfOf(page, `/admin/cards/${card.cardId}/block`)).to.be.a('string');
  });
});

describe("operator: copies of holders' data are limited per operator and hour (config holderData.operatorExportsPerHour)", function () {
  this.timeout(120_000);
  // Two instances on one database: the count is kept in PostgreSQL (the throttles), so they agree.
  const carol = randomBytes(32).toString('base64url');
  const dave = randomBytes(32).toString('base64url');
  const LIMIT = { ...APPLY_SERVER, holderData: { operatorExportsPerHour: 2 } };
  let one: TestServer;
  let two: TestServer;

  before(async () => {
    const env = { OPERATOR_TOKENS: `carol:${carol},dave:${dave}` };
    one = await startCardManager(LIMIT, { env });
    two = await startCardManager(LIMIT, { env });
  });
  after(async () => {
    await one?.stop();
    await two?.stop();
  });

  const api = (ts: TestServer, cardId: string, token: string, query = '') =>
    fetch(`${ts.url}/admin/api/cards/${cardId}/export${query}`, { headers: { authorization: `Bearer ${token}` } });
  const exports = (accountId: string) => one.db('audit_log').where({ action: EXPORTED, subject_id: accountId });
  const refusals = (accountId: string) => one.db('audit_log').where({ action: REFUSED, subject_id: accountId }).orderBy('id');
  const told = (accountId: string) => one.db('notifications_outbox').where({ account_id: accountId, template: GIVEN_OUT });
  const quotaOf = (actor: string) => one.db('throttles').where({ scope: 'data_export', key: `by:${actor}` });
  async function holder(): Promise<TestCard> {
    const h = await issueByApplication(one, { legal_name: uniqueName('Limited') });
    return { accountId: h.accountId, cardId: h.cardId, number: h.cardNumber, password: h.password };
  }

  it('refuses the operator past the limit with 429, Retry-After and too_many_exports on the API and a page saying so in the console, whichever instance; audited, nothing given out', async () => {
    const [a, b] = [await holder(), await holder()];
    // A card no one has, a malformed id or reason take none of the hour's exports.
    expect((await api(one, '00000000-0000-4000-8000-000000000000', carol)).status).to.equal(404);
    expect((await api(one, 'not-a-card', carol)).status).to.equal(400);
    expect((await api(two, a.cardId, carol, `?${new URLSearchParams({ reason: 'DSR\u202E' })}`)).status).to.equal(400);
    expect(await quotaOf('operator:carol')).to.have.length(0);

    expect((await api(one, a.cardId, carol)).status).to.equal(200);
    const console = await signedInOperator(two.url, carol);
    const viaConsole = await console.get(`/admin/cards/${b.cardId}/export`);
    expect(viaConsole.status).to.equal(200);
    await viaConsole.arrayBuffer();

    const refused = await api(one, b.cardId, carol, '?reason=DSR-7');
    expect(refused.status).to.equal(429);
    expect(refused.headers.get('content-disposition')).to.equal(null);
    expect(Number(refused.headers.get('retry-after'))).to.be.within(3_500, 3_600);
    const body = (await refused.json()) as Json;
    expect(body.error).to.equal('too_many_exports');
    expect(body.error_description).to.match(/^You have given out as many copies of holders' data as an hour allows \(2\)\. You can give out another from \d{4}-\d\d-\d\d \d\d:\d\d /);

    const page = await console.get(`/admin/cards/${a.cardId}/export?reason=DSR-8`);
    expect(page.status).to.equal(429);
    expect(page.headers.get('content-disposition')).to.equal(null);
    expect(page.headers.get('content-type')).to.match(/^text\/html/);
    expect(Number(page.headers.get('retry-after'))).to.be.within(3_500, 3_600);
    const html = await page.text();
    expect(html).to.match(/id="form-error"[^>]*>You have given out as many copies of holders&#39; data as an hour allows \(2\)\./);
    // The card page with its form refilled, ready for the hour after.
    expect(html).to.match(/id="export-reason"[^>]*value="DSR-8"/);

    // Two given out, two refused (on the account asked for, with the operator and the limit), and only the two told.
    expect(await exports(a.accountId)).to.have.length(1);
    expect(await exports(b.accountId)).to.have.length(1);
    expect(await told(a.accountId)).to.have.length(2);
    expect(await told(b.accountId)).to.have.length(2);
    const [first] = await refusals(b.accountId);
    expect(first).to.include({ actor: 'operator:carol', subject_type: 'account' });
    expect(first.details).to.deep.equal({ cardId: b.cardId, refused: 'hourly limit', limit: 2, reason: 'DSR-7' });
    expect((await refusals(a.accountId))[0].details).to.deep.include({ cardId: a.cardId, refused: 'hourly limit', limit: 2 });

    // Past the limit, bad input is still told as bad input; another operator is not held back.
    expect((await api(two, 'not-a-card', carol)).status).to.equal(400);
    expect((await api(two, '00000000-0000-4000-8000-000000000000', carol)).status).to.equal(404);
    expect((await api(two, a.cardId, dave)).status).to.equal(200);

    // The hour over, the operator exports again.
    await quotaOf('operator:carol').update({ window_start: one.db.raw("now() - interval '61 minutes'") });
    expect((await api(two, a.cardId, carol)).status).to.equal(200);
  });

  it('lets no more exports through than the limit when they come at once to both instances', async () => {
    const card = await holder();
    await quotaOf('operator:dave').delete();
    const statuses = await Promise.all([one, two, one, two, one, two].map(async (ts) => (await api(ts, card.cardId, dave)).status));
    expect(statuses.filter((s) => s === 200)).to.have.length(2);
    expect(statuses.filter((s) => s === 429)).to.have.length(4);
    expect(await exports(card.accountId)).to.have.length(2);
    expect(await refusals(card.accountId)).to.have.length(4);
  });

  it('`cards export` counts the CLI login as its own operator: past the limit, exit 1 with the reason, no file, audited', async () => {
    const card = await holder();
    const key = { scope: 'data_export', key: `by:${cliActor()}` };
    // The CLI reads the run's configuration (config/test.json, which allows many an hour): the hour's exports are spent here by hand.
    await one.db('throttles').where(key).delete();
    await one.db('throttles').insert({ ...key, count: 1_000_000, window_start: one.db.fn.now(), updated_at: one.db.fn.now() });
    try {
      const refused = await runCli('cards', 'export', '--card', card.cardId);
      expect(refused.code).to.equal(1);
      expect(refused.stdout).to.equal('');
      expect(refused.stderr).to.match(/as many copies of holders' data as an hour allows/);
      expect(await exports(card.accountId)).to.have.length(0);
      expect((await refusals(card.accountId)).map((r) => r.actor)).to.deep.equal([cliActor()]);
    } finally {
      await one.db('throttles').where(key).delete();
    }
    expect((await runCli('cards', 'export', '--card', card.cardId)).code).to.equal(0);
  });
});
