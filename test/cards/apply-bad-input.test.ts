import { expect } from 'chai';
import { verifyCredentials } from '../../src/cards/verify-credentials.ts';
import { Agent, csrfFrom } from '../helpers/agent.ts';
import { APPLY_SERVER, application, applicationRowCounts, postApplication, uniqueIp, type ApplicationBody } from '../helpers/applicant.ts';
import { fieldsWithErrors, inputValue } from '../helpers/html.ts';
import { startCardManager, type TestServer } from '../helpers/server.ts';

/** One bad (or surprising) value for one field, and what must come of it. */
interface Case {
  field: string;
  what: string;
  value: unknown;
  /** Fields that must carry a message; empty: the application must go through. */
  flagged: string[];
  /** The machine code expected for `field`, when it is flagged. */
  code?: string;
  /** Other fields set with it (a password goes with its confirmation). */
  with?: ApplicationBody;
}

const TEN_KB = 'a'.repeat(10 * 1024);
const year = new Date().getUTCFullYear();

/** The same hostile values for every field. */
const GENERIC: ReadonlyArray<[string, string]> = [
  ['empty', ''],
  ['10 KB', TEN_KB],
  ['control characters', 'K\u0000m\u001b\u007f'],
  ['a line break', 'Kim\r\nMinsu'],
  ['mixed scripts', 'Kim Мinsu'],
  ['SQL', "'; DROP TABLE cards; --"],
  ['HTML and script', '<script>alert(1)</script>'],
];

/** What each field makes of the generic values: flagged with a code, or (for passwords) accepted as they are. */
function genericCases(): Case[] {
  const cases: Case[] = [];
  for (const [what, value] of GENERIC) {
    const structural = what === 'empty' || what === '10 KB' || what === 'control characters' || what === 'a line break';
    const structuralCode = what === 'empty' ? 'required' : what === '10 KB' ? 'too_long' : 'control_characters';
    for (const field of ['legal_name', 'birthdate', 'email', 'mobile']) {
      cases.push({ field, what, value, flagged: [field], ...(structural ? { code: structuralCode } : {}) });
    }
    // Any printable text is a password (NIST SP 800-63B): SQL, markup and mixed scripts are just characters.
    // (10 KB twice would exceed the body limit: that one goes with a short confirmation, never compared.)
    const big = what === '10 KB';
    cases.push({
      field: 'password',
      what,
      value,
      ...(big ? {} : { with: { password_confirm: value } }),
      flagged: structural ? (big ? ['password'] : ['password', 'password_confirm']) : [],
      ...(structural ? { code: structuralCode } : {}),
    });
    cases.push({ field: 'password_confirm', what, value, flagged: ['password_confirm'], code: structural ? structuralCode : 'mismatch' });
    cases.push({ field: 'accept_terms', what, value, flagged: ['accept_terms'], code: 'required' });
    // The guardian fields are optional for an adult: empty is fine, anything else must make sense.
    cases.push({
      field: 'guardian_card_number',
      what,
      value,
      flagged: what === 'empty' ? [] : ['guardian_card_number'],
      ...(what === 'empty' ? {} : { code: structural ? structuralCode : 'invalid_card_number' }),
    });
    cases.push({
      field: 'guardian_password',
      what,
      value,
      flagged: what === 'empty' ? [] : structural ? ['guardian_password'] : ['guardian_card_number'],
      ...(structural && what !== 'empty' ? { code: structuralCode } : {}),
    });
  }
  return cases;
}

const DATES: ReadonlyArray<[string, string, string]> = [
  // Mid-year: 1 January next year is already today in UTC+14 from 10:00 UTC on 31 December (birthdate.ts allows it).
  ['a future date', `${year + 1}-06-15`, 'in_future'],
  ['30 February', '2001-02-30', 'no_such_date'],
  ['31 April', '1990-04-31', 'no_such_date'],
  ['month 13', '1990-13-01', 'no_such_date'],
  ['130 years ago', `${year - 130}-06-15`, 'too_old'],
  // A year below 100 is still that year, not 19xx (Date.UTC reads 0–99 as 1900–1999): far too old, not "no such date".
  ['the year 90', '0090-05-17', 'too_old'],
  ['the year 1', '0001-01-01', 'too_old'],
  ['day first', '17/05/1990', 'invalid_format'],
  ['no padding', '1990-5-17', 'invalid_format'],
  ['no separators', '19900517', 'invalid_format'],
  ['full-width digits', '１９９０-05-17', 'invalid_format'],
  ['an ISO timestamp', '1990-05-17T00:00:00Z', 'too_long'],
];

const EMAILS: readonly string[] = [
  'plainaddress',
  '@example.com',
  'kim@',
  'kim@example',
  'kim@@example.com',
  'kim minsu@example.com',
  'kim..minsu@example.com',
  '.kim@example.com',
  'kim.@example.com',
  'kim@-example.com',
  'kim@example..com',
  'kim@example.c',
  'kim@example.123',
  'kim"minsu"@example.com',
  'kim@example.com.',
  'kim@exаmple.com',
  `${'k'.repeat(65)}@example.com`,
  'kim@[127.0.0.1]',
  'kim@example.com,lee@example.com',
  "x'; DROP TABLE accounts;--@example.com",
  '<kim@example.com>',
];

const MOBILES: readonly string[] = [
  '12345',
  '+82',
  '+0 10 1234 5678',
  '010-1234-567a',
  '++821012345678',
  '010--1234-5678',
  '(010) (1234) 5678',
  '+82 10 1234 5678 9999 12',
  '1-800-FLOWERS',
  '010.1234.5678.',
  '0',
  '+1234567',
  '010–1234–5678',
  '０１０-1234-5678',
  '+82 10 1234 5678 ext 9',
];

// Letters and marks that show nothing: a name with one reads as another, past the deny list and the same-person check.
const INVISIBLE_NAMES: ReadonlyArray<[string, string]> = [
  ['a Hangul filler', '김민수\u3164'],
  ['a combining grapheme joiner', 'Kim\u034f Minsu'],
  ['a variation selector', 'Kim Minsu\ufe0f'],
];

function allCases(): Case[] {
  return [
    ...genericCases(),
    ...INVISIBLE_NAMES.map(([what, value]): Case => ({ field: 'legal_name', what, value, flagged: ['legal_name'], code: 'invalid_characters' })),
    ...DATES.map(([what, value, code]): Case => ({ field: 'birthdate', what, value, flagged: ['birthdate'], code })),
    ...EMAILS.map((value): Case => ({ field: 'email', what: `email ${value.slice(0, 40)}`, value, flagged: ['email'] })),
    ...MOBILES.map((value): Case => ({ field: 'mobile', what: `mobile ${value}`, value, flagged: ['mobile'], code: 'invalid' })),
  ];
}

/** A valid adult application with the case's value in its field. */
function withCase(c: Case): ApplicationBody {
  return application({ [c.field]: c.value, ...c.with });
}

const label = (c: Case) => `${c.field} = ${c.what}`;

describe('bad input to an application', () => {
  let ts: TestServer;

  before(async () => {
    ts = await startCardManager(APPLY_SERVER);
  });
  after(() => ts?.stop());

  describe('POST /api/applications', () => {
    it('answers 400 with a message and a code for exactly the bad fields, and stores nothing (or takes a password as it is)', async () => {
      for (const c of allCases()) {
        const body = withCase(c);
        const before = await applicationRowCounts(ts);
        const answer = await postApplication(ts, body);
        if (c.flagged.length === 0) {
          expect(answer.status, `${label(c)}: ${JSON.stringify(answer.body)}`).to.equal(201);
          if (c.field === 'password') {
            const card = await verifyCredentials(ts.cm.cards, String(answer.body.card_number), String(c.value));
            expect(card.status, label(c)).to.equal('active');
          }
          continue;
        }
        expect(answer.status, `${label(c)}: ${JSON.stringify(answer.body).slice(0, 300)}`).to.equal(400);
        expect(answer.body.error, label(c)).to.equal('invalid_request');
        expect(Object.keys(answer.body.fields as object).sort(), label(c)).to.deep.equal([...c.flagged].sort());
        expect(Object.keys(answer.body.field_codes as object).sort(), label(c)).to.deep.equal([...c.flagged].sort());
        if (c.code) expect((answer.body.field_codes as Record<string, string>)[c.field], label(c)).to.equal(c.code);
        expect(await applicationRowCounts(ts), `${label(c)} stored something`).to.deep.equal(before);
      }
    });

    it('refuses wrong JSON types and unknown fields, naming each, and a __proto__ key outright', async () => {
      const cases: Array<[ApplicationBody, Record<string, string>]> = [
        [{ legal_name: 42 }, { legal_name: 'not_text' }],
        [{ email: ['a@example.com', 'b@example.com'] }, { email: 'not_text' }],
        [{ mobile: { number: '010-1234-5678' } }, { mobile: 'not_text' }],
        [{ birthdate: null }, { birthdate: 'required' }],
        [{ accept_terms: 'false' }, { accept_terms: 'required' }],
        [{ role: 'operator', credit_limit: 10_000_000 }, { role: 'unknown_field', credit_limit: 'unknown_field' }],
      ];
      for (const [over, codes] of cases) {
        const before = await applicationRowCounts(ts);
        const answer = await postApplication(ts, application(over));
        expect(answer.status, JSON.stringify(over)).to.equal(400);
        expect(answer.body.field_codes, JSON.stringify(over)).to.deep.equal(codes);
        expect(await applicationRowCounts(ts)).to.deep.equal(before);
      }
      const proto = await fetch(`${ts.url}/api/applications`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-forwarded-for': uniqueIp() },
        body: JSON.stringify(application()).replace(/^\{/, '{"__proto__":{"admin":true},'),
      });
      expect(proto.status).to.equal(400);
      // The body parser itself refuses a JSON object with a prototype key, before any of our code runs.
      expect(((await proto.json()) as { error: string }).error).to.equal('invalid_request');
    });

    it('flags every bad field at once', async () => {
      const everything = {
        legal_name: '<b>Kim</b>',
        birthdate: '2001-02-30',
        email: 'kim@',
        mobile: '12345',
        password: 'short',
        password_confirm: '',
        accept_terms: 'no',
        guardian_card_number: '1234',
      };
      const answer = await postApplication(ts, everything);
      expect(answer.status).to.equal(400);
      expect(Object.keys(answer.body.fields as object).sort()).to.deep.equal([
        'accept_terms',
        'birthdate',
        'email',
        'guardian_card_number',
        'legal_name',
        'mobile',
        'password',
        'password_confirm',
      ]);
    });

    it('refuses a body over the size limit (413) and a broken JSON body (400)', async () => {
      const big = await postApplication(ts, application({ legal_name: 'a'.repeat(20_000) }));
      expect(big.status).to.equal(413);
      const broken = await fetch(`${ts.url}/api/applications`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"legal_name": ' });
      expect(broken.status).to.equal(400);
    });
  });

  describe('the /apply form', () => {
    /** The form fields for an application (the checkbox sends "yes" when ticked, nothing when not). */
    function formOf(app: ApplicationBody): Record<string, string> {
      const out: Record<string, string> = {};
      for (const [k, v] of Object.entries(app)) {
        if (k === 'accept_terms') {
          if (v === true) out[k] = 'yes';
          else if (v !== '' && v !== false) out[k] = String(v);
        } else out[k] = String(v);
      }
      return out;
    }

    it('comes back with the values kept (never a password), a message beside each bad field, and nothing stored', async () => {
      const ip = uniqueIp();
      const agent = new Agent(ts.url);
      const csrf = csrfFrom(await (await agent.request('/apply', { headers: { 'x-forwarded-for': ip } })).text());
      const send = (form: Record<string, string>) =>
        agent.request('/apply', {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': ip },
          body: new URLSearchParams({ csrf, ...form }).toString(),
        });

      for (const c of allCases()) {
        const app = withCase(c);
        const before = await applicationRowCounts(ts);
        const res = await send(formOf(app));
        const html = await res.text();
        if (c.flagged.length === 0) {
          expect(res.status, label(c)).to.equal(201);
          continue;
        }
        expect(res.status, label(c)).to.equal(400);
        expect(fieldsWithErrors(html).sort(), label(c)).to.deep.equal([...c.flagged].sort());
        for (const f of c.flagged) {
          if (f !== 'accept_terms') expect(html, `${label(c)}: ${f} marked invalid`).to.match(new RegExp(`id="${f}"[^>]*aria-invalid="true"`));
        }
        // The other fields are kept as they were typed; passwords never come back.
        for (const f of ['legal_name', 'birthdate', 'email', 'mobile']) {
          if (f === c.field) continue;
          expect(inputValue(html, f), `${label(c)}: ${f} kept`).to.equal(String(app[f]));
        }
        for (const f of ['password', 'password_confirm', 'guardian_password']) expect(inputValue(html, f), label(c)).to.equal(undefined);
        if (typeof c.value === 'string' && c.value.includes('<')) expect(html, label(c)).to.not.include(c.value);
        if ((c.field === 'password' || c.field === 'password_confirm') && String(app.password).length > 3) {
          expect(html, label(c)).to.not.include(String(app.password));
        }
        expect(await applicationRowCounts(ts), `${label(c)} stored something`).to.deep.equal(before);
      }
    });
  });
});
