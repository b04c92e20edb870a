import { expect } from 'chai';
import type { ApplicationDeps } from '../../src/cards/application-deps.ts';
import { applicationPolicy } from '../../src/cards/application-policy.ts';
import { apply } from '../../src/cards/apply.ts';
import { cardNumberHmac } from '../../src/cards/card-number.ts';
import { changeLimit } from '../../src/cards/change-limit.ts';
import { blockCard } from '../../src/cards/block.ts';
import { closeCard } from '../../src/cards/close.ts';
import { CardNumberExhaustedError } from '../../src/cards/issue-card.ts';
import { reissue } from '../../src/cards/reissue.ts';
import { reportLost } from '../../src/cards/report-lost.ts';
import { verifyCredentials } from '../../src/cards/verify-credentials.ts';
import { listAudit } from '../../src/db/audit-log.ts';
import { luhnCheckDigit, luhnValid } from '../../src/lib/luhn.ts';
import { Agent, csrfFrom } from '../helpers/agent.ts';
import {
  APPLY_SERVER,
  application,
  applicationRowCounts,
  birthdateForAge,
  e164,
  GOOD_PASSWORD,
  issueByApplication,
  postApplication,
  templatesFor,
  uniqueEmail,
  uniqueIp,
  uniqueMobile,
  type ApplicationBody,
} from '../helpers/applicant.ts';
import { issueTestCard, type TestCard } from '../helpers/fixtures.ts';
import { alertText, fieldError, inputValue } from '../helpers/html.ts';
import { startCardManager, type TestServer } from '../helpers/server.ts';

const FORM = 'application/x-www-form-urlencoded';

/** The form fields of an application (the checkbox sends "yes" when ticked). */
function formOf(app: ApplicationBody): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(app)) out[k] = k === 'accept_terms' ? (v === true ? 'yes' : String(v)) : String(v);
  return out;
}

/** A browser on /apply: its cookies, csrf token and client IP. */
async function onApplyPage(ts: TestServer, ip = uniqueIp()) {
  const agent = new Agent(ts.url);
  const res = await agent.request('/apply', { headers: { 'x-forwarded-for': ip } });
  const html = await res.text();
  expect(res.status).to.equal(200);
  const csrf = csrfFrom(html);
  return {
    agent,
    html,
    post: (form: Record<string, string>) =>
      agent.request('/apply', {
        method: 'POST',
        headers: { 'content-type': FORM, 'x-forwarded-for': ip },
        body: new URLSearchParams({ csrf, ...form }).toString(),
      }),
  };
}

/** A card number with this issuer prefix and body, completed with its Luhn digit. */
function cardNumber(prefix: string, body: string): string {
  const digits = (prefix + body).slice(0, 15);
  return digits + String(luhnCheckDigit(digits));
}

describe('applying for a card', () => {
  let ts: TestServer;

  before(async () => {
    ts = await startCardManager(APPLY_SERVER);
  });
  after(() => ts?.stop());

  describe('POST /api/applications', () => {
    it('issues an active card at once: 201 with the full number once; only its HMAC and last four digits are stored', async () => {
      const app = application();
      const { status, body } = await postApplication(ts, app);
      expect(status, JSON.stringify(body)).to.equal(201);
      expect(body).to.include({ status: 'approved', card_status: 'active', credit_limit: 500_000, currency: 'KRW', guardian_linked: false });
      const number = String(body.card_number);
      expect(number).to.match(/^940512\d{10}$/);
      expect(luhnValid(number)).to.equal(true);
      expect(body.last4).to.equal(number.slice(-4));

      const card = await ts.db('cards').where({ id: body.card_id }).first();
      expect(card.status).to.equal('active');
      expect(Buffer.compare(card.number_hmac, cardNumberHmac(ts.config.secrets.cardHmacKey, number))).to.equal(0);
      const account = await ts.db('accounts').where({ id: card.account_id }).first();
      expect(account).to.include({ legal_name: app.legal_name, email: app.email, mobile: e164(String(app.mobile)), guardian_account_id: null });
      expect(Number(account.credit_limit)).to.equal(500_000);
      const stored = await ts.db('applications').where({ id: body.application_id }).first();
      expect(stored).to.include({ status: 'approved', card_id: card.id, account_id: account.id, decided_by: 'system' });
      for (const row of [card, account, stored]) expect(JSON.stringify(row)).to.not.include(number);

      // The chosen password works with the number; the holder got a "card issued" message on both channels.
      expect((await verifyCredentials(ts.cm.cards, number, GOOD_PASSWORD)).id).to.equal(card.id);
      expect(await templatesFor(ts, account.id)).to.deep.equal(['card_issued', 'card_issued']);
    });

    it('records the issuance in the audit trail: account opened, card issued, application approved, pending → active', async () => {
      const issued = await issueByApplication(ts);
      const card = await listAudit(ts.db, 'card', issued.cardId);
      expect(card.map((e) => e.action)).to.deep.equal(['card.issued', 'card.status_changed']);
      expect(card[1]!.details).to.include({ from: 'pending', to: 'active', reason: 'application approved automatically' });
      expect(card[1]!.actor).to.equal('system');
      const account = await listAudit(ts.db, 'account', issued.accountId);
      expect(account.map((e) => e.action)).to.deep.equal(['account.opened']);
      const appAudit = await listAudit(ts.db, 'application', String(issued.body.application_id));
      expect(appAudit.map((e) => e.action)).to.deep.equal(['application.approved']);
    });

    it('answers 415 to a body that is not JSON, and 400 to JSON that is not an object', async () => {
      const res = await fetch(`${ts.url}/api/applications`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'hello' });
      expect(res.status).to.equal(415);
      const arr = await postApplication(ts, [application()]);
      expect(arr.status).to.equal(400);
      expect(arr.body.error).to.equal('invalid_request');
    });
  });

  describe('refusals, each with its own reason and without anyone else’s data', () => {
    it('refuses an applicant under the minimum age (403 too_young, beside the date of birth) and keeps the refusal', async () => {
      const app = application({ birthdate: birthdateForAge(13) });
      const before = await ts.db('accounts').count({ n: '*' }).first();
      const { status, body } = await postApplication(ts, app);
      expect(status).to.equal(403);
      expect(body.error).to.equal('too_young');
      expect(body.error_description).to.equal('Cyber card holders must be at least 14 years old.');
      expect(body.fields).to.have.keys(['birthdate']);
      expect(body.field_codes).to.deep.equal({ birthdate: 'too_young' });
      const after = await ts.db('accounts').count({ n: '*' }).first();
      expect(Number(after!.n)).to.equal(Number(before!.n));
      const kept = await ts.db('applications').where({ email: app.email }).first();
      expect(kept).to.include({ status: 'rejected', reason: 'too_young', account_id: null, card_id: null });
    });

    it('refuses an email already on an open card (409 duplicate_email), in any letter case, naming nobody', async () => {
      const first = await issueByApplication(ts, { legal_name: 'Lee Jiwoo' });
      const { status, body } = await postApplication(ts, application({ email: first.email.toUpperCase() }));
      expect(status).to.equal(409);
      expect(body.error).to.equal('duplicate_email');
      expect(body.field_codes).to.deep.equal({ email: 'duplicate_email' });
      const text = JSON.stringify(body);
      expect(text).to.not.include('Lee');
      expect(text).to.not.include(first.cardNumber.slice(-4));
      expect(text).to.not.include(first.cardId);
    });

    it('refuses a mobile number already on an open card (409 duplicate_mobile), however it is typed', async () => {
      const mobile = uniqueMobile();
      await issueByApplication(ts, { mobile });
      const international = `+82 ${mobile.slice(1)}`;
      const { status, body } = await postApplication(ts, application({ mobile: international }));
      expect(status).to.equal(409);
      expect(body.error).to.equal('duplicate_mobile');
      expect(body.fields).to.have.keys(['mobile']);
    });

    it('lets the email of a closed card apply again', async () => {
      const first = await issueByApplication(ts);
      await closeCard(ts.db, { cardId: first.cardId, actor: 'test', reason: 'holder left' });
      const { status } = await postApplication(ts, application({ email: first.email }));
      expect(status).to.equal(201);
    });

    it('refuses the email or mobile of a card reported lost: its account is reissued, not opened a second time', async () => {
      const mobile = uniqueMobile();
      const first = await issueByApplication(ts, { mobile });
      await reportLost(ts.db, { cardId: first.cardId, actor: 'test', reason: 'lost on the bus', proof: 'password' });
      const byEmail = await postApplication(ts, application({ email: first.email }));
      expect(byEmail.status, JSON.stringify(byEmail.body)).to.equal(409);
      expect(byEmail.body.error).to.equal('duplicate_email');
      const byMobile = await postApplication(ts, application({ mobile }));
      expect(byMobile.status, JSON.stringify(byMobile.body)).to.equal(409);
      expect(byMobile.body.error).to.equal('duplicate_mobile');
      // Else one person would hold two accounts and two credit lines once the lost card is reissued.
      await reissue(ts.cm.cards, { cardId: first.cardId, actor: 'test', reason: 'replaced' });
      const accounts = await ts.db('accounts').whereRaw('lower(email) = ?', [first.email]).count({ n: '*' }).first();
      expect(Number(accounts?.n)).to.equal(1);
    });

    it('lets the email of a closed card apply again though a card before it was reported lost and replaced', async () => {
      const first = await issueByApplication(ts);
      await reportLost(ts.db, { cardId: first.cardId, actor: 'test', reason: 'lost', proof: 'password' });
      const replacement = await reissue(ts.cm.cards, { cardId: first.cardId, actor: 'test', reason: 'replaced' });
      await closeCard(ts.db, { cardId: replacement.cardId, actor: 'test', reason: 'holder left' });
      const { status, body } = await postApplication(ts, application({ email: first.email }));
      expect(status, JSON.stringify(body)).to.equal(201);
    });

    it('refuses a password that is too short, is the date of birth, holds a run of card-number digits, or is common (400, nothing stored)', async () => {
      const cases: Array<[string, string]> = [
        ['Ab3$x', 'too_short'],
        ['1990-05-17', 'birthdate'],
        ['17.05.1990 Minsu', 'birthdate'],
        ['lamp 940512 harbor', 'card_digits'],
        ['password123', 'common'],
        ['iloveyou', 'common'],
      ];
      for (const [password, rule] of cases) {
        const before = await applicationRowCounts(ts);
        const { status, body } = await postApplication(ts, application({ password, password_confirm: password }));
        expect(status, password).to.equal(400);
        expect(body.field_codes, password).to.deep.equal({ password: rule });
        expect(body.fields, password).to.have.keys(['password']);
        expect(await applicationRowCounts(ts), password).to.deep.equal(before);
      }
    });

    it('refuses two different passwords (400 beside the second)', async () => {
      const { status, body } = await postApplication(ts, application({ password_confirm: `${GOOD_PASSWORD}!` }));
      expect(status).to.equal(400);
      expect(body.field_codes).to.deep.equal({ password_confirm: 'mismatch' });
    });

    it('refuses an application without the terms accepted', async () => {
      const { status, body } = await postApplication(ts, application({ accept_terms: false }));
      expect(status).to.equal(400);
      expect(body.field_codes).to.deep.equal({ accept_terms: 'required' });
    });

    it('refuses the fourth application of a day for one email address (429 email_limit), refused ones counting', async () => {
      const email = uniqueEmail('limit');
      for (let i = 0; i < 3; i++) {
        const r = await postApplication(ts, application({ email, birthdate: birthdateForAge(10) }));
        expect(r.body.error).to.equal('too_young');
      }
      const { status, body } = await postApplication(ts, application({ email }));
      expect(status).to.equal(429);
      expect(body.error).to.equal('email_limit');
      expect(body.field_codes).to.deep.equal({ email: 'email_limit' });
    });

    describe('with a per-IP limit of 3 a day', () => {
      let limited: TestServer;
      before(async () => {
        limited = await startCardManager({ trustProxy: true, cards: { applicationLimits: { perIpPerDay: 3, perEmailPerDay: 3 } } });
      });
      after(() => limited?.stop());

      it('refuses the fourth application from one IP address (429 ip_limit) and takes the next from another', async () => {
        const ip = uniqueIp();
        expect((await postApplication(limited, application(), ip)).status).to.equal(201);
        expect((await postApplication(limited, application({ birthdate: birthdateForAge(12) }), ip)).status).to.equal(403);
        expect((await postApplication(limited, application(), ip)).status).to.equal(201);
        const before = await applicationRowCounts(limited);
        const { status, body } = await postApplication(limited, application(), ip);
        expect(status).to.equal(429);
        expect(body.error).to.equal('ip_limit');
        expect(body.error_description).to.equal('Too many applications were sent from your network today. Please try again tomorrow.');
        expect(await applicationRowCounts(limited), 'an application over the limit leaves no trace').to.deep.equal(before);
        expect((await postApplication(limited, application(), uniqueIp())).status).to.equal(201);
      });

      it('counts an IPv6 /64 as one network, as the password throttles do', async () => {
        const net = `2001:db8:${Math.floor(Math.random() * 0xffff).toString(16)}:${Math.floor(Math.random() * 0xffff).toString(16)}`;
        const statuses: number[] = [];
        for (let i = 1; i <= 4; i++) statuses.push((await postApplication(limited, application(), `${net}::${i}`)).status);
        expect(statuses).to.deep.equal([201, 201, 201, 429]);
        const rows = await limited.db('applications').where('ip', 'like', `${net}::%`).select('ip', 'ip_key');
        expect(new Set(rows.map((r: { ip_key: string }) => r.ip_key))).to.deep.equal(new Set([`${net}::/64`]));
        expect(rows.map((r: { ip: string }) => r.ip).sort()).to.deep.equal([`${net}::1`, `${net}::2`, `${net}::3`]);
      });
    });

    describe('with a deny list', () => {
      let guarded: TestServer;
      before(async () => {
        guarded = await startCardManager({
          ...APPLY_SERVER,
          cards: {
            ...APPLY_SERVER.cards,
            denyList: { action: 'refuse', names: ['mallory *'], emails: ['*@blocked.example'], mobiles: ['+8210999*', '010-7770-*'] },
          },
        });
      });
      after(() => guarded?.stop());

      it('refuses a listed name, email or mobile (403 denied) without saying which entry matched', async () => {
        const listed = [
          application({ legal_name: 'MALLORY  Smith' }),
          application({ email: `eve-${Date.now()}@Blocked.Example` }),
          application({ mobile: '010-9991-2345' }),
          // A pattern written in national form, as an operator would: matched against the stored E.164 number.
          application({ mobile: '010-7770-1234' }),
        ];
        for (const app of listed) {
          const { status, body } = await postApplication(guarded, app);
          expect(status, JSON.stringify(app)).to.equal(403);
          expect(body.error).to.equal('denied');
          expect(body.error_description).to.equal('We cannot accept this application online. Please contact customer service.');
          expect(body).to.not.have.property('fields');
        }
        expect((await postApplication(guarded, application({ legal_name: 'Malloryanne Smith' }))).status).to.equal(201);
      });
    });
  });

  describe('minors and guardians', () => {
    let guardian: TestCard;

    before(async () => {
      guardian = await issueTestCard(ts, '1980-03-03', 'Park Guardian');
      await changeLimit(ts.db, { cardId: guardian.cardId, creditLimit: 20_000, actor: 'test', reason: 'test guardian' });
    });

    const minor = (over: ApplicationBody = {}) => application({ legal_name: 'Park Child', birthdate: birthdateForAge(16), ...over });

    it('refuses a minor without a guardian (403 guardian_required beside the guardian card number)', async () => {
      const { status, body } = await postApplication(ts, minor());
      expect(status).to.equal(403);
      expect(body.error).to.equal('guardian_required');
      expect(body.field_codes).to.deep.equal({ guardian_card_number: 'guardian_required' });
    });

    it('refuses a wrong guardian password, a guardian card that is not active, and a guardian who is a minor', async () => {
      const wrong = await postApplication(ts, minor({ guardian_card_number: guardian.number, guardian_password: 'not the password' }));
      expect(wrong.status).to.equal(403);
      expect(wrong.body.error).to.equal('guardian_invalid');

      const blocked = await issueTestCard(ts, '1975-01-01', 'Blocked Guardian');
      await blockCard(ts.db, { cardId: blocked.cardId, actor: 'test', reason: 'test' });
      const inactive = await postApplication(ts, minor({ guardian_card_number: blocked.number, guardian_password: blocked.password }));
      expect(inactive.body.error).to.equal('guardian_invalid');

      const teen = await issueTestCard(ts, birthdateForAge(17), 'Teen Guardian');
      const young = await postApplication(ts, minor({ guardian_card_number: teen.number, guardian_password: teen.password }));
      expect(young.status).to.equal(403);
      expect(young.body.error).to.equal('guardian_not_adult');
      // The same message for a wrong password as for an unknown number: nothing about the guardian leaks.
      expect(wrong.body.error_description).to.equal(inactive.body.error_description);
    });

    it('issues a minor card linked to the guardian, recording the guardian’s card, with the limit capped by the guardian’s', async () => {
      const spaced = guardian.number.replace(/(\d{4})(?=\d)/g, '$1 ');
      const { status, body } = await postApplication(ts, minor({ guardian_card_number: spaced, guardian_password: guardian.password }));
      expect(status, JSON.stringify(body)).to.equal(201);
      expect(body).to.include({ guardian_linked: true, credit_limit: 20_000 });
      const card = await ts.db('cards').where({ id: body.card_id }).first();
      const account = await ts.db('accounts').where({ id: card.account_id }).first();
      expect(account.guardian_account_id).to.equal(guardian.accountId);
      expect(Number(account.credit_limit)).to.equal(20_000);
      const stored = await ts.db('applications').where({ id: body.application_id }).first();
      expect(stored).to.include({ guardian_account_id: guardian.accountId, guardian_card_id: guardian.cardId });
      const opened = await listAudit(ts.db, 'account', account.id);
      expect(opened[0]!.details).to.include({ guardianAccountId: guardian.accountId, guardianCardId: guardian.cardId });

      // The cap holds afterwards too: the operator cannot lift a minor above the guardian.
      let err: unknown;
      try {
        await changeLimit(ts.db, { cardId: card.id, creditLimit: 30_000, actor: 'test', reason: 'too high' });
      } catch (e) {
        err = e;
      }
      expect((err as { fields?: Record<string, string> }).fields).to.have.property('credit_limit');

      // Nor by lowering the guardian: the minor's limit comes down with it, audited.
      await changeLimit(ts.db, { cardId: guardian.cardId, creditLimit: 15_000, actor: 'test', reason: 'lowered' });
      expect(Number((await ts.db('accounts').where({ id: account.id }).first()).credit_limit)).to.equal(15_000);
      const lowered = (await listAudit(ts.db, 'account', account.id)).find((e) => e.action === 'account.credit_limit_changed');
      expect(lowered!.details).to.include({ from: 20_000, to: 15_000 });
      await changeLimit(ts.db, { cardId: guardian.cardId, creditLimit: 20_000, actor: 'test', reason: 'restored' });
      expect(Number((await ts.db('accounts').where({ id: account.id }).first()).credit_limit), 'raising never raises a minor').to.equal(15_000);
    });

    it('gives a minor the configured minor limit when the guardian’s is higher, and lets the minor share the guardian’s email', async () => {
      const rich = await issueTestCard(ts, '1970-07-07', 'Rich Guardian');
      await changeLimit(ts.db, { cardId: rich.cardId, creditLimit: 900_000, actor: 'test', reason: 'test guardian' });
      const email = uniqueEmail('family');
      await ts.db('accounts').where({ id: rich.accountId }).update({ email });
      const { status, body } = await postApplication(ts, minor({ email, guardian_card_number: rich.number, guardian_password: rich.password }));
      expect(status, JSON.stringify(body)).to.equal(201);
      expect(body.credit_limit).to.equal(50_000);
    });

    it('sends a minor with both the guardian\'s email and mobile to a person, not straight to a card', async () => {
      const parent = await issueTestCard(ts, '1975-03-03', 'Shared Guardian');
      await changeLimit(ts.db, { cardId: parent.cardId, creditLimit: 100_000, actor: 'test', reason: 'test guardian' });
      const email = uniqueEmail('shared');
      const mobile = uniqueMobile();
      await ts.db('accounts').where({ id: parent.accountId }).update({ email, mobile: e164(mobile) });
      const { status, body } = await postApplication(ts, minor({ email, mobile, guardian_card_number: parent.number, guardian_password: parent.password }));
      expect(status, JSON.stringify(body)).to.equal(202);
      expect(body.review_reason).to.equal('guardian_contacts');
    });

    /** A guardian of their own (limit 100,000), with an email and mobile their children may give too. */
    async function familyGuardian(name: string) {
      const card = await issueTestCard(ts, '1978-04-04', name);
      await changeLimit(ts.db, { cardId: card.cardId, creditLimit: 100_000, actor: 'test', reason: 'test guardian' });
      const email = uniqueEmail('family');
      const mobile = uniqueMobile();
      await ts.db('accounts').where({ id: card.accountId }).update({ email, mobile: e164(mobile) });
      return { ...card, email, mobile, vouch: { guardian_card_number: card.number, guardian_password: card.password } };
    }

    it('lets siblings give the guardian’s email or mobile: the second child is no duplicate of the first', async () => {
      const g = await familyGuardian('Cho Guardian');
      const children = [
        minor({ legal_name: 'Cho Ara', email: g.email, ...g.vouch }),
        minor({ legal_name: 'Cho Bora', email: g.email, ...g.vouch }),
        minor({ legal_name: 'Cho Dana', mobile: g.mobile, ...g.vouch }),
        minor({ legal_name: 'Cho Ena', mobile: g.mobile, ...g.vouch }),
      ];
      for (const child of children) {
        const { status, body } = await postApplication(ts, child);
        expect(status, `${String(child.legal_name)}: ${JSON.stringify(body)}`).to.equal(201);
      }
      expect(await ts.db('accounts').where({ guardian_account_id: g.accountId })).to.have.length(4);
    });

    it('sends two siblings who both give the guardian’s email and mobile to a person, and both get cards once approved', async () => {
      const g = await familyGuardian('Seo Guardian');
      for (const name of ['Seo Haneul', 'Seo Byeol']) {
        const { status, body } = await postApplication(ts, minor({ legal_name: name, email: g.email, mobile: g.mobile, ...g.vouch }));
        expect(status, `${name}: ${JSON.stringify(body)}`).to.equal(202);
        expect(body.review_reason).to.equal('guardian_contacts');
        const res = await fetch(`${ts.url}/admin/api/applications/${String(body.application_id)}/approve`, {
          method: 'POST',
          headers: { authorization: `Bearer ${ts.config.secrets.operatorToken}` },
        });
        expect(res.status, `${name}: ${await res.clone().text()}`).to.equal(200);
        expect((await ts.db('cards').where({ id: body.card_id }).first()).status).to.equal('active');
      }
    });

    it('refuses the same child twice under one guardian (409 duplicate_ward), whatever contacts the second time gives', async () => {
      const g = await familyGuardian('Yoon Guardian');
      const first = await postApplication(ts, minor({ legal_name: 'Yoon Jisoo', ...g.vouch }));
      expect(first.status, JSON.stringify(first.body)).to.equal(201);
      for (const again of [
        minor({ legal_name: 'Yoon Jisoo', ...g.vouch }),
        minor({ legal_name: 'YOON  jisoo', email: g.email, mobile: g.mobile, ...g.vouch }),
        // Fullwidth letters are the same name (NFKC).
        minor({ legal_name: 'Ｙｏｏｎ Ｊｉｓｏｏ', ...g.vouch }),
      ]) {
        const before = await applicationRowCounts(ts);
        const { status, body } = await postApplication(ts, again);
        expect(status, JSON.stringify(body)).to.equal(409);
        expect(body.error).to.equal('duplicate_ward');
        expect(body.field_codes).to.deep.equal({ legal_name: 'duplicate_ward' });
        expect(body.error_description).to.match(/already vouches for a cyber card holder with this name and date of birth/);
        const after = await applicationRowCounts(ts);
        expect(after.accounts, 'no second account').to.equal(before.accounts);
        expect(after.cards, 'no second card').to.equal(before.cards);
      }
      // A twin (another name, the same birthday) is a child of their own; and once the first card is closed, the child may apply again.
      expect((await postApplication(ts, minor({ legal_name: 'Yoon Jiho', email: g.email, ...g.vouch }))).status).to.equal(201);
      await closeCard(ts.db, { cardId: String(first.body.card_id), actor: 'test', reason: 'holder left' });
      expect((await postApplication(ts, minor({ legal_name: 'Yoon Jisoo', ...g.vouch }))).status).to.equal(201);
    });

    it('still refuses a sibling’s own email or mobile: only the guardian’s contacts are shared', async () => {
      const g = await familyGuardian('Han Guardian');
      const elder = minor({ legal_name: 'Han Mina', ...g.vouch });
      expect((await postApplication(ts, elder)).status).to.equal(201);
      const byEmail = await postApplication(ts, minor({ legal_name: 'Han Sora', email: elder.email, ...g.vouch }));
      expect(byEmail.body.error).to.equal('duplicate_email');
      const byMobile = await postApplication(ts, minor({ legal_name: 'Han Sora', mobile: elder.mobile, ...g.vouch }));
      expect(byMobile.body.error).to.equal('duplicate_mobile');
    });

    it('refuses a child under the minimum age even with a valid guardian', async () => {
      const { body } = await postApplication(
        ts,
        minor({ birthdate: birthdateForAge(12), guardian_card_number: guardian.number, guardian_password: guardian.password }),
      );
      expect(body.error).to.equal('too_young');
    });
  });

  describe('card numbers', () => {
    const prefix = '940512';
    let queue: string[];
    let deps: ApplicationDeps;
    const sub = () => ({ ip: uniqueIp(), locale: 'en' as const });

    beforeEach(() => {
      queue = [];
      // A deterministic draw through the real seam (CardDeps.generateNumber): everything else is the real apply().
      deps = {
        cards: {
          ...ts.cm.cards,
          generateNumber: () => {
            const next = queue.shift();
            if (!next) throw new Error('the test ran out of card numbers');
            return next;
          },
        },
        policy: applicationPolicy(ts.config.cards),
        timeZone: ts.config.billing.timeZone,
        delinquency: { ...ts.config.delinquency, timeZone: ts.config.billing.timeZone },
      };
    });

    async function applyWith(numbers: string[], over: ApplicationBody = {}) {
      queue.push(...numbers);
      const app = application(over);
      return apply(deps, {
        legalName: String(app.legal_name),
        birthdate: String(app.birthdate),
        email: String(app.email),
        mobile: e164(String(app.mobile)),
        password: String(app.password),
      }, sub());
    }

    const holders = (n: string) => ts.db('cards').where({ number_hmac: cardNumberHmac(ts.config.secrets.cardHmacKey, n) }).count({ n: '*' }).first();

    it('draws again when the number is taken, and never gives two cards one number', async () => {
      const taken = cardNumber(prefix, `${Date.now()}`.slice(-9));
      const fresh = cardNumber(prefix, `${Date.now() + 1}`.slice(-9));
      const first = await applyWith([taken]);
      expect(first.cardNumber).to.equal(taken);

      const second = await applyWith([taken, fresh]);
      expect(second.cardNumber).to.equal(fresh);
      expect(Number((await holders(taken))!.n)).to.equal(1);
      expect(Number((await holders(fresh))!.n)).to.equal(1);
      const issued = (await listAudit(ts.db, 'card', second.cardId)).find((e) => e.action === 'card.issued');
      expect(issued!.details).to.include({ numberDraws: 2 });
    });

    it('draws again on reissue when the new number is taken, inside the one reissue transaction', async () => {
      const taken = cardNumber(prefix, `${Date.now() + 3}`.slice(-9));
      const fresh = cardNumber(prefix, `${Date.now() + 4}`.slice(-9));
      const first = await applyWith([taken]);
      queue.push(taken, fresh);
      const again = await reissue(deps.cards, { cardId: first.cardId, actor: 'test', reason: 'a collision on the way' });
      expect(again.cardNumber).to.equal(fresh);
      expect(Number((await holders(taken))!.n)).to.equal(1);
      expect(await ts.db('cards').where({ id: again.cardId }).first()).to.include({ status: 'active', account_id: first.accountId });
    });

    it('gives up after five taken numbers without storing anything', async () => {
      const taken = cardNumber(prefix, `${Date.now() + 7}`.slice(-9));
      await applyWith([taken]);
      const before = await applicationRowCounts(ts);
      let err: unknown;
      try {
        await applyWith([taken, taken, taken, taken, taken]);
      } catch (e) {
        err = e;
      }
      expect(err).to.be.instanceOf(CardNumberExhaustedError);
      expect(await applicationRowCounts(ts)).to.deep.equal(before);
      expect(Number((await holders(taken))!.n)).to.equal(1);
    });

    it('draws again when the number shares a run of six digits with the chosen password', async () => {
      const password = 'Lamp 123456789 violet';
      const clash = cardNumber(prefix, '123456789');
      const fresh = cardNumber(prefix, `${Date.now() + 13}`.slice(-9));
      const issued = await applyWith([clash, fresh], { password, password_confirm: password });
      expect(issued.cardNumber).to.equal(fresh);
    });
  });

  describe('logs', () => {
    const lines: string[] = [];
    let logged: TestServer;
    before(async () => {
      logged = await startCardManager({ ...APPLY_SERVER, logLevel: 'trace' }, { logStream: { write: (l: string) => void lines.push(l) } });
    });
    after(() => logged?.stop());

    it('never hold the card number or the password, whether the card comes from the API or the form', async () => {
      const api = await postApplication(logged, application());
      const page = await onApplyPage(logged);
      const form = await (await page.post(formOf(application()))).text();
      const numbers = [String(api.body.card_number), /id="card-number"[^>]*>([\d ]+)</.exec(form)![1]!.replace(/ /g, '')];
      const refused = await postApplication(logged, application({ password: 'password123', password_confirm: 'password123' }));
      expect(refused.status).to.equal(400);

      const all = lines.join('\n');
      expect(lines.filter((l) => l.includes('"msg":"request"')).length).to.be.greaterThan(2);
      for (const n of numbers) {
        expect(n).to.match(/^\d{16}$/);
        expect(all).to.not.include(n);
        expect(all).to.not.include(n.replace(/(\d{4})(?=\d)/g, '$1 '));
      }
      expect(all).to.not.include(GOOD_PASSWORD);
      expect(all).to.not.include('password123');
    });
  });

  describe('in parallel', () => {
    it('gives exactly one card for ten simultaneous applications with the same email', async () => {
      const email = uniqueEmail('race');
      const answers = await Promise.all(Array.from({ length: 10 }, () => postApplication(ts, application({ email }))));
      const statuses = answers.map((a) => a.status);
      expect(statuses.filter((s) => s === 201), statuses.join(',')).to.have.length(1);
      for (const a of answers.filter((x) => x.status !== 201)) expect(['duplicate_email', 'email_limit']).to.include(a.body.error);
      const accounts = await ts.db('accounts').whereRaw('lower(email) = ?', [email]);
      expect(accounts).to.have.length(1);
      const cards = await ts.db('cards').whereIn('account_id', accounts.map((a: { id: string }) => a.id));
      expect(cards).to.have.length(1);
    });
  });

  describe('the /apply page', () => {
    it('shows a form with a label for every field and a csrf token, and never caches it', async () => {
      const res = await fetch(`${ts.url}/apply`);
      const html = await res.text();
      expect(res.status).to.equal(200);
      expect(res.headers.get('cache-control')).to.equal('no-store');
      for (const [id, label] of [
        ['legal_name', 'Full legal name'],
        ['birthdate', 'Date of birth'],
        ['email', 'Email address'],
        ['mobile', 'Mobile number'],
        ['password', 'Password'],
        ['password_confirm', 'Password again'],
        ['guardian_card_number', 'Guardian&#39;s card number'],
        ['guardian_password', 'Guardian&#39;s card password'],
        ['accept_terms', 'I accept the terms of use'],
      ]) {
        expect(html).to.include(`<label for="${id}">${label}</label>`);
        expect(html).to.match(new RegExp(`id="${id}" name="${id}"`));
      }
      expect(html).to.match(/name="csrf" value="[^"]+"/);
    });

    it('issues the card and shows its number once on the result page (201, not cached, not a redirect)', async () => {
      const page = await onApplyPage(ts);
      const res = await page.post(formOf(application()));
      const html = await res.text();
      expect(res.status).to.equal(201);
      expect(res.headers.get('location')).to.equal(null);
      expect(res.headers.get('cache-control')).to.equal('no-store');
      const shown = /id="card-number"[^>]*>([\d ]+)</.exec(html)![1]!;
      expect(shown).to.match(/^9405 12\d\d( \d{4}){2}$/);
      expect(html).to.include('Copy card number');
      expect(html).to.include('It is shown only');
      expect(html).to.not.include('pending-review');
      // The copy button's script runs under a per-response nonce, nothing else may.
      const nonce = /<script nonce="([^"]+)">/.exec(html)![1]!;
      expect(res.headers.get('content-security-policy')).to.include(`script-src 'nonce-${nonce}'`);
      const digits = shown.replace(/ /g, '');
      expect((await verifyCredentials(ts.cm.cards, digits, GOOD_PASSWORD)).status).to.equal('active');
    });

    it('comes back with the values kept (never the passwords) and the reason beside the field', async () => {
      const page = await onApplyPage(ts);
      const app = application({ birthdate: birthdateForAge(13), guardian_card_number: '' });
      const res = await page.post(formOf(app));
      const html = await res.text();
      expect(res.status).to.equal(403);
      expect(fieldError(html, 'birthdate')).to.equal('Cyber card holders must be at least 14 years old.');
      expect(inputValue(html, 'legal_name')).to.equal(app.legal_name);
      expect(inputValue(html, 'email')).to.equal(app.email);
      expect(inputValue(html, 'mobile')).to.equal(app.mobile);
      expect(inputValue(html, 'birthdate')).to.equal(app.birthdate);
      expect(html).to.match(/id="accept_terms"[^>]*checked/);
      expect(inputValue(html, 'password')).to.equal(undefined);
      expect(html).to.not.include(GOOD_PASSWORD);
      expect(html).to.match(/id="birthdate"[^>]*aria-invalid="true"[^>]*aria-describedby="birthdate-hint birthdate-error"/s);
    });

    it('shows a refusal without a field (deny list, daily limit) as the page’s alert', async () => {
      const email = uniqueEmail('form-limit');
      for (let i = 0; i < 3; i++) await postApplication(ts, application({ email, birthdate: birthdateForAge(9) }));
      const page = await onApplyPage(ts);
      const res = await page.post(formOf(application({ email })));
      const html = await res.text();
      expect(res.status).to.equal(429);
      expect(fieldError(html, 'email')).to.equal('Too many applications were sent for this email address today. Please try again tomorrow.');
      expect(alertText(html)).to.equal('Too many applications were sent for this email address today. Please try again tomorrow.');
    });

    it('refuses a post without the csrf token (403) and stores nothing', async () => {
      const before = await applicationRowCounts(ts);
      const res = await fetch(`${ts.url}/apply`, {
        method: 'POST',
        headers: { 'content-type': FORM, 'x-forwarded-for': uniqueIp() },
        body: new URLSearchParams(formOf(application())).toString(),
      });
      expect(res.status).to.equal(403);
      expect(await applicationRowCounts(ts)).to.deep.equal(before);
    });
  });
});
