import { expect } from 'chai';
import { renderMessage } from '../../src/notifications/templates.ts';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { sendDueNotifications } from '../../src/notifications/sender.ts';
import { Agent, runLogin } from '../helpers/agent.ts';
import { APPLY_SERVER, application, e164, issueByApplication, latestMessage, postApplication, templatesFor } from '../helpers/applicant.ts';
import { authRequest, registerTestSite, siteClient } from '../helpers/fixtures.ts';
import { testEnv } from '../helpers/global.ts';
import { startCardManager, type TestServer } from '../helpers/server.ts';

/** Every due message of the run's shared outbox, however many other files left: the default 1,000 may stop short of this file's. */
const ALL_DUE = Number.POSITIVE_INFINITY;

async function postJson(ts: TestServer, url: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${ts.url}${url}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe('notifications in the outbox', () => {
  let ts: TestServer;
  let operator: Record<string, string>;

  before(async () => {
    ts = await startCardManager({
      ...APPLY_SERVER,
      cards: { ...APPLY_SERVER.cards, denyList: { action: 'review', names: ['* reviewson'], emails: [], mobiles: [] } },
    });
    operator = { authorization: `Bearer ${ts.config.secrets.operatorToken}` };
  });
  after(() => ts?.stop());

  it('tells the holder about every step, on email and SMS, and the sender delivers each one; no card number is ever in a message', async () => {
    // Application received, then approved by the operator.
    const app = application({ legal_name: 'Noah Reviewson' });
    const queued = await postApplication(ts, app);
    expect(queued.status).to.equal(202);
    const card = await ts.db('cards').where({ id: queued.body.card_id }).first();
    const accountId = String(card.account_id);
    const number = String(queued.body.card_number);
    expect((await postJson(ts, `/admin/api/applications/${queued.body.application_id}/approve`, {}, operator)).status).to.equal(200);

    // A log-in from a device new to the account, then from the same one again (told once).
    const site = await registerTestSite(ts);
    const config = await siteClient(ts, site);
    const browser = new Agent(ts.url);
    for (let i = 0; i < 2; i++) {
      const result = await runLogin(browser, (await authRequest(config, site)).url, { number, password: String(app.password) });
      expect(result.kind, result.kind === "page" ? `${result.status} ${result.html.slice(0, 1500)}` : "").to.equal("redirect");
    }

    // Password changed, operator block and unblock, reported lost, reissued.
    const changed = await postJson(ts, '/api/cards/password', { card_number: number, password: app.password, new_password: 'Brand new phrase' });
    expect(changed.status).to.equal(200);
    expect((await postJson(ts, `/admin/api/cards/${card.id}/block`, { reason: 'check' }, operator)).status).to.equal(200);
    expect((await postJson(ts, `/admin/api/cards/${card.id}/unblock`, { reason: 'checked' }, operator)).status).to.equal(200);
    expect((await postJson(ts, '/api/cards/lost', { card_number: number, password: 'Brand new phrase' })).status).to.equal(200);
    const reissued = await postJson(ts, `/admin/api/cards/${card.id}/reissue`, { reason: 'after loss' }, operator);
    expect(reissued.status).to.equal(201);

    const templates = await templatesFor(ts, accountId);
    const once = templates.filter((_, i) => i % 2 === 0);
    expect(templates.filter((_, i) => i % 2 === 1), 'each message goes by email and by SMS').to.deep.equal(once);
    expect(once).to.deep.equal([
      'application_received',
      'application_approved',
      'new_device_login',
      'password_changed',
      'card_blocked',
      'card_unblocked',
      'card_blocked',
      'card_reissued',
    ]);
    const newDevice = (await latestMessage(ts, accountId, 'new_device_login'))!;
    expect(String(newDevice.site)).to.match(/^Site [0-9a-f]{8}$/);
    // The time as the lockout notice holds it: the instant and the deployment's time zone, written in the reader's
    // language when sent (in the zone, named, not a raw ISO instant).
    expect(newDevice.at).to.have.keys('at', 'timeZone').and.deep.include({ timeZone: 'Asia/Seoul' });
    expect(renderMessage('new_device_login', newDevice, ts.url, 'en', 'email').text).to.match(/\(\d{4}-\d{2}-\d{2} \d{2}:\d{2} Asia\/Seoul\)/);

    const rows = await ts.db('notifications_outbox').where({ account_id: accountId });
    expect(new Set(rows.map((r: { recipient: string }) => r.recipient))).to.deep.equal(new Set([app.email, e164(String(app.mobile))]));
    const newNumber = String(reissued.body.card_number);
    for (const r of rows) {
      const text = JSON.stringify(r);
      expect(text).to.not.include(number);
      expect(text).to.not.include(newNumber);
      expect(text).to.not.include('Brand new phrase');
    }

    // The sender renders and delivers every one of them (files under dataDir/outbox in test).
    await sendDueNotifications(ts.cm.notifications, ALL_DUE);
    const after = await ts.db('notifications_outbox').where({ account_id: accountId });
    expect(after.map((r: { status: string }) => r.status)).to.deep.equal(after.map(() => 'sent'));
    const dir = path.join(testEnv.dataDir, 'outbox');
    const files = new Set(readdirSync(dir));
    for (const r of after as Array<{ id: number; channel: string }>) {
      const file = `${r.id}-${r.channel}.json`;
      expect(files.has(file), file).to.equal(true);
      const content = readFileSync(path.join(dir, file), 'utf8');
      expect(content).to.not.include(number);
      expect(content).to.not.include(newNumber);
    }
  });

  it('lets the operator find a holder by mobile number as the holder says it, or in E.164', async () => {
    const mobile = '010-5' + String(Date.now()).slice(-3) + '-' + String(Math.floor(Math.random() * 1e4)).padStart(4, '0');
    const h = await issueByApplication(ts, { mobile });
    for (const typed of [mobile, mobile.replace(/-/g, ''), e164(mobile)]) {
      const r = await postJson(ts, '/admin/api/cards/search', { mobile: typed }, operator);
      expect(r.status, typed).to.equal(200);
      expect((r.body.holders as Array<{ account: { id: string } }>).map((x) => x.account.id), typed).to.deep.equal([h.accountId]);
    }
  });

  it('drops a one-time code from the outbox once the message with it is sent', async () => {
    const h = await issueByApplication(ts);
    expect((await postJson(ts, '/api/cards/lost/code', { card_number: h.cardNumber })).status).to.equal(202);
    const queued = await ts.db('notifications_outbox').where({ account_id: h.accountId, template: 'lost_card_code' });
    expect(queued.length).to.be.above(0);
    const code = String(queued[0].data.code);
    expect(code).to.match(/^\d{6}$/);
    await sendDueNotifications(ts.cm.notifications, ALL_DUE);
    const sent = await ts.db('notifications_outbox').where({ account_id: h.accountId, template: 'lost_card_code' });
    for (const m of sent as Array<{ id: number; channel: string; status: string; data: Record<string, unknown> }>) {
      expect(m.status).to.equal('sent');
      expect(m.data, 'the code is gone from the database').to.not.have.property('code');
      expect(m.data).to.have.property('last4');
      // It reached the holder all the same.
      expect(readFileSync(path.join(testEnv.dataDir, 'outbox', `${m.id}-${m.channel}.json`), 'utf8')).to.include(code);
    }
  });

  it('tells an applicant whose application is rejected, with the reason, and a card issued at once', async () => {
    const queued = await postApplication(ts, application({ legal_name: 'Olive Reviewson' }));
    const card = await ts.db('cards').where({ id: queued.body.card_id }).first();
    await postJson(ts, `/admin/api/applications/${queued.body.application_id}/reject`, { reason: 'We could not confirm your identity.' }, operator);
    expect(await templatesFor(ts, card.account_id)).to.deep.equal([
      'application_received',
      'application_received',
      'application_rejected',
      'application_rejected',
    ]);
    expect(await latestMessage(ts, card.account_id, 'application_rejected')).to.include({ reason: 'We could not confirm your identity.' });

    const issued = await issueByApplication(ts);
    expect(await templatesFor(ts, issued.accountId)).to.deep.equal(['card_issued', 'card_issued']);
    expect(await latestMessage(ts, issued.accountId, 'card_issued')).to.include({ last4: issued.cardNumber.slice(-4) });
    await sendDueNotifications(ts.cm.notifications, ALL_DUE);
    const rows = await ts.db('notifications_outbox').whereIn('account_id', [card.account_id, issued.accountId]);
    expect(rows.map((r: { status: string; last_error: string | null }) => [r.status, r.last_error])).to.deep.equal(rows.map(() => ['sent', null]));
  });
});
