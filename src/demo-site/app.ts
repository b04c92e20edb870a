import Koa, { type Context } from 'koa';
import Router from '@koa/router';
import session from 'koa-session';
import ejs from 'ejs';
import path from 'node:path';
import * as client from 'openid-client';
import { VIEWS_DIR } from '../http/render.ts';
import { bearerToken, createTokenVerifier, TokenError } from '../resource-server/verify.ts';

/**
 * The demo member site: an outsider that knows the card manager only through OIDC discovery,
 * openid-client and the token-check kit. Its session lives in a signed cookie (no server state).
 */
export interface DemoSiteOptions {
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** Public base URL of this site, e.g. http://localhost:3001. */
  url: string;
  /** The resource server (audience) of this site's API. */
  resource: string;
  cookieKeys: string[];
}

interface DemoSession {
  pkce?: { verifier: string; state: string; nonce: string };
  tokens?: { accessToken: string; idToken: string; refreshToken?: string };
  claims?: Record<string, unknown>;
}

function render(view: string, locals: Record<string, unknown>): Promise<string> {
  const opts = { async: true as const, root: VIEWS_DIR };
  return ejs
    .renderFile(path.join(VIEWS_DIR, 'demo', `${view}.ejs`), locals, opts)
    .then((body) => ejs.renderFile(path.join(VIEWS_DIR, 'demo', 'layout.ejs'), { title: 'Demo member site', ...locals, body }, opts));
}

export async function createDemoSite(opts: DemoSiteOptions): Promise<Koa> {
  const insecure = new URL(opts.issuer).protocol === 'http:';
  let configPromise: Promise<client.Configuration> | undefined;
  // Discovery is lazy so the demo can start before the card manager answers.
  const oidc = () =>
    (configPromise ??= client
      .discovery(new URL(opts.issuer), opts.clientId, undefined, client.ClientSecretBasic(opts.clientSecret), {
        ...(insecure ? { execute: [client.allowInsecureRequests] } : {}),
      })
      .catch((err: unknown) => {
        configPromise = undefined;
        throw err;
      }));
  const verify = createTokenVerifier({ issuer: opts.issuer, audience: opts.resource });

  const app = new Koa({ keys: opts.cookieKeys });
  app.use(session({ key: 'demo.sess', maxAge: 3600_000, httpOnly: true, sameSite: 'lax', signed: true }, app));
  const router = new Router();
  const sess = (ctx: Context) => ctx.session as unknown as DemoSession;

  router.get('/', async (ctx) => {
    ctx.body = await render('home', { claims: sess(ctx).claims ?? null });
  });

  router.get('/login', async (ctx) => {
    const config = await oidc();
    const verifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const nonce = client.randomNonce();
    sess(ctx).pkce = { verifier, state, nonce };
    const url = await client.buildAuthorizationUrlWithPAR(config, {
      redirect_uri: `${opts.url}/callback`,
      scope: 'openid profile offline_access',
      prompt: 'consent',
      resource: opts.resource,
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
      nonce,
    });
    ctx.redirect(url.href);
  });

  router.get('/callback', async (ctx) => {
    const pkce = sess(ctx).pkce;
    if (!pkce) {
      ctx.status = 400;
      ctx.body = await render('message', { heading: 'Log-in expired', message: 'Please start again.' });
      return;
    }
    const config = await oidc();
    try {
      const tokens = await client.authorizationCodeGrant(config, new URL(ctx.originalUrl, opts.url), {
        pkceCodeVerifier: pkce.verifier,
        expectedState: pkce.state,
        expectedNonce: pkce.nonce,
      });
      sess(ctx).pkce = undefined;
      sess(ctx).tokens = {
        accessToken: tokens.access_token,
        idToken: tokens.id_token!,
        ...(tokens.refresh_token ? { refreshToken: tokens.refresh_token } : {}),
      };
      sess(ctx).claims = { ...tokens.claims() };
      ctx.redirect('/me');
    } catch (err) {
      sess(ctx).pkce = undefined;
      const e = err as { error?: string; error_description?: string; message?: string };
      ctx.status = 400;
      ctx.body = await render('message', {
        heading: e.error === 'access_denied' ? 'Log-in cancelled' : 'Log-in failed',
        message: e.error_description ?? e.error ?? 'The card manager did not log you in.',
      });
    }
  });

  router.get('/me', async (ctx) => {
    const s = sess(ctx);
    if (!s.tokens) return ctx.redirect('/');
    let resource: unknown;
    try {
      resource = await verify(s.tokens.accessToken);
    } catch (err) {
      resource = { error: err instanceof TokenError ? err.code : 'error' };
    }
    ctx.body = await render('me', { claims: s.claims, resource });
  });

  router.get('/api/resource', async (ctx) => {
    const token = bearerToken(ctx.get('authorization'));
    if (!token) {
      ctx.status = 401;
      ctx.set('WWW-Authenticate', 'Bearer realm="demo"');
      ctx.body = { error: 'invalid_request', error_description: 'a bearer token is required' };
      return;
    }
    try {
      const claims = await verify(token);
      ctx.body = { message: 'Welcome to the members-only content', sub: claims.sub, client_id: claims.client_id };
    } catch (err) {
      if (!(err instanceof TokenError)) throw err;
      ctx.status = 401;
      ctx.set('WWW-Authenticate', `Bearer realm="demo", error="${err.code}"`);
      ctx.body = { error: err.code };
    }
  });

  router.get('/logout', async (ctx) => {
    const s = sess(ctx);
    const idToken = s.tokens?.idToken;
    ctx.session = null;
    if (!idToken) return ctx.redirect('/');
    const config = await oidc();
    ctx.redirect(client.buildEndSessionUrl(config, { id_token_hint: idToken, post_logout_redirect_uri: `${opts.url}/` }).href);
  });

  app.use(router.routes());
  return app;
}
