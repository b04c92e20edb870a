import http from 'node:http';

/**
 * The load generator's HTTP client: enough of fetch for the bench's browsers (test/helpers/agent.ts) and
 * member site (openid-client's customFetch), on node:http with kept-alive connections. Undici's fetch
 * spent 290–520 µs of the load generator's CPU per request here, this 120–240 µs: CPU the server shares
 * its two cores with, and no browser or member site runs on the card manager's machine.
 *
 * The server gets the requests fetch sent, with undici's default accept, accept-language and user-agent; not
 * its accept-encoding and sec-fetch-mode, which neither the card manager nor oidc-provider reads (nothing is
 * compressed). Redirects are never followed (redirect: 'manual', as every caller here asks); an abort signal
 * is ignored; plain http only.
 */
const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

const DEFAULT_HEADERS: Readonly<Record<string, string>> = { accept: '*/*', 'accept-language': '*', 'user-agent': 'node' };

/** What callers here pass: fetch's RequestInit, or openid-client's CustomFetchOptions. */
export interface LeanInit {
  method?: string;
  headers?: HeadersInit;
  body?: unknown;
  redirect?: string;
}

function bodyOf(body: unknown): string | Buffer | undefined {
  if (body === undefined || body === null) return undefined;
  if (typeof body === 'string') return body;
  if (body instanceof URLSearchParams) return body.toString();
  if (body instanceof Uint8Array) return Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  throw new TypeError('leanFetch sends string, URLSearchParams or byte bodies only');
}

export function leanFetch(input: string | URL, init: LeanInit = {}): Promise<Response> {
  const url = new URL(input);
  if (url.protocol !== 'http:') throw new TypeError(`leanFetch speaks plain http only, not ${url.protocol}`);
  if (init.redirect !== 'manual') throw new TypeError("leanFetch never follows redirects: ask for redirect: 'manual'");
  const headers: Record<string, string> = { ...DEFAULT_HEADERS };
  for (const [name, value] of new Headers(init.headers)) headers[name] = value;
  const body = bodyOf(init.body);
  if (body !== undefined) headers['content-length'] = String(Buffer.byteLength(body));
  return new Promise<Response>((resolve, reject) => {
    const req = http.request(
      { host: url.hostname, port: url.port, method: init.method ?? 'GET', path: url.pathname + url.search, headers, agent },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const h = new Headers();
          const raw = res.rawHeaders;
          for (let i = 0; i < raw.length; i += 2) h.append(raw[i]!, raw[i + 1]!);
          const status = res.statusCode!;
          const nullBody = status === 204 || status === 304 || init.method === 'HEAD';
          resolve(new Response(nullBody ? null : Buffer.concat(chunks), { status, statusText: res.statusMessage ?? '', headers: h }));
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}
