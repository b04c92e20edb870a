import Router from '@koa/router';
import type { Context, Middleware, Next } from 'koa';
import type { Directory } from '../db/directory.ts';
import type { Db } from '../db/knex.ts';
import { ValidationError } from '../errors.ts';
import { jsonBody } from '../http/validate.ts';
import { closeSite } from '../member-sites/close.ts';
import { listSites, showSite } from '../member-sites/list.ts';
import { registerMemberSite, type RegisterInput } from '../member-sites/register.ts';
import { reinstateSite } from '../member-sites/reinstate.ts';
import { rotateSecret } from '../member-sites/rotate-secret.ts';
import type { MetadataRules } from '../member-sites/site-metadata.ts';
import { suspendSite } from '../member-sites/suspend.ts';
import { updateSite, type UpdateInput } from '../member-sites/update.ts';
import { presentSite } from './present-site.ts';
import { requireOperator, type OperatorCredentials } from './require-operator.ts';
import { parseInput } from './operator-input.ts';
import { clientIdParam, listQuery, reasonInput, rotateInput, siteCall, toDomainFields } from './sites-inputs.ts';

export interface AdminSiteDeps {
  parseBody: Middleware;
  db: Db;
  rules: MetadataRules;
  operatorAuth: OperatorCredentials;
  /** This instance's kept member sites: a change made here is forgotten as it commits, before the answer leaves. */
  directory: Directory;
}

/** The operator API for the member-site registry: register, list, show, update, suspend, reinstate, close, rotate the secret. */
export function adminSiteRoutes({ parseBody, db, rules, operatorAuth, directory }: AdminSiteDeps): Router {
  const router = new Router({ prefix: '/admin/api/sites' });
  router.use(requireOperator(operatorAuth));
  router.use(parseBody);
  router.use(async function forgetChangedSites(ctx: Context, next: Next) {
    if (ctx.method === 'GET') return next();
    // Other instances hear of the change from the database (db/directory.ts); this one need not wait.
    try {
      await next();
    } finally {
      directory.forgetAllOnceCommitted();
    }
  });
  router.use(async function noStore(ctx: Context, next: Next) {
    ctx.set('Cache-Control', 'no-store');
    await next();
  });

  const actor = (ctx: Context) => String(ctx.state.actor ?? 'operator');
  const clientIdOf = (ctx: Context) => parseInput(clientIdParam, { client_id: ctx.params.clientId }).client_id;

  router.get('/', async function listMemberSites(ctx) {
    const q = parseInput(listQuery, ctx.query);
    ctx.body = { sites: (await listSites(db, q.status)).map(presentSite) };
  });

  router.post('/', async function registerSite(ctx) {
    const reg = await siteCall(registerMemberSite({ db, ...rules }, toDomainFields(jsonBody(ctx)) as RegisterInput, actor(ctx)));
    ctx.status = 201;
    ctx.body = { ...presentSite(await showSite(db, reg.clientId)), ...(reg.clientSecret ? { client_secret: reg.clientSecret } : {}) };
  });

  router.get('/:clientId', async function showMemberSite(ctx) {
    ctx.body = presentSite(await siteCall(showSite(db, clientIdOf(ctx))));
  });

  router.patch('/:clientId', async function changeSite(ctx) {
    const clientId = clientIdOf(ctx);
    const body = toDomainFields(jsonBody(ctx));
    if ('clientId' in body) throw new ValidationError('A client id cannot change.', { client_id: 'Cannot be changed.' });
    const updated = await siteCall(updateSite({ db, ...rules }, clientId, body as UpdateInput, actor(ctx)));
    ctx.body = { ...presentSite(updated.site), ...(updated.clientSecret ? { client_secret: updated.clientSecret } : {}) };
  });

  const statusActions = [
    ['suspend', suspendSite],
    ['reinstate', reinstateSite],
    ['close', closeSite],
  ] as const;
  for (const [name, act] of statusActions) {
    router.post(`/:clientId/${name}`, async function changeSiteStatus(ctx) {
      const clientId = clientIdOf(ctx);
      const { reason } = parseInput(reasonInput, jsonBody(ctx));
      const { site, changed } = await siteCall(act(db, clientId, reason, actor(ctx)));
      // A site already in the status asked for answers as it is, changed: false (nothing audited).
      ctx.body = { ...presentSite(site), changed };
    });
  }

  router.post('/:clientId/rotate-secret', async function rotateSiteSecret(ctx) {
    const clientId = clientIdOf(ctx);
    const input = parseInput(rotateInput, ctx.request.length ? jsonBody(ctx) : {});
    const rotated = await siteCall(rotateSecret(db, clientId, input.overlap_seconds, actor(ctx)));
    ctx.body = {
      client_id: rotated.clientId,
      client_secret: rotated.clientSecret,
      previous_secret_valid_until: rotated.previousValidUntil?.toISOString() ?? null,
    };
  });

  return router;
}

