import { AsyncLocalStorage } from 'node:async_hooks';
import type { Context, Next } from 'koa';
import { DEFAULT_LOCALE, isLocale, LOCALE_NAMES, LOCALES, negotiateLocale, translate, translateOr, type Locale } from '../lib/i18n.ts';

interface LocaleScope {
  locale: Locale;
  /** The person chose it with the language switch (?lang=, kept in a cookie): neither Accept-Language nor ui_locales overrides it. */
  chosen: boolean;
  /** Where the language switch leads (this page, by GET), or null on a page that answers a form. */
  here: { path: string; query: URLSearchParams } | null;
}

/** The language switch's cookie: a preference, not a secret, read only when it names one of LOCALES. */
const LANG_COOKIE = 'cc.lang';
const LANG_COOKIE_DAYS = 365;

/** One link of the language switch (views/layout.ejs). */
export interface LanguageLink {
  locale: Locale;
  name: string;
  href: string;
}

// One carrier per process is safe: each request runs inside its own scope (store.run below), so two
// apps in one process (tests) never see each other's locale. It spares every render call a ctx argument.
const scopes = new AsyncLocalStorage<LocaleScope>();

/**
 * Picks the page language for everything this request renders: the language switch's choice (?lang= on a GET, then
 * its cookie), else Accept-Language; interaction routes then let the OIDC request's ui_locales take over
 * (preferUiLocales) unless the person chose. Runs before the error handler so error pages speak the same language.
 */
export async function negotiateRequestLocale(ctx: Context, next: Next): Promise<void> {
  const read = ctx.method === 'GET' || ctx.method === 'HEAD';
  // A repeated or unknown ?lang= is ignored, as a cookie naming no language is.
  const asked = read && isLocale(ctx.query.lang) ? ctx.query.lang : undefined;
  if (asked) {
    ctx.cookies.set(LANG_COOKIE, asked, { signed: false, httpOnly: true, sameSite: 'lax', secure: ctx.secure, maxAge: LANG_COOKIE_DAYS * 86_400_000, overwrite: true });
  }
  const kept = ctx.cookies.get(LANG_COOKIE, { signed: false });
  const chosen = asked ?? (isLocale(kept) ? kept : undefined);
  const query = new URLSearchParams(ctx.querystring);
  query.delete('lang');
  const scope: LocaleScope = {
    locale: chosen ?? negotiateLocale(undefined, ctx.get('accept-language') || undefined),
    chosen: chosen !== undefined,
    // A page answering a form (a new card number, shown once) offers no switch: following it would lose the page.
    here: read ? { path: ctx.path, query } : null,
  };
  ctx.state.locale = scope.locale;
  ctx.vary('Accept-Language');
  ctx.vary('Cookie');
  await scopes.run(scope, next);
}

/** Lets the authorization request's ui_locales (OIDC Core §3.1.2.1) decide, before Accept-Language. */
export function preferUiLocales(ctx: Context, uiLocales: unknown): void {
  if (typeof uiLocales !== 'string' || !uiLocales.trim()) return;
  if (scopes.getStore()?.chosen) return;
  const locale = negotiateLocale(uiLocales, ctx.get('accept-language') || undefined);
  ctx.state.locale = locale;
  const scope = scopes.getStore();
  if (scope) scope.locale = locale;
}

/** The language of the request being handled (English outside a request). */
export function currentLocale(): Locale {
  return scopes.getStore()?.locale ?? DEFAULT_LOCALE;
}

/** Translates into the current request's language (see lib/i18n translate). */
export function t(text: string, vars?: Readonly<Record<string, unknown>>): string {
  return translate(currentLocale(), text, vars);
}

/** The current language's words for `text`, or its words for `generic` when it has none for `text`. */
export function tOr(text: string, generic: string): string {
  return translateOr(currentLocale(), text, generic);
}

/** A page in English whatever was chosen or asked for (the operator console's): no language switch on it either. */
export function onlyInEnglish(ctx: Context): void {
  ctx.state.locale = DEFAULT_LOCALE;
  const scope = scopes.getStore();
  if (scope) {
    scope.locale = DEFAULT_LOCALE;
    scope.here = null;
  }
}

/**
 * Points the language switch at another address of the same page: the login page the authorization endpoint answers
 * with (a reload of its /auth URL may be spent, a pushed request_uri) is also at /interaction/:uid.
 */
export function languageSwitchTo(path: string): void {
  const scope = scopes.getStore();
  if (scope?.here) scope.here = { path, query: new URLSearchParams() };
}

/** The language switch's links from this page to the same page in each other language (none on a page answering a form). */
export function languageLinks(): LanguageLink[] {
  const scope = scopes.getStore();
  if (!scope?.here) return [];
  const { path, query } = scope.here;
  // The path as this request had it; never one a browser would read as another host's (//host).
  const safePath = `/${path.replace(/^[/\\]+/, '')}`;
  return LOCALES.filter((l) => l !== scope.locale).map((locale) => {
    const q = new URLSearchParams(query);
    q.set('lang', locale);
    return { locale, name: LOCALE_NAMES[locale], href: `${safePath}?${q.toString()}` };
  });
}
