import { AsyncLocalStorage } from 'node:async_hooks';
import type { Context, Next } from 'koa';
import { DEFAULT_LOCALE, negotiateLocale, translate, translateOr, type Locale } from '../lib/i18n.ts';

interface LocaleScope {
  locale: Locale;
}

// One carrier per process is safe: each request runs inside its own scope (store.run below), so two
// apps in one process (tests) never see each other's locale. It spares every render call a ctx argument.
const scopes = new AsyncLocalStorage<LocaleScope>();

/**
 * Picks the page language from Accept-Language for everything this request renders; interaction routes
 * then let the OIDC request's ui_locales take over (preferUiLocales). Runs before the error handler so
 * error pages speak the same language.
 */
export async function negotiateRequestLocale(ctx: Context, next: Next): Promise<void> {
  const scope: LocaleScope = { locale: negotiateLocale(undefined, ctx.get('accept-language') || undefined) };
  ctx.state.locale = scope.locale;
  ctx.vary('Accept-Language');
  await scopes.run(scope, next);
}

/** Lets the authorization request's ui_locales (OIDC Core §3.1.2.1) decide, before Accept-Language. */
export function preferUiLocales(ctx: Context, uiLocales: unknown): void {
  if (typeof uiLocales !== 'string' || !uiLocales.trim()) return;
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
