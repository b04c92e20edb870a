import { expect } from 'chai';
import { generateCardNumber } from '../../src/cards/card-number.ts';
import { listAudit } from '../../src/db/audit-log.ts';
import { Agent, csrfFrom } from '../helpers/agent.ts';
import { APPLY_SERVER, GOOD_PASSWORD, issueByApplication, latestMessage } from '../helpers/applicant.ts';
import { logsIn } from '../helpers/holder.ts';
import { alertText, fieldError, inputValue } from '../helpers/html.ts';
import { startCardManager, type TestServer } from '../helpers/server.ts';

async function postJson(ts: TestServer, path: string, body: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${ts.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}


describe('card passwords', () => {
  let ts: TestServer;

  before(async () => {
    ts = await startCardManager(APPLY_SERVER);
  });
  after(() => ts?.stop());

  describe('change (knowing the current password)', () => {
    it('refuses a wrong current password (401) and changes nothing', async () => {
      const h = await issueByApplication(ts);
      const r = await postJson(ts, '/api/cards/password', { card_number: h.cardNumber, password: 'not it at all', new_password: 'Another good phrase' });
      expect(r.status).to.equal(401);
      expect(r.body.error).to.equal('invalid_credentials');
      expect(await logsIn(ts, h.cardNumber, GOOD_PASSWORD)).to.equal(true);
    });

    it('holds the new password to the issuance policy: not the same, not short, not the birthdate, no run of the card’s digits, not common', async () => {
      const h = await issueByApplication(ts, { birthdate: '1990-05-17' });
      const cases: Array<[string, string | undefined]> = [
        [GOOD_PASSWORD, undefined],
        ['short1!', 'too_short'],
        ['19900517', 'birthdate'],
        [`harbor ${h.cardNumber.slice(8, 14)} lamp`, 'card_digits'],
        ['sunshine', 'common'],
      ];
      for (const [newPassword, rule] of cases) {
        const r = await postJson(ts, '/api/cards/password', { card_number: h.cardNumber, password: h.password, new_password: newPassword });
        expect(r.status, newPassword).to.equal(400);
        expect(r.body.fields, newPassword).to.have.property('new_password');
        if (rule) expect(r.body.field_codes, newPassword).to.deep.equal({ new_password: rule });
      }
      expect(await logsIn(ts, h.cardNumber, GOOD_PASSWORD)).to.equal(true);
    });

    it('changes it: the old one stops working, the new one works, the holder is told and the audit trail has it', async () => {
      const h = await issueByApplication(ts);
      const r = await postJson(ts, '/api/cards/password', { card_number: h.cardNumber, password: h.password, new_password: 'Another good phrase' });
      expect(r.status, JSON.stringify(r.body)).to.equal(200);
      expect(await logsIn(ts, h.cardNumber, GOOD_PASSWORD)).to.equal(false);
      expect(await logsIn(ts, h.cardNumber, 'Another good phrase')).to.equal(true);
      expect(await latestMessage(ts, h.accountId, 'password_changed')).to.include({ method: 'change', last4: h.cardNumber.slice(-4) });
      // (The old password tried above is audited after it as a wrong one.)
      const changed = (await listAudit(ts.db, 'card', h.cardId)).filter((e) => e.action !== 'card.password_failed');
      expect(changed.at(-1)).to.include({ action: 'card.password_changed', actor: `card:${h.cardId}` });
      expect(changed.at(-1)!.details).to.include({ method: 'change' });
    });
  });

  describe('reset (with a one-time code)', () => {
    async function askCode(number: string, accountId: string): Promise<string> {
      const r = await postJson(ts, '/api/cards/password/reset/code', { card_number: number });
      expect(r.status).to.equal(202);
      return String((await latestMessage(ts, accountId, 'password_reset_code'))!.code);
    }
    const otherThan = (code: string) => (code === '123456' ? '654321' : '123456');
    const reset = (number: string, code: string, newPassword = 'A brand new phrase') =>
      postJson(ts, '/api/cards/password/reset', { card_number: number, code, new_password: newPassword });

    it('answers the same whether or not the card exists, and sends the code only to the holder', async () => {
      const h = await issueByApplication(ts);
      const known = await postJson(ts, '/api/cards/password/reset/code', { card_number: h.cardNumber });
      const unknown = await postJson(ts, '/api/cards/password/reset/code', { card_number: '4111111111111111' });
      expect(unknown).to.deep.equal(known);
      const rows = await ts.db('notifications_outbox').where({ account_id: h.accountId, template: 'password_reset_code' });
      const account = await ts.db('accounts').where({ id: h.accountId }).first();
      expect(rows.map((r: { recipient: string }) => r.recipient)).to.have.members([h.email, account.mobile]);
    });

    it('refuses a wrong code, then takes the right one once: a reused code is refused', async () => {
      const h = await issueByApplication(ts);
      const code = await askCode(h.cardNumber, h.accountId);
      const wrong = await reset(h.cardNumber, otherThan(code));
      expect(wrong.status).to.equal(400);
      expect(wrong.body.error).to.equal('invalid_code');
      expect(wrong.body.fields).to.have.property('code');

      // A refused password does not burn the code.
      const weak = await reset(h.cardNumber, code, 'password1');
      expect(weak.status).to.equal(400);
      expect(weak.body.field_codes).to.deep.equal({ new_password: 'common' });

      const ok = await reset(h.cardNumber, code);
      expect(ok.status, JSON.stringify(ok.body)).to.equal(200);
      expect(await logsIn(ts, h.cardNumber, 'A brand new phrase')).to.equal(true);
      expect(await logsIn(ts, h.cardNumber, GOOD_PASSWORD)).to.equal(false);
      expect(await latestMessage(ts, h.accountId, 'password_changed')).to.include({ method: 'reset' });

      const reused = await reset(h.cardNumber, code, 'Yet another phrase');
      expect(reused.status).to.equal(400);
      expect(reused.body.error).to.equal('invalid_code');
      expect(await logsIn(ts, h.cardNumber, 'A brand new phrase')).to.equal(true);
    });

    it('says nothing about the birthdate until the code has proved the card', async () => {
      const h = await issueByApplication(ts, { birthdate: '1987-03-14' });
      const code = await askCode(h.cardNumber, h.accountId);
      // Without the code, a password holding the birthdate is refused for the code alone, like any other.
      for (const guess of ['Tulip 19870314 field', 'Tulip 19870315 field']) {
        const r = await reset(h.cardNumber, otherThan(code), guess);
        expect(r.status).to.equal(400);
        expect(r.body.error).to.equal('invalid_code');
        expect(r.body.field_codes ?? {}).not.to.have.property('new_password');
      }
      // With it, the policy speaks, and the code stays good for a better password.
      const withCode = await reset(h.cardNumber, code, 'Tulip 19870314 field');
      expect(withCode.status).to.equal(400);
      expect(withCode.body.field_codes).to.deep.equal({ new_password: 'birthdate' });
      expect((await reset(h.cardNumber, code)).status).to.equal(200);
    });

    it('refuses an expired code', async () => {
      const h = await issueByApplication(ts);
      const code = await askCode(h.cardNumber, h.accountId);
      // Time passes: the code's ten minutes are over.
      await ts.db('one_time_codes').where({ card_id: h.cardId }).update({ expires_at: ts.db.raw("now() - interval '1 second'") });
      const r = await reset(h.cardNumber, code);
      expect(r.status).to.equal(400);
      expect(r.body.error).to.equal('invalid_code');
      expect(await logsIn(ts, h.cardNumber, GOOD_PASSWORD)).to.equal(true);
    });

    it('refuses a code that a newer one replaced', async () => {
      const h = await issueByApplication(ts);
      const first = await askCode(h.cardNumber, h.accountId);
      const second = await askCode(h.cardNumber, h.accountId);
      if (first !== second) expect((await reset(h.cardNumber, first)).status).to.equal(400);
      expect((await reset(h.cardNumber, second)).status).to.equal(200);
    });

    it('kills a code after five wrong guesses, even for the right code afterwards, answering as for a number no card has', async () => {
      const h = await issueByApplication(ts);
      const code = await askCode(h.cardNumber, h.accountId);
      const nobody = generateCardNumber(ts.config.cards.issuerPrefix);
      const answers: Array<{ status: number; body: unknown }> = [];
      for (let i = 0; i < 5; i++) {
        const r = await reset(h.cardNumber, otherThan(code));
        answers.push({ status: r.status, body: r.body });
      }
      // Neither the tries left nor that they ran out: whoever types only a number (and asked for a code for it) would
      // tell a real card by a different fifth answer. Every guess is answered as one at a number no card has.
      const atNobody = await reset(nobody, otherThan(code));
      expect(atNobody.status).to.equal(400);
      for (const a of answers) expect(a).to.deep.equal({ status: 400, body: atNobody.body });
      const right = await reset(h.cardNumber, code);
      expect({ status: right.status, body: right.body }).to.deep.equal({ status: 400, body: atNobody.body });
      expect(await logsIn(ts, h.cardNumber, GOOD_PASSWORD)).to.equal(true);
      // The code is dead, not merely refused: five wrong guesses were counted on it.
      expect((await ts.db('one_time_codes').where({ card_id: h.cardId }).first('attempts')).attempts).to.equal(5);
    });

    it('answers a wrong code for a card whose holder asked for one exactly as for a number no card has', async () => {
      const h = await issueByApplication(ts);
      await askCode(h.cardNumber, h.accountId);
      const nobody = generateCardNumber(ts.config.cards.issuerPrefix);
      const atReal = await reset(h.cardNumber, '000000');
      const atNobody = await reset(nobody, '000000');
      expect([atReal.status, atNobody.status]).to.deep.equal([400, 400]);
      expect(atReal.body).to.deep.equal(atNobody.body);
    });

    it('keeps the card number and puts the message beside the code on the hosted page', async () => {
      const h = await issueByApplication(ts);
      const code = await askCode(h.cardNumber, h.accountId);
      const agent = new Agent(ts.url);
      const page = await (await agent.get('/card/password/reset')).text();
      const asked = await agent.post('/card/password/reset/code', { csrf: csrfFrom(page), card_number: h.cardNumber });
      const enter = await asked.text();
      // The code's real lifetime (config oneTimeCodes.ttlSeconds), as the message that carries it says.
      expect(enter).to.include('A code works once and for 10 minutes.');
      expect(String((await latestMessage(ts, h.accountId, 'password_reset_code'))!.minutes)).to.equal('10');
      const res = await agent.post('/card/password/reset/confirm', {
        csrf: csrfFrom(enter),
        card_number: h.cardNumber,
        code: otherThan(code),
        new_password: 'A brand new phrase',
        new_password_confirm: 'A brand new phrase',
      });
      const html = await res.text();
      expect(res.status).to.equal(400);
      expect(fieldError(html, 'code')).to.equal('Not right, expired or already used.');
      expect(alertText(html)).to.equal('That code is not right, has expired or was already used. Check the latest code sent to you, or ask for a new one.');
      expect(inputValue(html, 'card_number')?.replace(/\D/g, '')).to.equal(h.cardNumber);
      expect(html).to.not.include('A brand new phrase');
    });
  });
});
