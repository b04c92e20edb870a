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
  now?: Date;
}

// C0 and C1 controls (tab and newline too: no field of an application spans lines), and U+FFFD for bad UTF-8.
const CONTROL = /[\p{Cc}\uFFFD]/u;

/**
 * A text field: required (or optional and empty), a string, bounded, no control characters, then the
 * field's own check. Field-level messages only; cross-field rules run on the object.
 */
function text(check: (v: string) => Checked, opts: { max: number; required?: string }) {
  return z.unknown().transform((v, ctx) => {
    const fail = (message: string) => {
      ctx.addIssue({ code: 'custom', message });
      return z.NEVER;
    };
    if (v === undefined || v === null || v === '') return opts.required ? fail(opts.required) : undefined;
    if (typeof v !== 'string') return fail('Send this field as text.');
    if (v.length > opts.max * 4 || [...v].length > opts.max) return fail(`Use at most ${opts.max} characters.`);
    if (CONTROL.test(v)) return fail('Contains characters that are not allowed.');
    const r = check(v);
    return r.ok ? r.value : fail(r.error);
  });
}

const asIs = (v: string): Checked => ok(v);

/** One zod schema per field: each field is judged on its own, so every bad field gets its message. */
function fieldSchemas(rules: InputRules) {
  return {
    legal_name: text(checkLegalName, { max: MAX_NAME_LENGTH, required: 'Enter your full legal name.' }),
    birthdate: text((v) => checkBirthdate(v, rules.now), { max: 10, required: 'Enter your date of birth.' }),
    email: text(checkEmail, { max: MAX_EMAIL_LENGTH, required: 'Enter your email address.' }),
    mobile: text((v) => checkMobile(v, rules.mobileCallingCode), { max: MAX_MOBILE_INPUT, required: 'Enter your mobile number.' }),
    password: text(asIs, { max: MAX_PASSWORD_LENGTH, required: 'Choose a password.' }),
    password_confirm: text(asIs, { max: MAX_PASSWORD_LENGTH, required: 'Type the password again.' }),
    accept_terms: z.unknown().refine((v) => v === true || v === 'yes' || v === 'on' || v === 'true', {
      message: 'Tick the box to accept the terms of use.',
    }),
    guardian_card_number: text(
      (v) => {
        const digits = normalizeCardNumber(v);
        return digits ? ok(digits) : bad("Enter the guardian's 16-digit card number.");
      },
      { max: 40 },
    ),
    guardian_password: text(asIs, { max: MAX_PASSWORD_LENGTH }),
  } satisfies Record<(typeof APPLICATION_FIELDS)[number], z.ZodType>;
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
function crossFieldErrors(a: Parsed, rules: InputRules): Record<string, string> {
  const fields: Record<string, string> = {};
  if (a.password !== undefined) {
    const problem = passwordProblem(a.password, { birthdate: a.birthdate, issuerPrefix: rules.issuerPrefix });
    if (problem) fields.password = problem.message;
    else if (a.password_confirm !== undefined && a.password_confirm !== a.password) {
      fields.password_confirm = 'The two passwords are not the same.';
    }
  }
  if (a.guardian_card_number !== undefined && a.guardian_password === undefined) {
    fields.guardian_password = "Enter the guardian's card password.";
  }
  if (a.guardian_password !== undefined && a.guardian_card_number === undefined) {
    fields.guardian_card_number = "Enter the guardian's 16-digit card number.";
  }
  return fields;
}

/**
 * Validates a submitted application (form fields or JSON) into an ApplicationInput, or throws a
 * ValidationError naming every bad field. Conditions that need the database come later, in apply().
 */
export function parseApplication(raw: unknown, rules: InputRules): ApplicationInput {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ValidationError('Send the application as a JSON object.', {});
  }
  const body = raw as Record<string, unknown>;
  const schemas = fieldSchemas(rules);
  const fields: Record<string, string> = {};
  for (const key of Object.keys(body).slice(0, 50)) {
    // The form's csrf token is the route's business; any other unknown field is refused.
    if (key !== 'csrf' && !Object.hasOwn(schemas, key)) fields[key.slice(0, 64)] = 'This is not a field of an application.';
  }
  const a: Record<string, unknown> = {};
  for (const [key, schema] of Object.entries(schemas)) {
    const r = schema.safeParse(body[key]);
    if (r.success) a[key] = r.data;
    else fields[key] = r.error.issues[0]?.message ?? 'Check this field.';
  }
  for (const [key, message] of Object.entries(crossFieldErrors(a as Parsed, rules))) fields[key] ??= message;
  if (Object.keys(fields).length) throw new ValidationError('Some fields need another look.', fields);
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
