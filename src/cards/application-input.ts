import { z } from 'zod';
import { ValidationError } from '../errors.ts';
import { checkBirthdate } from './birthdate.ts';
import { normalizeCardNumber } from './card-number.ts';
import { bad, ok, type Checked } from './checked.ts';
import { checkEmail, MAX_EMAIL_LENGTH } from './email-address.ts';
import { checkLegalName, MAX_NAME_LENGTH } from './legal-name.ts';
import { checkMobile, MAX_MOBILE_INPUT } from './mobile-number.ts';
import { MAX_PASSWORD_LENGTH } from './password-limits.ts';
import { passwordProblem } from './password-policy.ts';

/** A validated application: trusted from here on. */
export interface ApplicationInput {
  legalName: string;
  /** YYYY-MM-DD */
  birthdate: string;
  /** Lower case. */
  email: string;
  /** E.164 */
  mobile: string;
  password: string;
  guardian?: { cardNumber: string; password: string };
}

/** The field names of the form and of the JSON API. */
export const APPLICATION_FIELDS = [
  'legal_name',
  'birthdate',
  'email',
  'mobile',
  'password',
  'password_confirm',
  'accept_terms',
  'guardian_card_number',
  'guardian_password',
] as const;

/** Fields never sent back to the browser. */
export const SECRET_FIELDS: ReadonlySet<string> = new Set(['password', 'password_confirm', 'guardian_password']);

export interface InputRules {
  mobileCallingCode: string;
  issuerPrefix: string;
  /** The zone whose calendar ages are counted in (billing.timeZone), for the too-old typo guard as for every age. */
  timeZone: string;
  /** The clock ages and future dates are judged by (tests may fix it); the real time by default. */
  now?: () => Date;
}

// C0 and C1 controls (tab and newline too: no field of an application spans lines), and U+FFFD for bad UTF-8.
const CONTROL = /[\p{Cc}\uFFFD]/u;

/** What a field check reports: the message beside the field and its machine code. */
interface FieldIssue {
  message: string;
  code: string;
}

/**
 * A text field: required (or optional and empty), a string, bounded, no control characters, then the
 * field's own check. Field-level messages only; cross-field rules run on the object. The issue's
 * `params.code` carries the machine code for the JSON API.
 */
function text(check: (v: string) => Checked, opts: { max: number; required?: string }) {
  return z.unknown().transform((v, ctx) => {
    const fail = (message: string, code: string) => {
      ctx.addIssue({ code: 'custom', message, params: { code } });
      return z.NEVER;
    };
    if (v === undefined || v === null || v === '') return opts.required ? fail(opts.required, 'required') : undefined;
    if (typeof v !== 'string') return fail('Send this field as text.', 'not_text');
    if (v.length > opts.max * 4 || [...v].length > opts.max) return fail(`Use at most ${opts.max} characters.`, 'too_long');
    if (CONTROL.test(v)) return fail('Contains characters that are not allowed.', 'control_characters');
    const r = check(v);
    return r.ok ? r.value : fail(r.error, r.code);
  });
}

const asIs = (v: string): Checked => ok(v);

/** One zod schema per field: each field is judged on its own, so every bad field gets its message. */
function buildFieldSchemas(rules: InputRules) {
  return {
    legal_name: text(checkLegalName, { max: MAX_NAME_LENGTH, required: 'Enter your full legal name.' }),
    birthdate: text((v) => checkBirthdate(v, rules.timeZone, rules.now?.() ?? new Date()), { max: 10, required: 'Enter your date of birth.' }),
    email: text(checkEmail, { max: MAX_EMAIL_LENGTH, required: 'Enter your email address.' }),
    mobile: text((v) => checkMobile(v, rules.mobileCallingCode), { max: MAX_MOBILE_INPUT, required: 'Enter your mobile number.' }),
    password: text(asIs, { max: MAX_PASSWORD_LENGTH, required: 'Choose a password.' }),
    password_confirm: text(asIs, { max: MAX_PASSWORD_LENGTH, required: 'Type the password again.' }),
    accept_terms: z.unknown().refine((v) => v === true || v === 'yes' || v === 'on' || v === 'true', {
      message: 'Tick the box to accept the terms of use.',
      params: { code: 'required' },
    }),
    guardian_card_number: text(
      (v) => {
        const digits = normalizeCardNumber(v);
        return digits ? ok(digits) : bad("Enter the guardian's 16-digit card number.", 'invalid_card_number');
      },
      { max: 40 },
    ),
    guardian_password: text(asIs, { max: MAX_PASSWORD_LENGTH }),
  } satisfies Record<(typeof APPLICATION_FIELDS)[number], z.ZodType>;
}

type FieldSchemas = ReturnType<typeof buildFieldSchemas>;
const schemaCache = new WeakMap<InputRules, FieldSchemas>();

/** The schemas for these rules, built once per rules object (building them costs more than using them). */
function fieldSchemas(rules: InputRules): FieldSchemas {
  let schemas = schemaCache.get(rules);
  if (!schemas) schemaCache.set(rules, (schemas = buildFieldSchemas(rules)));
  return schemas;
}

interface Parsed {
  legal_name?: string;
  birthdate?: string;
  email?: string;
  mobile?: string;
  password?: string;
  password_confirm?: string;
  guardian_card_number?: string;
  guardian_password?: string;
}

/** Rules between fields, on the fields that passed their own checks. */
function crossFieldErrors(a: Parsed, rules: InputRules): Record<string, FieldIssue> {
  const fields: Record<string, FieldIssue> = {};
  if (a.password !== undefined) {
    const problem = passwordProblem(a.password, { birthdate: a.birthdate, issuerPrefix: rules.issuerPrefix });
    if (problem) fields.password = { message: problem.message, code: problem.rule };
    else if (a.password_confirm !== undefined && a.password_confirm !== a.password) {
      fields.password_confirm = { message: 'The two passwords are not the same.', code: 'mismatch' };
    }
  }
  if (a.guardian_card_number !== undefined && a.guardian_password === undefined) {
    fields.guardian_password = { message: "Enter the guardian's card password.", code: 'required' };
  }
  if (a.guardian_password !== undefined && a.guardian_card_number === undefined) {
    fields.guardian_card_number = { message: "Enter the guardian's 16-digit card number.", code: 'required' };
  }
  return fields;
}

/** The message and code of a field's first zod issue (codes ride in a custom issue's params). */
function issueOf(error: z.ZodError): FieldIssue {
  const issue = error.issues[0];
  const code = issue && 'params' in issue ? (issue.params as { code?: unknown } | undefined)?.code : undefined;
  return { message: issue?.message ?? 'Check this field.', code: typeof code === 'string' ? code : 'invalid' };
}

/**
 * Validates a submitted application (form fields or JSON) into an ApplicationInput, or throws a
 * ValidationError naming every bad field. Conditions that need the database come later, in apply().
 */
export function parseApplication(raw: unknown, rules: InputRules): ApplicationInput {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ValidationError('Send the application as a JSON object.', { body: 'Expected a JSON object.' }, { body: 'not_an_object' });
  }
  const body = raw as Record<string, unknown>;
  const schemas = fieldSchemas(rules);
  // No prototype: an unknown field named "__proto__" must be reported like any other.
  const issues: Record<string, FieldIssue> = Object.create(null) as Record<string, FieldIssue>;
  for (const key of Object.keys(body).slice(0, 50)) {
    // The form's csrf token is the route's business; any other unknown field is refused.
    if (key !== 'csrf' && !Object.hasOwn(schemas, key)) {
      issues[key.slice(0, 64)] = { message: 'This is not a field of an application.', code: 'unknown_field' };
    }
  }
  const a: Record<string, unknown> = {};
  for (const [key, schema] of Object.entries(schemas)) {
    const r = schema.safeParse(body[key]);
    if (r.success) a[key] = r.data;
    else issues[key] = issueOf(r.error);
  }
  for (const [key, issue] of Object.entries(crossFieldErrors(a as Parsed, rules))) issues[key] ??= issue;
  if (Object.keys(issues).length) {
    const entries = Object.entries(issues);
    throw new ValidationError(
      'Some fields need another look.',
      Object.fromEntries(entries.map(([k, i]) => [k, i.message])),
      Object.fromEntries(entries.map(([k, i]) => [k, i.code])),
    );
  }
  const v = a as Required<Parsed>;
  return {
    legalName: v.legal_name,
    birthdate: v.birthdate,
    email: v.email,
    mobile: v.mobile,
    password: v.password,
    ...(v.guardian_card_number ? { guardian: { cardNumber: v.guardian_card_number, password: v.guardian_password } } : {}),
  };
}
