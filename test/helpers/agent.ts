/**
 * A tiny browser stand-in for HTTP-level tests: keeps cookies, never follows redirects by itself,
 * and knows how to fill in our hosted forms. (The real browser tests use chromium.)
 */
export class Agent {
  readonly cookies = new Map<string, string>();

  /** `send` is how it speaks HTTP: fetch, or the benchmarks' leaner client (test/bench/lean-fetch.ts). */
  constructor(
    readonly base: string,
    private readonly send: (url: URL, init: RequestInit) => Promise<Response> = fetch,
  ) {}

  private absorb(res: Response): void {
    for (const line of res.headers.getSetCookie()) {
      const [pair, ...attrs] = line.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq).trim();
      const value = pair!.slice(eq + 1).trim();
      const expired = attrs.some((a) => /expires=Thu, 01 Jan 1970/i.test(a) || /max-age=0/i.test(a));
      if (expired || value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }

  async request(url: string | URL, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (this.cookies.size) headers.set('cookie', [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; '));
    const res = await this.send(new URL(url, this.base), { ...init, headers, redirect: 'manual' });
    this.absorb(res);
    return res;
  }

  get(url: string | URL): Promise<Response> {
    return this.request(url);
  }

  post(url: string | URL, form: Record<string, string>): Promise<Response> {
    return this.request(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(form).toString(),
    });
  }
}

/** The value of the hidden csrf field on a hosted page. */
export function csrfFrom(html: string): string {
  const m = /name="csrf" value="([^"]+)"/.exec(html);
  if (!m) throw new Error('no csrf field on the page');
  return m[1]!;
}

/** The CSRF token of the form posting to `action`, on a page with several forms (the navigation's sign-out has its own). */
export function csrfOf(html: string, action: string): string {
  const m = new RegExp(`action="${action}"[^>]*>\\s*<input type="hidden" name="csrf" value="([^"]+)"`).exec(html);
  if (!m) throw new Error(`no form for ${action}`);
  return m[1]!;
}

export function location(res: Response, base: string): URL {
  const loc = res.headers.get('location');
  if (!loc) throw new Error(`expected a redirect, got ${res.status}`);
  return new URL(loc, base);
}

export type FlowResult =
  | { kind: 'redirect'; url: URL }
  | { kind: 'page'; status: number; html: string };

/** The interaction a hosted page belongs to (`/interaction/:uid`), from its forms' action. */
export function interactionPathFrom(html: string): string | undefined {
  return /action="(\/interaction\/[^/"]+)\//.exec(html)?.[1];
}

/** A page whose script submits its one form at once (oidc-provider's), with the form's hidden fields. */
function autoSubmitted(html: string): { action: string; fields: Record<string, string> } | undefined {
  if (!/document\.forms\[0\]\.submit\(\)/.test(html)) return undefined;
  const action = /<form method="post" action="([^"]+)"/.exec(html)?.[1];
  if (!action) return undefined;
  const fields = Object.fromEntries([...html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"\/?>/g)].map((m) => [m[1]!, m[2]!]));
  return { action: new URL(action).pathname, fields };
}

/** Follows redirects on the card manager's own origin and returns the page they end on. */
async function pageAfter(agent: Agent, res: Response): Promise<Response | URL> {
  for (let hops = 0; hops < 10; hops++) {
    if (res.status !== 303 && res.status !== 302) return res;
    const next = location(res, agent.base);
    if (next.origin !== new URL(agent.base).origin) return next;
    res = await agent.get(next);
  }
  throw new Error('too many redirects');
}

/**
 * Starts an authorization request in `agent` and returns the hosted page it answers with (the
 * authorization endpoint shows an interaction's first page itself), with its interaction and CSRF token.
 */
export async function startInteraction(agent: Agent, authUrl: URL | string): Promise<{ path: string; html: string; csrf: string; status: number }> {
  const page = await pageAfter(agent, await agent.get(authUrl));
  if (page instanceof URL) throw new Error(`sent back to the site at once: ${page.search}`);
  const html = await page.text();
  const path = interactionPathFrom(html);
  if (!path) throw new Error(`no interaction page (${page.status})`);
  return { path, html, csrf: csrfFrom(html), status: page.status };
}

/**
 * Walks an authorization request through login (and consent, if asked) the way a browser would,
 * and returns where the card manager finally sends the browser back to the member site.
 */
export async function runLogin(
  agent: Agent,
  authUrl: URL,
  creds: { number: string; password: string },
  opts: { deny?: boolean } = {},
): Promise<FlowResult> {
  let res = await agent.get(authUrl);
  for (let steps = 0; steps < 10; steps++) {
    const page = await pageAfter(agent, res);
    if (page instanceof URL) return { kind: 'redirect', url: page };
    const html = await page.text();
    const path = interactionPathFrom(html);
    const autoPost = page.status === 200 && !path ? autoSubmitted(html) : undefined;
    if (autoPost) {
      // The provider's self-submitting form (another holder logs in over a session: it ends that one first).
      res = await agent.post(autoPost.action, autoPost.fields);
      continue;
    }
    if (page.status !== 200 || !path) return { kind: 'page', status: page.status, html };
    const csrf = csrfFrom(html);
    if (opts.deny) {
      res = await agent.post(`${path}/abort`, { csrf });
    } else if (html.includes('name="card_number"')) {
      res = await agent.post(`${path}/login`, { csrf, card_number: creds.number, password: creds.password });
    } else {
      res = await agent.post(`${path}/confirm`, { csrf });
    }
  }
  throw new Error('too many steps');
}

/** An agent behind a client address of its own: for servers with trustProxy, which believe X-Forwarded-For. */
export class ForwardedAgent extends Agent {
  constructor(
    base: string,
    readonly ip: string,
  ) {
    super(base);
  }
  override request(url: string | URL, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    headers.set('x-forwarded-for', this.ip);
    return super.request(url, { ...init, headers });
  }
}
