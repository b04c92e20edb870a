import { z } from 'zod';
import { plainText, reasonField } from '../cards/input-fields.ts';
import { isCalendarDate, monthRange } from '../ledger/calendar.ts';
import { STATEMENT_DAY_RANGE } from '../ledger/change-statement-day.ts';
import { normalizePaymentReference } from '../ledger/payment-reference.ts';
import { parseMinorUnits } from '../lib/money.ts';

/**
 * Operator inputs of the ledger (billing, repayments, settlement), shared by the operator API and the CLI (parsed with
 * operator-input.ts parseInput, which names each unknown field).
 */

const AMOUNT = 'A positive whole number of minor units (a JSON integer or a string of digits).';

export const amountField = z.unknown().transform((v, ctx) => {
  const n = parseMinorUnits(v);
  if (n === undefined) {
    ctx.addIssue({ code: 'custom', message: AMOUNT });
    return z.NEVER;
  }
  return n;
});

export const dateField = z
  .string({ error: 'A date, YYYY-MM-DD.' })
  .refine(isCalendarDate, 'A real date from 2000 on, written YYYY-MM-DD.');

export const monthField = z
  .string({ error: 'A month, YYYY-MM.' })
  .refine((s) => monthRange(s) !== undefined, 'A month written YYYY-MM, e.g. 2026-11.');

export const paymentReferenceField = z
  .string({ error: 'A payment reference, e.g. CC12 3456 7890 1234.' })
  .max(40, 'Not a payment reference.')
  .refine((s) => normalizePaymentReference(s) !== undefined, 'Not a valid payment reference (CC and 14 digits with valid check digits).')
  .transform((s) => normalizePaymentReference(s)!);

export const transactionIdField = z
  .string({ error: 'The bank transaction id, as text.' })
  .regex(/^[\x21-\x7e]{1,100}$/, '1–100 visible characters, no spaces.');

/** What every repayment names besides whose it is. */
export const repaymentFields = {
  amount: amountField,
  currency: z.string().regex(/^[A-Z]{3}$/, 'An ISO 4217 code such as KRW.').optional(),
  transaction_id: transactionIdField.optional(),
  received_on: dateField.optional(),
  memo: plainText(200).optional(),
};

/** Whose a repayment is, in words that suit the API (card_id, payment_reference) and the CLI (--card, --reference) alike. */
export const EITHER_CARD_OR_REFERENCE = 'Give either the card or the payment reference (exactly one).';

/** A repayment recorded by an operator: the card or the payment reference, and the amount. */
export const repaymentInput = z
  .strictObject({ card_id: z.uuid({ error: 'Not a card id.' }).optional(), payment_reference: paymentReferenceField.optional(), ...repaymentFields })
  .refine((r) => (r.card_id === undefined) !== (r.payment_reference === undefined), {
    message: EITHER_CARD_OR_REFERENCE,
    path: ['card_id'],
  });

/** The CLI's repayment (the card is resolved separately: it may be a card number). */
export const cliRepaymentInput = z.strictObject({ payment_reference: paymentReferenceField.optional(), ...repaymentFields });

export const billingRunInput = z.strictObject({ date: dateField.optional() });

export const monthInput = z.strictObject({ month: monthField });

/** A request that takes no query: anything in it is refused as unknown, not ignored. */
export const noQuery = z.strictObject({});

/** `ledger check --format`: lines for a person, or the API's JSON. */
export const checkFormat = z.strictObject({ format: z.enum(['text', 'json'], { error: 'One of text, json.' }).optional() });

export const reportQuery = z.strictObject({ month: monthField, format: z.enum(['json', 'csv'], { error: 'One of json, csv.' }).optional() });

export const statementIdParam = z.strictObject({
  statement_id: z.string().regex(/^[1-9][0-9]{0,15}$/, 'Not a statement id.').transform(Number),
});

export const cardIdParam = z.strictObject({ card_id: z.uuid({ error: 'Not a card id.' }) });

/** The day of the month an account's statements close on, and why the operator changes it (the audit trail keeps it). */
export const statementDayInput = z.strictObject({
  statement_day: z.number({ error: STATEMENT_DAY_RANGE }).int(STATEMENT_DAY_RANGE).min(1, STATEMENT_DAY_RANGE).max(28, STATEMENT_DAY_RANGE),
  reason: reasonField,
});

/**
 * What every payout names besides whose it is: the currency is required (the operator says which money leaves), and
 * the bank's reference of the outgoing transfer makes a retry a duplicate instead of a second payout.
 */
export const payoutFields = {
  amount: amountField,
  currency: z.string({ error: 'An ISO 4217 code such as KRW.' }).regex(/^[A-Z]{3}$/, 'An ISO 4217 code such as KRW.'),
  bank_reference: z
    .string({ error: 'The bank reference of the outgoing transfer, as text.' })
    .regex(/^[\x21-\x7e]{1,100}$/, '1–100 visible characters, no spaces.'),
  reason: reasonField,
};

/** A payout of a holder's credit balance, by card. */
export const payoutInput = z.strictObject({ card_id: z.uuid({ error: 'Not a card id.' }), ...payoutFields });

/** The CLI's payout (the card is resolved separately: it may be a card number). */
export const cliPayoutInput = z.strictObject(payoutFields);
