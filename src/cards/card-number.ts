import { hmacSha256 } from '../lib/hmac.ts';
import { randomDigits } from '../lib/ids.ts';
import { luhnCheckDigit, luhnValid } from '../lib/luhn.ts';

export const CARD_NUMBER_LENGTH = 16;

/** A new 16-digit card number: issuer prefix, CSPRNG body, Luhn check digit. */
export function generateCardNumber(issuerPrefix: string): string {
  const body = issuerPrefix + randomDigits(CARD_NUMBER_LENGTH - 1 - issuerPrefix.length);
  return body + String(luhnCheckDigit(body));
}

/**
 * The digits of a typed card number (spaces and dashes allowed between digits),
 * or undefined when it cannot be a card number at all.
 */
export function normalizeCardNumber(input: string): string | undefined {
  if (input.length > 40) return undefined;
  const digits = input.replace(/[\s-]/g, '');
  if (digits.length !== CARD_NUMBER_LENGTH || !luhnValid(digits)) return undefined;
  return digits;
}

/** The lookup key stored in place of the number. */
export function cardNumberHmac(key: Buffer, digits: string): Buffer {
  return hmacSha256(key, `card-number:${digits}`);
}

/** 1234 5678 9012 3456, for showing the number once at issuance. */
export function formatCardNumber(digits: string): string {
  return digits.replace(/(\d{4})(?=\d)/g, '$1 ');
}
