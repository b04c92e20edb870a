import type { Locale } from '../lib/i18n.ts';
import type { Logger } from '../log.ts';

/** What our middleware puts on ctx.state. */
export interface AppState {
  requestId: string;
  log: Logger;
  /** Raw body parsed by @koa/bodyparser, for routes that use it. */
  body?: unknown;
  /** The hosted pages' language for this request (http/locale.ts). */
  locale?: Locale;
  /** The card manager's own origin, the only one its forms are taken from (http/csrf.ts formsFrom). */
  ownOrigin?: string;
}
