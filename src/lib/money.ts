/** Minor-unit exponents (ISO 4217) of the currencies we know; others default to 2. */
const EXPONENTS: Record<string, number> = { KRW: 0, JPY: 0, USD: 2, EUR: 2, GBP: 2 };

export function currencyExponent(currency: string): number {
  return EXPONENTS[currency] ?? 2;
}

/** Largest amount accepted anywhere: far below 2^53 so sums stay exact in JS numbers. */
export const MAX_AMOUNT = 1_000_000_000_000;

/**
 * Parses an amount in integer minor units given as a JSON integer or a string of digits.
 * Returns undefined for anything else: fractions, signs, exponents, zero, spaces, too large.
 */
export function parseMinorUnits(v: unknown): number | undefined {
  let n: number;
  if (typeof v === 'number') n = v;
  else if (typeof v === 'string' && /^[0-9]{1,13}$/.test(v)) n = Number(v);
  else return undefined;
  if (!Number.isSafeInteger(n) || n <= 0 || n > MAX_AMOUNT) return undefined;
  return n;
}

/** One formatter per exponent: toLocaleString with options builds a new Intl.NumberFormat on every call. */
const formatters = new Map<number, Intl.NumberFormat>();

/** 12,500 KRW or 12.50 USD, for pages and statements. */
export function formatMoney(amount: number, currency: string): string {
  const exp = currencyExponent(currency);
  let format = formatters.get(exp);
  if (!format) {
    format = new Intl.NumberFormat('en-US', { minimumFractionDigits: exp, maximumFractionDigits: exp });
    formatters.set(exp, format);
  }
  return `${format.format(amount / 10 ** exp)} ${currency}`;
}
