import { formatTime, isLocalTime, localizeEnglishTime, zoneName } from './local-time.ts';
import { formatMoney, isMoney, readEnglishMoney } from './money.ts';
import { KO } from './messages-ko.ts';

/** The languages of the hosted pages; the first is the default. */
export const LOCALES = ['en', 'ko'] as const;
export type Locale = (typeof LOCALES)[number];
export const DEFAULT_LOCALE: Locale = 'en';

/** Each language by its own name, as a list of languages to choose from shows them. */
export const LOCALE_NAMES: Readonly<Record<Locale, string>> = { en: 'English', ko: '한국어' };

/** Whether `value` names one of LOCALES exactly (a stored or submitted language, not a BCP 47 range). */
export function isLocale(value: unknown): value is Locale {
  return typeof value === 'string' && (LOCALES as readonly string[]).includes(value);
}

/**
 * Catalogues keyed by the English text itself (gettext style): views stay readable, English needs
 * no catalogue, and a string missing from another catalogue falls back to its English text, so a raw
 * key is never shown. `{name}` marks a value filled in at run time.
 */
const CATALOGUES: Readonly<Record<Locale, Readonly<Record<string, string>>>> = { en: {}, ko: KO };

/** `ko-KR` → `ko`: the supported locale a BCP 47 tag asks for, if any. */
function supported(tag: string): Locale | undefined {
  const primary = tag.trim().toLowerCase().split('-')[0];
  return LOCALES.find((l) => l === primary);
}

/** The first supported locale of an OIDC ui_locales value (space-separated, in order of preference). */
function fromUiLocales(uiLocales: unknown): Locale | undefined {
  if (typeof uiLocales !== 'string') return undefined;
  for (const tag of uiLocales.split(' ')) {
    const l = tag ? supported(tag) : undefined;
    if (l) return l;
  }
  return undefined;
}

/** The best supported locale of an Accept-Language header, honouring q-values (RFC 9110 §12.5.4). */
function fromAcceptLanguage(header: string | undefined): Locale | undefined {
  if (!header) return undefined;
  const ranges = header
    .split(',')
    .map((part, i) => {
      const [tag = '', ...params] = part.split(';');
      const q = params.map((p) => /^\s*q\s*=\s*([0-9.]+)\s*$/i.exec(p)).find(Boolean);
      return { tag: tag.trim(), q: q ? Number(q[1]) : 1, i };
    })
    .filter((r) => r.tag && r.tag !== '*' && Number.isFinite(r.q) && r.q > 0)
    .sort((a, b) => b.q - a.q || a.i - b.i);
  for (const r of ranges) {
    const l = supported(r.tag);
    if (l) return l;
  }
  return undefined;
}

/** The page language: the OIDC request's ui_locales first, then Accept-Language, then English. */
export function negotiateLocale(uiLocales: unknown, acceptLanguage: string | undefined): Locale {
  return fromUiLocales(uiLocales) ?? fromAcceptLanguage(acceptLanguage) ?? DEFAULT_LOCALE;
}

/**
 * A filled-in value as `locale` writes it: an amount (Money) by formatMoney, a time (LocalTime) by formatLocalTime, a
 * `{timeZone}` by its name ("한국 시간"); anything else as it is. Values are data until here, where the reader's
 * language is known: a string is never read back as an amount.
 */
function shown(locale: Locale, name: string, value: unknown): string {
  const formatted = formatData(value, locale);
  if (formatted !== undefined) return formatted;
  const text = String(value);
  return name === 'timeZone' ? zoneName(text, locale) : text;
}

/**
 * A value that is data until its reader's language is known, an amount (Money) or a time (LocalTime), as `locale`
 * writes it; undefined for any other value. The one rule for texts (fill) and notifications (renderMessage) alike.
 */
export function formatData(value: unknown, locale: Locale): string | undefined {
  if (isMoney(value)) return formatMoney(value.amount, value.currency, locale);
  if (isLocalTime(value)) return formatTime(value, locale);
  return undefined;
}

/**
 * Words a language's texts put after a filled-in name ("{site} 사이트는") that the name may end in already ("데모 사이트",
 * "데모사이트"): said once, not "데모 사이트 사이트는".
 */
const SAID_ONCE: Readonly<Record<Locale, readonly string[]>> = { en: [], ko: ['사이트'] };

function fill(locale: Locale, template: string, vars: Readonly<Record<string, unknown>>): string {
  return template.replace(/\{(\w+)\}( [^\s{]+)?/g, (whole, name: string, next: string | undefined) => {
    if (!(name in vars)) return whole;
    const value = shown(locale, name, vars[name]);
    const again = next && SAID_ONCE[locale].find((w) => next.startsWith(` ${w}`) && value.endsWith(w));
    return value + (again ? next!.slice(again.length + 1) : (next ?? ''));
  });
}

/**
 * Sentences of the catalogue with `{placeholders}` as whole-string patterns, for messages that arrive
 * already filled in (built in a domain). Only whole sentences (ending in . ? or !) take part: a short
 * pattern such as "{available} of {limit}" would swallow unrelated text.
 */
const PATTERNS: Readonly<Record<Locale, ReadonlyArray<{ re: RegExp; names: string[]; to: string }>>> = Object.fromEntries(
  LOCALES.map((locale) => [
    locale,
    Object.entries(CATALOGUES[locale])
      .filter(([from]) => /\{\w+\}/.test(from) && /[.?!]$/.test(from) && from.replace(/\{\w+\}/g, '').length >= 12)
      .map(([from, to]) => {
        const names: string[] = [];
        const source = from
          .split(/(\{\w+\})/)
          .map((piece) => {
            const m = /^\{(\w+)\}$/.exec(piece);
            if (!m) return piece.replace(/[.*+?^$()|[\]\\{}]/g, '\\$&');
            names.push(m[1]!);
            return '(.+?)';
          })
          .join('');
        return { re: new RegExp(`^${source}$`, 's'), names, to };
      }),
  ]),
) as Record<Locale, Array<{ re: RegExp; names: string[]; to: string }>>;

/** Whether `locale` has its own words for this English text (exactly, or as a filled-in pattern). */
export function hasTranslation(locale: Locale, text: string): boolean {
  return locale === DEFAULT_LOCALE || text in CATALOGUES[locale] || PATTERNS[locale].some((p) => p.re.test(text));
}

/**
 * The text in `locale`. With `vars`, fills `{name}` placeholders (values are inserted as they are;
 * the view escapes the result). Without `vars`, a message built elsewhere from a catalogue pattern
 * (a domain's "Wait 30 seconds, …") is recognised and translated with its values kept. Anything the
 * catalogue lacks comes back in English.
 */
export function translate(locale: Locale, text: string, vars?: Readonly<Record<string, unknown>>): string {
  if (typeof text !== 'string') return String(text ?? '');
  const catalogue = CATALOGUES[locale];
  const own = Object.hasOwn(catalogue, text) ? catalogue[text]! : undefined;
  if (vars) return fill(locale, own ?? text, vars);
  if (own !== undefined) return own;
  for (const p of PATTERNS[locale]) {
    const m = p.re.exec(text);
    if (m) return fill(locale, p.to, Object.fromEntries(p.names.map((n, i) => [n, recognised(locale, m[i + 1]!)])));
  }
  return text;
}

/**
 * A value cut from a domain's message recognised by a pattern, as data or as `locale`'s words. Such a message crosses
 * the error mapper, form refills and OAuth error descriptions as one English string (an AppError's message), so its
 * amounts and times are formatMoney's and formatLocalTime's English: read back here, where the sentence is known to be
 * English and the value sits in a placeholder's place, and only here.
 */
function recognised(locale: Locale, value: string): unknown {
  return readEnglishMoney(value) ?? localizeEnglishTime(value, locale) ?? translate(locale, value);
}

/** The translated text, or, when the locale lacks it, the translated `generic` text (English keeps `text`). */
export function translateOr(locale: Locale, text: string, generic: string): string {
  return hasTranslation(locale, text) ? translate(locale, text) : translate(locale, generic);
}
