import { expect } from 'chai';
import { Agent, csrfOf } from '../helpers/agent.ts';
import { APPLY_SERVER, GOOD_PASSWORD, issueByApplication } from '../helpers/applicant.ts';
import { fieldsWithErrors, inputValue } from '../helpers/html.ts';
import { startCardManager, type TestServer } from '../helpers/server.ts';

/**
 * The issue's bad-input rule for the card's own forms and API (report lost, reissue, change and reset the
 * password, ask for a code), as test/cards/apply-bad-input.test.ts holds it for the application: each field tried
 * with hostile values → 400 naming exactly that field, the form back with the card number kept and a message beside
 * the field, and nothing stored (no code, no message, no audit entry, no throttle count, the card as it was).
 */

const TEN_KB = 'a'.repeat(10 * 1024);

/** Values that are bad in every field. */
const STRUCTURAL: ReadonlyArray<[string, string]> = [
  ['empty', ''],
  ['10 KB', TEN_KB],
  ['control characters', '12\u0000 34\u001b'],
  ['a line break', '1234\r\n5678'],
];
/**
 * Values bad in a card number or a code, and yet a password as good as any (NIST SP 800-63B: any printable text):
 * typed as a password they are a wrong password (audited and counted), which other tests cover.
 */
const PRINTABLE: ReadonlyArray<[string, string]> = [
  ['mixed scripts', 'Kim Мinsu'],
  ['SQL', "'; DROP TABLE cards; --"],
  ['HTML and script', '<script>alert(1)</script>'],
];
/** Card numbers of the wrong shape. */
const CARD_NUMBERS: ReadonlyArray<[string, string]> = [
  ['15 digits', '9405 1200 0000 000'],
  ['17 digits', '9405 1200 0000 0000 1'],
  ['a wrong check digit', '9405120000000001'],
  ['letters', '9405-12ab-0000-0000'],
  ['full-width digits', '９４０５１２０００００００００'],
];
/** Codes of the wrong shape (a code is six digits). */
const CODES: ReadonlyArray<[string, string]> = [
  ['five digits', '12345'],
  ['seven digits', '1234567'],
  ['letters', '12a456'],
  ['a negative number', '-12345'],
];

type Kind = 'card_number' | 'password' | 'code' | 'new_password';

function valuesFor(kind: Kind): ReadonlyArray<[string, string]> {
  if (kind === 'card_number') return [...STRUCTURAL, ...PRINTABLE, ...CARD_NUMBERS];
  if (kind === 'code') return [...STRUCTURAL, ...PRINTABLE, ...CODES];
  return STRUCTURAL;
}

interface Target {
  /** The API route under /api/cards, and the form's action. */
  api: string;
  form: string;
  /** The page whose form posts to `form` (a code's entry page comes after asking for a code). */
  page: { get: string } | { askAt: string; ask: string };
  fields: Partial<Record<string, Kind>>;
}

const TARGETS: Target[] = [
  { api: '/lost', form: '/card/lost', page: { get: '/card/lost' }, fields: { card_number: 'card_number', password: 'password' } },
  { api: '/lost', form: '/card/lost/confirm', page: { askAt: '/card/lost/code', ask: '/card/lost/code' }, fields: { card_number: 'card_number', code: 'code' } },
  { api: '/reissue', form: '/card/reissue/confirm', page: { askAt: '/card/reissue', ask: '/card/reissue/code' }, fields: { card_number: 'card_number', code: 'code' } },
  {
    api: '/password',
    form: '/card/password',
    page: { get: '/card/password' },
    fields: { card_number: 'card_number', password: 'password', new_password: 'new_password' },
  },
  {
    api: '/password/reset',
    form: '/card/password/reset/confirm',
    page: { askAt: '/card/password/reset', ask: '/card/password/reset/code' },
    fields: { card_number: 'card_number', code: 'code', new_password: 'new_password' },
  },
  { api: '/lost/code', form: '/card/lost/code', page: { get: '/card/lost/code' }, fields: { card_number: 'card_number' } },
  { api: '/reissue/code', form: '/card/reissue/code', page: { get: '/card/reissue' }, fields: { card_number: 'card_number' } },
  { api: '/password/reset/code', form: '/card/password/reset/code', page: { get: '/card/password/reset' }, fields: { card_number: 'card_number' } },
];

describe('bad input to the card forms and API (lost, reissue, password change and reset, codes)', () => {
  let ts: TestServer;
  let card: { number: string; cardId: string; accountId: string };

  before(async () => {
    ts = await startCardManager(APPLY_SERVER);
    const h = await issueByApplication(ts);
    card = { number: h.cardNumber, cardId: h.cardId, accountId: h.accountId };
  });
  after(() => ts?.stop());

  /** A valid body for the target: the real card, its password, a code of the right shape, a good new password. */
  function goodBody(t: Target): Record<string, string> {
    const good: Record<Kind, string> = { card_number: card.number, password: GOOD_PASSWORD, code: '123456', new_password: 'A brand new phrase' };
    const body: Record<string, string> = {};
    for (const [field, kind] of Object.entries(t.fields)) body[field] = good[kind!];
    return body;
  }

  /** Everything a proof, a code or a change could write, and the card itself. */
  async function snapshot(): Promise<Record<string, unknown>> {
    const out: Record<string, unknown> = {};
    for (const table of ['audit_log', 'notifications_outbox', 'one_time_codes', 'throttles', 'cards', 'oidc_payloads']) {
      out[table] = Number((await ts.db(table).count({ n: '*' }).first())?.n);
    }
    const row = await ts.db('cards').where({ id: card.cardId }).first();
    out.card = { status: row.status, password_hash: row.password_hash };
    return out;
  }

  it('answers each API route 400 naming exactly the bad field, for every hostile value and wrong type, storing nothing', async () => {
    for (const t of TARGETS) {
      for (const [field, kind] of Object.entries(t.fields)) {
        const cases: Array<[string, unknown]> = [...valuesFor(kind!), ['a number', 42], ['an array', ['1']], ['an object', { a: 1 }], ['null', null]];
        for (const [what, value] of cases) {
          const label = `${t.api} ${field} = ${what}`;
          const before = await snapshot();
          const res = await fetch(`${ts.url}/api/cards${t.api}`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ ...goodBody(t), [field]: value }),
          });
          const body = (await res.json()) as { error: string; fields?: Record<string, string> };
          expect(res.status, `${label}: ${JSON.stringify(body).slice(0, 200)}`).to.equal(400);
          expect(body.error, label).to.equal('invalid_request');
          expect(Object.keys(body.fields ?? {}), label).to.deep.equal([field]);
          expect(await snapshot(), `${label} stored something`).to.deep.equal(before);
        }
      }
    }
  });

  it('brings each form back with a message beside exactly the bad field, the card number kept, no password, and nothing stored', async () => {
    for (const t of TARGETS) {
      const agent = new Agent(ts.url);
      let html: string;
      if ('get' in t.page) html = await (await agent.get(t.page.get)).text();
      else {
        // Asking for a code (which writes one) comes before the snapshot.
        const ask = await (await agent.get(t.page.askAt)).text();
        html = await (await agent.post(t.page.ask, { csrf: csrfOf(ask, t.page.ask), card_number: card.number })).text();
      }
      const csrf = csrfOf(html, t.form);
      const confirm = 'new_password' in t.fields ? ['new_password_confirm'] : [];
      for (const [field, kind] of Object.entries(t.fields)) {
        for (const [what, value] of valuesFor(kind!)) {
          const label = `${t.form} ${field} = ${what}`;
          const form: Record<string, string> = { csrf, ...goodBody(t), [field]: value };
          // (10 KB twice would exceed the form's body limit: that one goes with a short confirmation, never compared.)
          for (const c of confirm) form[c] = field === 'new_password' && value !== TEN_KB ? value : goodBody(t).new_password!;
          const before = await snapshot();
          const res = await agent.post(t.form, form);
          const page = await res.text();
          expect(res.status, label).to.equal(400);
          // The confirmation goes with the new password (the same control characters, or the short one sent beside
          // 10 KB, which differs): it may be told so too, as the application's is.
          const flagged = fieldsWithErrors(page).sort();
          if (field === 'new_password') expect(['new_password', 'new_password,new_password_confirm'], label).to.include(flagged.join(','));
          else expect(flagged, label).to.deep.equal([field]);
          expect(page, `${label}: marked invalid`).to.match(new RegExp(`name="${field}"[^>]*aria-invalid="true"|aria-invalid="true"[^>]*name="${field}"`));
          if (field !== 'card_number') expect(inputValue(page, 'card_number')?.replace(/\D/g, ''), `${label}: card number kept`).to.equal(card.number);
          for (const secret of ['password', 'new_password', 'new_password_confirm']) expect(inputValue(page, secret), `${label}: ${secret}`).to.equal(undefined);
          if (value.includes('<')) expect(page, label).to.not.include(value);
          expect(await snapshot(), `${label} stored something`).to.deep.equal(before);
        }
      }
    }
  });
});
