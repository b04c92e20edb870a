/**
 * The ISO 4217 currencies whose minor unit is not a hundredth, with its digits (ISO 4217's list one, "Minor unit"); every
 * other currency has two. Not Intl's digits: CLDR's are how amounts are usually written (IQD and IRR without decimals),
 * not the unit an amount is counted in.
 */
const EXPONENTS: Record<string, number> = {
  BIF: 0, CLP: 0, DJF: 0, GNF: 0, ISK: 0, JPY: 0, KMF: 0, KRW: 0, PYG: 0, RWF: 0, UGX: 0, UYI: 0, VND: 0, VUV: 0, XAF: 0, XOF: 0, XPF: 0,
  BHD: 3, IQD: 3, JOD: 3, KWD: 3, LYD: 3, OMR: 3, TND: 3,
  CLF: 4, UYW: 4,
};

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

/** One formatter per exponent (English) or per currency (Korean): toLocaleString with options builds a new Intl.NumberFormat on every call. */
const formatters = new Map<string, Intl.NumberFormat>();

/**
 * 12,500 KRW or 12.50 USD, for pages and statements; in Korean texts (`locale` 'ko') 12,500원 for won, as Korean
 * products write it, and other currencies as ko-KR writes them (US$12.50), in the currency's own minor unit.
 */
export function formatMoney(amount: number, currency: string, locale: 'en' | 'ko' = 'en'): string {
  const exp = currencyExponent(currency);
  const korean = locale === 'ko';
  const key = korean ? `ko:${currency}` : `en:${exp}`;
  let format = formatters.get(key);
  if (!format) {
    const digits = { minimumFractionDigits: exp, maximumFractionDigits: exp };
    format = korean && currency !== 'KRW'
      ? new Intl.NumberFormat('ko-KR', { style: 'currency', currency, ...digits })
      : new Intl.NumberFormat('en-US', digits);
    formatters.set(key, format);
  }
  const figure = format.format(amount / 10 ** exp);
  if (!korean) return `${figure} ${currency}`;
  return currency === 'KRW' ? `${figure}원` : figure;
}

/**
 * An amount as data, for a text or a notification written before its reader's language is known: the text fills it in
 * (lib/i18n.ts) and the notification renderer formats it (notifications/templates.ts), each with formatMoney in the
 * reader's language. Plain JSON, so it is stored in a queued notification's data as it is.
 */
export interface Money {
  /** Integer minor units. */
  amount: number;
  /** ISO 4217 code. */
  currency: string;
}

/** `amount` minor units of `currency` as data (Money), to be formatted where the reader's language is known. */
export function money(amount: number, currency: string): Money {
  return { amount, currency };
}

/** Whether `v` is a Money: exactly an integer `amount` and a three-letter `currency` (as JSON keeps it). */
export function isMoney(v: unknown): v is Money {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const keys = Object.keys(v);
  const m = v as Record<string, unknown>;
  return keys.length === 2 && Number.isSafeInteger(m.amount) && typeof m.currency === 'string' && /^[A-Z]{3}$/.test(m.currency);
}

/** What formatMoney writes in English: grouped figure, the currency's decimals, a space, the code. */
const ENGLISH_AMOUNT = /^(\d{1,3}(?:,\d{3})*)(?:\.(\d+))? ([A-Z]{3})$/;

/**
 * An amount formatMoney wrote in English ("4,000 KRW", "12.50 USD") read back as data; undefined for any other text.
 * Only for text known to be English that was written before its reader's language was known: a notification queued
 * before amounts were data, and a domain's English sentence recognised by i18n's patterns. Everything new passes Money.
 */
export function readEnglishMoney(text: string): Money | undefined {
  const m = ENGLISH_AMOUNT.exec(text);
  if (!m) return undefined;
  const currency = m[3]!;
  if ((m[2] ?? '').length !== currencyExponent(currency)) return undefined;
  const minor = Number(m[1]!.replace(/,/g, '') + (m[2] ?? ''));
  return Number.isSafeInteger(minor) ? { amount: minor, currency } : undefined;
}

/**
 * An amount a holder typed on a page, in the currency's own unit as the pages show it ("12.50" USD, "1,000" KRW, digit
 * groups by commas or none), as integer minor units; undefined for anything else (more decimals than the currency has,
 * signs, spaces inside, above MAX_AMOUNT). Zero is returned as 0: the caller says what its least is.
 */
export function parseTypedAmount(typed: string, currency: string): number | undefined {
  const m = /^(\d{1,3}(?:,\d{3})+|\d{1,13})(?:\.(\d+))?$/.exec(typed);
  if (!m) return undefined;
  const exp = currencyExponent(currency);
  const fraction = m[2] ?? '';
  if (fraction.length > exp) return undefined;
  const minor = Number(m[1]!.replace(/,/g, '')) * 10 ** exp + Number(fraction.padEnd(exp, '0') || '0');
  return Number.isSafeInteger(minor) && minor <= MAX_AMOUNT ? minor : undefined;
}

/** Minor units written back into a form field, in the currency's own unit, ungrouped: "12.50" for USD, "1000" for KRW. */
export function typedAmount(amount: number, currency: string): string {
  const exp = currencyExponent(currency);
  if (exp === 0) return String(amount);
  const s = String(amount).padStart(exp + 1, '0');
  return `${s.slice(0, -exp)}.${s.slice(-exp)}`;
}

/** Whether amounts in `currency` are whole (no minor unit below the main one, as KRW and JPY). */
export function wholeAmounts(currency: string): boolean {
  return currencyExponent(currency) === 0;
}
