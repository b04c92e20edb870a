import { z } from 'zod';
import { cardNumberField, codeField, passwordField } from '../cards/input-fields.ts';

/** One schema per holder form and API route; keys are the field names the holder sends. */

export const codeRequestInput = z.object({ card_number: cardNumberField });

export const lostWithPasswordInput = z.object({ card_number: cardNumberField, password: passwordField });

export const withCodeInput = z.object({ card_number: cardNumberField, code: codeField });

/** POST /api/cards/lost: the password or a code, not both. */
export const lostApiInput = z
  .object({ card_number: cardNumberField, password: passwordField.optional(), code: codeField.optional() })
  .refine((v) => (v.password === undefined) !== (v.code === undefined), {
    message: 'Send either the card password or the code you were sent, not both.',
    path: ['password'],
  });

const confirmed = <T extends { new_password: string; new_password_confirm: string }>(v: T) =>
  v.new_password === v.new_password_confirm;
const confirmError = { message: 'The two new passwords differ.', path: ['new_password_confirm'] };

export const changePasswordApiInput = z.object({
  card_number: cardNumberField,
  password: passwordField,
  new_password: passwordField,
});

export const changePasswordFormInput = changePasswordApiInput
  .extend({ new_password_confirm: z.string({ error: 'Repeat the new password.' }) })
  .refine(confirmed, confirmError);

export const resetPasswordApiInput = z.object({ card_number: cardNumberField, code: codeField, new_password: passwordField });

export const resetPasswordFormInput = resetPasswordApiInput
  .extend({ new_password_confirm: z.string({ error: 'Repeat the new password.' }) })
  .refine(confirmed, confirmError);
