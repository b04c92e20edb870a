import Router from '@koa/router';
import type { Context, Middleware } from 'koa';
import type { Db } from '../db/knex.ts';
import { checkCsrf, csrfToken } from '../http/csrf.ts';
import { formFields } from '../http/form.ts';
import type { Renderer } from '../http/render.ts';
import { sharedLedgerCheck, type LedgerCheck } from '../ledger/check-ledger.ts';
import { inEnglish, sendConsolePage } from './console-session.ts';

export interface ConsoleBooksDeps {
  parseBody: Middleware;
  requireConsoleOperator: Middleware;
  render: Renderer;
  /**
   * The pool outside the request's transaction, as the API's check has it (adminLedgerRoutes): the check reads the books
   * in a snapshot of its own (repeatable read), which a request's transaction, read committed and already begun, cannot give.
   */
  unscopedDb: Db;
}

const PURPOSE = 'admin:books';

/**
 * The books in the operator console (/admin/books): checkLedger, as GET /admin/api/ledger/check and `ledger check` run
 * it, on the press of a button. It writes nothing, but it reads the whole ledger: a form posted with the session's
 * token, never a link a crawler or a prefetching browser follows. The answer is the page with what was read, the
 * count per rule broken and the findings.
 */
export function consoleBooksRoutes(deps: ConsoleBooksDeps): Router {
  const router = new Router({ prefix: '/admin/books' });
  router.use(inEnglish, deps.parseBody, deps.requireConsoleOperator);

  async function page(ctx: Context, check: LedgerCheck | null): Promise<void> {
    await sendConsolePage(ctx, deps.render, 'admin/books', {
      title: 'Books',
      csrf: csrfToken(ctx, PURPOSE),
      check,
      // Figures are minor units or ids: shown as they are, in the order the rule names them.
      figures: (f: LedgerCheck['findings'][number]) => Object.entries(f.figures),
    });
  }

  router.get('/', async function showBooks(ctx) {
    await page(ctx, null);
  });

  router.post('/check', async function checkBooksFromConsole(ctx) {
    checkCsrf(ctx, PURPOSE, formFields(ctx, ['csrf']).csrf);
    await page(ctx, await sharedLedgerCheck(deps.unscopedDb));
  });

  return router;
}
