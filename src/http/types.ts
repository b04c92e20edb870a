import type { Logger } from '../log.ts';

/** What our middleware puts on ctx.state. */
export interface AppState {
  requestId: string;
  log: Logger;
  /** Raw body parsed by @koa/bodyparser, for routes that use it. */
  body?: unknown;
}
