import { z } from 'zod';
import { MAX_EMAIL_LENGTH } from '../cards/email-address.ts';
import { cardNumberField, creditLimitField, plainText, reasonField } from '../cards/input-fields.ts';
import { MAX_MOBILE_INPUT } from '../cards/mobile-number.ts';

/**
 * Operator inputs, shared by the operator API and the CLI (parsed with operator-input.ts parseInput). Keys are the
 * JSON field names; the card of the path is card_id, as the ledger's repayments name it. Unknown keys are refused.
 */

const cardId = z.uuid({ error: 'Not a card id.' });

export const cardIdParam = z.strictObject({ card_id: cardId });

const holderText = (max: number) =>
  plainText(max)
    .transform((s) => s.trim())
    .refine((s) => s.length > 0, 'Must not be empty.')
    .optional();

export const cardSearchInput = z
  .strictObject({
    number: cardNumberField.optional(),
    name: holderText(200),
    email: holderText(254),
    mobile: holderText(32),
  })
  .refine((q) => (q.number !== undefined) !== (q.name !== undefined || q.email !== undefined || q.mobile !== undefined), {
    message: 'Search by card number, or by holder name, email or mobile.',
    path: ['number'],
  });

/**
 * A copy of the holder's data: the card (from the path) and, optional for now, why (a data-subject request's
 * reference): checked as a change's reason is (no control or bidi characters, at most 500), kept in the audit entry.
 * Blank is none.
 */
export const exportInput = z.strictObject({
  card_id: cardId,
  reason: plainText(500)
    .transform((s) => s.trim())
    .optional()
    .transform((s) => (s ? s : undefined)),
});

/** A status change: the card (from the path) and why (from the body). */
export const cardChangeInput = z.strictObject({ card_id: cardId, reason: reasonField });

export const limitInput = z.strictObject({ card_id: cardId, credit_limit: creditLimitField, reason: reasonField });

/** A correction of the holder's email and/or mobile (checked by cards/new-contacts.ts), and why. */
export const contactsInput = z.strictObject({
  card_id: cardId,
  email: plainText(MAX_EMAIL_LENGTH).optional(),
  mobile: plainText(MAX_MOBILE_INPUT).optional(),
  reason: reasonField,
});
