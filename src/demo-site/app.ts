import bodyParser from '@koa/bodyparser';
import Router from '@koa/router';
import ejs from 'ejs';
import Koa, { type Context } from 'koa';
import session from 'koa-session';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as client from 'openid-client';
import { createResourceServer } from 'cybercard/resource-server';
import { apiRoutes } from './api.ts';
import { createApprovalsClient, type ApprovalView } from './approvals-client.ts';
import { CATALOGUE, findItem, price, type Item } from './catalogue.ts';
import { createLogoutTokenVerifier, type LogoutOf } from './logout-token.ts';
import { itemRefusalWords, refusalWords } from './refusal-words.ts';
import { createSecurityEventVerifier, SetRefused } from './security-event.ts';

/**
 * The demo member site: an outsider that knows the card manager only through OIDC discovery,
 * openid-client, the cybercard/resource-server kit and the approvals API over HTTP. It is the
 * README's integration guide in runnable form.
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
  /** The card manager's currency (ISO 4217); default KRW. */
  currency?: string;
  /** Strict mode's status cache (default 1 s): how long after a lost-card report content may still show. */
  strictCacheSeconds?: number;
  /** Captures open approvals this often (0, the default: only when settle() is called). */
  settleEverySeconds?: number;
}

export interface DemoSite {
  app: Koa;
  /** Captures every approval still held, as a shop settles at the end of the day; returns how many. */
  settle(): Promise<number>;
  stop(): void;
}

interface Purchase {
  itemId: string;
  accessToken: string;
  approvalNo: string;
}

interface DemoSession {
  pending?: { verifier: string; state: string; nonce: string; itemId?: string };
  tokens?: { accessToken: string; idToken: string; refreshToken?: string };
  claims?: Record<string, unknown>;
  purchases?: Record<string, Purchase>;
  /** Free 19+ items entered: the access token of the log-in that asked for the item's age (a claims request), by item. */
  entries?: Record<string, string>;
  /** Who signed in or paid, as the card manager named them in the ID token: what a Logout Token ends sessions by. */
  holder?: { sub: string; sid?: string };
}

const VIEWS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../views/demo');

function render(view: string, locals: Record<string, unknown>): Promise<string> {
  const opts = { async: true as const, root: VIEWS };
  return ejs
    .renderFile(path.join(VIEWS, `${view}.ejs`), locals, opts)
    .then((body) => ejs.renderFile(path.join(VIEWS, 'layout.ejs'), { title: 'Demo member site', ...locals, body }, opts));
}

/** Whether a session is one a Logout Token names: the holder's (sub), the session (sid), or both must match. */
function namedBy(session: unknown, of: LogoutOf): boolean {
  const holder = (session as DemoSession | undefined)?.holder;
  if (!holder) return false;
  return (!of.sub || holder.sub === of.sub) && (!of.sid || holder.sid === of.sid);
}

/**
 * Sessions hold access tokens (one per purchase): too big for a cookie, so the cookie holds an id. Kept here, server
 * side, so that a back-channel logout can end them (endWhere) while the holder's browser is elsewhere.
 */
function memoryStore() {
  const sessions = new Map<string, { value: unknown; until: number }>();
  return {
    async get(key: string): Promise<unknown> {
      const s = sessions.get(key);
      return s && s.until > Date.now() ? s.value : undefined;
    },
    async set(key: string, value: unknown, maxAge: number): Promise<void> {
      if (sessions.size >= 10_000) for (const [k, s] of sessions) if (s.until <= Date.now()) sessions.delete(k);
      sessions.set(key, { value, until: Date.now() + (typeof maxAge === 'number' ? maxAge : 86_400_000) });
    },
    async destroy(key: string): Promise<void> {
      sessions.delete(key);
    },
    /** Ends every session `of` names; returns how many. */
    endWhere(of: LogoutOf): number {
      let ended = 0;
      for (const [k, s] of sessions) if (namedBy(s.value, of) && sessions.delete(k)) ended++;
      return ended;
    },
  };
}

/** The most of a request body the demo reads as a Security Event Token: ours are about 1 KB. */
const SET_LIMIT = 16 * 1024;

/** The request's body as text, refused past SET_LIMIT. */
async function tokenOf(ctx: Context): Promise<string> {
  let text = '';
  for await (const chunk of ctx.req) {
    text += String(chunk);
    if (text.length > SET_LIMIT) throw new SetRefused('invalid_request', 'the body is too large');
  }
  return text.trim();
}

export async function createDemoSite(opts: DemoSiteOptions): Promise<DemoSite> {
  const currency = opts.currency ?? 'KRW';
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
  const rs = createResourceServer({
    issuer: opts.issuer,
    audience: opts.resource,
    realm: 'demo',
    strict: { clientId: opts.clientId, clientSecret: opts.clientSecret, cacheSeconds: opts.strictCacheSeconds ?? 1 },
  });
  const approvals = createApprovalsClient(opts.issuer, opts.clientId, opts.clientSecret);
  /** Approvals not captured yet, across all sessions: what settle() works through. */
  const toCapture = new Set<string>();

  const jwksUri = async () => new URL(String((await oidc()).serverMetadata().jwks_uri));
  const logoutTokens = createLogoutTokenVerifier({ issuer: opts.issuer, clientId: opts.clientId, jwksUri });
  const approvalEvents = createSecurityEventVerifier({ issuer: opts.issuer, clientId: opts.clientId, jwksUri });
  /** Approvals the card manager told us were revoked (approval-revoked events): their purchases no longer count. */
  const revoked = new Set<string>();

  const app = new Koa({ keys: opts.cookieKeys });
  const store = memoryStore();
  app.use(session({ key: 'demo.sess', maxAge: 3600_000, httpOnly: true, sameSite: 'lax', signed: true, store }, app));
  const router = new Router();
  const sess = (ctx: Context) => ctx.session as unknown as DemoSession;
  const money = (n: number) => price(n, currency);
  /** An instant from the card manager's API (ISO 8601) as a person reads it: "2026-12-06 10:17 UTC". */
  const when = (iso: string) => `${new Date(iso).toISOString().slice(0, 16).replace('T', ' ')} UTC`;

  async function page(ctx: Context, view: string, locals: Record<string, unknown>, status = 200): Promise<void> {
    ctx.status = status;
    ctx.type = 'html';
    ctx.body = await render(view, { loggedIn: Boolean(sess(ctx).tokens), money, when, ...locals });
  }

  /** Our own API, called the way a browser app would: over HTTP with the Bearer token. */
  async function fetchItem(item: Item, accessToken: string): Promise<{ ok: boolean; status: number; body: Record<string, unknown> }> {
    const res = await fetch(`${opts.url}/api/items/${item.id}`, { headers: { authorization: `Bearer ${accessToken}` } });
    return { ok: res.ok, status: res.status, body: (await res.json()) as Record<string, unknown> };
  }

  /** Starts a pushed authorization request (PAR) and sends the browser to the card manager. */
  async function redirectToCardManager(ctx: Context, extra: Record<string, string>, itemId?: string): Promise<void> {
    const config = await oidc();
    const verifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const nonce = client.randomNonce();
    sess(ctx).pending = { verifier, state, nonce, ...(itemId ? { itemId } : {}) };
    const url = await client.buildAuthorizationUrlWithPAR(config, {
      redirect_uri: `${opts.url}/callback`,
      resource: opts.resource,
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
      nonce,
      ...extra,
    });
    ctx.redirect(url.href);
  }

  router.get('/', async function catalogue(ctx) {
    const purchases = sess(ctx).purchases ?? {};
    await page(ctx, 'home', { claims: sess(ctx).claims ?? null, items: CATALOGUE, purchases });
  });

  router.get('/login', async function login(ctx) {
    await redirectToCardManager(ctx, { scope: 'openid profile offline_access', prompt: 'consent' });
  });

  router.get('/items/:id/buy', async function buy(ctx) {
    const item = findItem(ctx.params.id ?? '');
    if (!item || item.price === 0) return page(ctx, 'message', { heading: 'Not for sale', message: 'There is no such item to buy.' }, 404);
    // RFC 9396 authorization_details: what is paid for, how much, and (19+ section) the rating it needs.
    const detail = {
      type: 'payment',
      amount: String(item.price),
      currency,
      description: item.title,
      content_ref: item.id,
      ...(item.rating ? { rating: item.rating } : {}),
    };
    await redirectToCardManager(ctx, { scope: 'openid', authorization_details: JSON.stringify([detail]) }, item.id);
  });

  router.get('/items/:id/enter', async function enter(ctx) {
    const item = findItem(ctx.params.id ?? '');
    if (!item || item.price > 0 || !item.rating) {
      return page(ctx, 'message', { heading: 'Nothing to enter', message: 'There is no such free 19+ item.' }, 404);
    }
    // OIDC Core §5.5 claims request: the card manager rates this log-in 19+ (a younger holder is refused there, as for
    // a 19+ payment) and the tokens it issues say age_over_19, which our API's requireAge checks.
    const claims = { id_token: { [`age_over_${item.rating}`]: { essential: true } } };
    await redirectToCardManager(ctx, { scope: 'openid', claims: JSON.stringify(claims) }, item.id);
  });

  router.get('/callback', async function callback(ctx) {
    const pending = sess(ctx).pending;
    // No request of ours waits: this log-in or purchase has ended already (the Back button after paying brings the
    // browser here again), or the session expired. Either way nothing is charged from here.
    if (!pending) {
      return page(ctx, 'message', {
        heading: 'Nothing to finish here',
        message: 'This log-in or purchase has already ended, and nothing more was charged.',
        nextStep: 'What you bought is marked “bought” in the catalogue. To buy something else, start from its page.',
      }, 400);
    }
    sess(ctx).pending = undefined;
    const item = pending.itemId ? findItem(pending.itemId) : undefined;
    const config = await oidc();
    let tokens: client.TokenEndpointResponse & client.TokenEndpointResponseHelpers;
    try {
      tokens = await client.authorizationCodeGrant(config, new URL(ctx.originalUrl, opts.url), {
        pkceCodeVerifier: pending.verifier,
        expectedState: pending.state,
        expectedNonce: pending.nonce,
      });
    } catch (err) {
      // A refusal is access_denied, its error_description starting with a code: branch on the code and show our own
      // words (refusal-words.ts), never the card manager's text for developers.
      const e = err as { error?: string; error_description?: string };
      const words = refusalWords(e.error, e.error_description, item ? { rating: item.rating, entry: item.price === 0 } : undefined);
      return page(ctx, 'message', { heading: words.heading, message: words.sentence, nextStep: words.nextStep }, 400);
    }
    const idClaims = tokens.claims();
    if (idClaims) sess(ctx).holder = { sub: idClaims.sub, ...(typeof idClaims.sid === 'string' ? { sid: idClaims.sid } : {}) };
    if (!item) {
      sess(ctx).tokens = {
        accessToken: tokens.access_token,
        idToken: tokens.id_token!,
        ...(tokens.refresh_token ? { refreshToken: tokens.refresh_token } : {}),
      };
      sess(ctx).claims = { ...tokens.claims() };
      return ctx.redirect('/me');
    }
    if (item.price === 0) {
      // A free 19+ item: the token is the entry ticket; our API checks its age_over_19 (the card manager gated it).
      sess(ctx).entries = { ...sess(ctx).entries, [item.id]: tokens.access_token };
      return ctx.redirect(`/items/${item.id}`);
    }
    // The approved authorization_details come back in the token response (RFC 9396 §7).
    const details = (tokens.authorization_details ?? []) as Array<{ type?: string; approval_no?: string }>;
    const approvalNo = details.find((d) => d.type === 'payment')?.approval_no;
    if (!approvalNo) return page(ctx, 'message', { heading: 'Purchase failed', message: 'The card manager returned no approval number.' }, 502);
    sess(ctx).purchases = { ...sess(ctx).purchases, [item.id]: { itemId: item.id, accessToken: tokens.access_token, approvalNo } };
    toCapture.add(approvalNo);
    ctx.redirect(`/items/${item.id}`);
  });

  router.get('/items/:id', async function showItem(ctx) {
    const item = findItem(ctx.params.id ?? '');
    if (!item) return page(ctx, 'message', { heading: 'Not found', message: 'There is no such item.' }, 404);
    const s = sess(ctx);
    const purchase = s.purchases?.[item.id];
    const token = item.price > 0 ? purchase?.accessToken : item.rating ? s.entries?.[item.id] : item.membersOnly ? s.tokens?.accessToken : undefined;
    if (item.price === 0 && !item.membersOnly && !item.rating) return page(ctx, 'item', { item, content: item.content, receipt: null, refusal: null });
    if (!token) return page(ctx, 'item', { item, content: null, receipt: null, refusal: null });
    const answer = await fetchItem(item, token);
    let receipt: ApprovalView | null = null;
    if (purchase) receipt = await approvals.show(purchase.approvalNo).catch(() => null);
    // Told it was revoked: not delivered, whatever a status check cached a moment ago would still say.
    if (purchase && revoked.has(purchase.approvalNo)) {
      return page(ctx, 'item', { item, content: null, receipt, refusal: itemRefusalWords(403, undefined, { status: 'revoked' }) }, 403);
    }
    if (!answer.ok) {
      // The kit's error_description is for developers: the visitor gets the demo's words (refusal-words.ts).
      const refusal = itemRefusalWords(answer.status, typeof answer.body.error === 'string' ? answer.body.error : undefined, receipt);
      return page(ctx, 'item', { item, content: null, receipt, refusal }, answer.status === 503 ? 503 : 403);
    }
    await page(ctx, 'item', { item, content: String(answer.body.content), receipt, refusal: null });
  });

  router.get('/me', async function account(ctx) {
    const s = sess(ctx);
    if (!s.tokens) return ctx.redirect('/');
    const resource = await rs.verify(s.tokens.accessToken).catch((err: unknown) => ({ error: (err as { code?: string }).code ?? 'error' }));
    // The token's credit standing (verified by the kit): warn before a payment the card manager would refuse.
    const overdue = (resource as { credit?: { standing?: unknown } }).credit?.standing === 'overdue';
    await page(ctx, 'me', { claims: s.claims, resource, overdue });
  });

  router.get('/logout', async function logout(ctx) {
    const idToken = sess(ctx).tokens?.idToken;
    ctx.session = null;
    if (!idToken) return ctx.redirect('/');
    const config = await oidc();
    ctx.redirect(client.buildEndSessionUrl(config, { id_token_hint: idToken, post_logout_redirect_uri: `${opts.url}/` }).href);
  });

  // OpenID Connect Back-Channel Logout 1.0 §2.5: the card manager posts a Logout Token here (the site's registered
  // backchannel_logout_uri) when the holder's session there ends: signed out, card blocked or lost, password changed.
  // The holder's sessions here end with it, wherever their browser is. 200 when done, 400 for a token that is not valid.
  router.post('/backchannel-logout', bodyParser({ enableTypes: ['form'], formLimit: '16kb' }), async function backchannelLogout(ctx) {
    ctx.set('Cache-Control', 'no-store');
    const token = (ctx.request.body as Record<string, unknown> | undefined)?.logout_token;
    try {
      if (typeof token !== 'string' || !token) throw new Error('logout_token is missing');
      store.endWhere(await logoutTokens.verify(token));
      ctx.status = 200;
    } catch (err) {
      ctx.status = 400;
      ctx.body = { error: 'invalid_request', error_description: (err as Error).message };
    }
  });

  // RFC 8935: the card manager pushes approval events here (the site's registered approval_events_uri) as Security
  // Event Tokens. 202 when taken (a repeat too: it is sent again when our first answer was lost); 400 with an RFC 8935
  // error body for one that is not valid, which the card manager then gives up on.
  router.post('/approval-events', async function approvalEvent(ctx) {
    ctx.set('Cache-Control', 'no-store');
    try {
      if (!ctx.is('application/secevent+jwt')) throw new SetRefused('invalid_request', 'the body must be application/secevent+jwt');
      const event = await approvalEvents.verify(await tokenOf(ctx));
      if (event.kind === 'approval-revoked') {
        revoked.add(event.approvalNo);
        toCapture.delete(event.approvalNo);
      }
      ctx.status = 202;
    } catch (err) {
      if (!(err instanceof SetRefused)) throw err;
      ctx.status = 400;
      ctx.body = { err: err.err, description: err.message };
    }
  });

  app.use(router.routes());
  app.use(apiRoutes(rs, currency).routes());

  async function settle(): Promise<number> {
    let captured = 0;
    for (const approvalNo of [...toCapture]) {
      try {
        const a = await approvals.show(approvalNo);
        if (a.status === 'approved') {
          await approvals.capture(approvalNo);
          captured++;
        }
        // Captured, revoked, voided or expired: nothing more to do for it.
        toCapture.delete(approvalNo);
      } catch {
        // The card manager is unreachable or refused for now: try again at the next settlement.
      }
    }
    return captured;
  }
  const timer = opts.settleEverySeconds ? setInterval(() => void settle(), opts.settleEverySeconds * 1000) : undefined;
  timer?.unref();
  return { app, settle, stop: () => clearInterval(timer) };
}
