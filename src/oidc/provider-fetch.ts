import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns';
import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { Readable } from 'node:stream';
import type { Logger } from '../log.ts';
import { isPublicAddress } from '../lib/public-address.ts';

const MAX_REDIRECTS = 5;
const REDIRECTS = new Set([301, 302, 303, 307, 308]);
/** Statuses a Response may not carry a body with. */
const NULL_BODY = new Set([101, 204, 205, 304]);

/** The provider's fetch was asked to connect to an address that is not public. */
export class NonPublicAddressError extends Error {
  constructor(host: string, address: string) {
    super(`${host} is ${host === address ? 'not a public address' : `at ${address}, not a public address`}`);
  }
}

/**
 * Resolves like dns.lookup, and refuses the name when any of its addresses is not public: the
 * connection is made to what this returned, so a name cannot be checked on one answer and used on another.
 */
function publicOnlyLookup(hostname: string, options: LookupOptions, callback: Parameters<LookupFunction>[2]): void {
  dnsLookup(hostname, { ...options, all: true }, (err, addresses: LookupAddress[]) => {
    if (err) return callback(err, '', 0);
    const refused = addresses.find((a) => !isPublicAddress(a.address));
    if (refused || !addresses.length) return callback(new NonPublicAddressError(hostname, refused?.address ?? 'no address'), '', 0);
    if (options.all) return (callback as unknown as (e: null, all: LookupAddress[]) => void)(null, addresses);
    callback(null, addresses[0]!.address, addresses[0]!.family);
  });
}

function request(url: URL, init: RequestInit, lookup: LookupFunction | undefined, signal: AbortSignal): Promise<IncomingMessage> {
  const headers: Record<string, string> = {};
  // oidc-provider blanks user-agent to drop fetch's default; node:http sends none unless told.
  for (const [name, value] of new Headers(init.headers)) if (value) headers[name] = value;
  const client = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    // agent: false, a connection of its own: a pooled socket would skip the lookup that checks the address.
    const req = client.request(url, { method: init.method ?? 'GET', headers, signal, agent: false, ...(lookup ? { lookup } : {}) }, resolve);
    req.on('error', reject);
    // The bodies sent are the outbox senders' (a Logout Token's form, an approval event's JWT): URLSearchParams or text.
    req.end(init.body === undefined || init.body === null ? undefined : String(init.body as URLSearchParams | string));
  });
}

function asResponse(res: IncomingMessage): Response {
  const headers = new Headers();
  for (let i = 0; i + 1 < res.rawHeaders.length; i += 2) headers.append(res.rawHeaders[i]!, res.rawHeaders[i + 1]!);
  const status = res.statusCode ?? 0;
  try {
    // Node's web ReadableStream and the DOM's BodyInit are the same thing under two type declarations.
    const body = NULL_BODY.has(status) ? null : (Readable.toWeb(res) as unknown as BodyInit);
    if (!body) res.resume();
    return new Response(body, { status, statusText: res.statusMessage ?? '', headers });
  } catch (err) {
    res.destroy();
    throw err;
  }
}

export interface ProviderFetchDeps {
  /** Let fetches reach loopback, private, link-local and other non-public addresses (config oidc.allowPrivateFetch). */
  allowPrivate: boolean;
  log: Pick<Logger, 'warn'>;
}

/**
 * oidc-provider's `fetch`: how it gets the URLs member sites name (a private_key_jwt site's jwks_uri, a
 * registrant's sector_identifier_uri; request_uri is PAR's only, never fetched). A site controls where its names
 * point, so unless the deployment allows private addresses, every connection (redirects included) goes only to
 * public addresses, judged after DNS on the very addresses connected to; an IP literal is judged as written.
 * oidc-provider's own guard (a dispatcher that drops a connection to such an address once it is made) is replaced
 * by this one, which never makes it. It is the part of fetch oidc-provider and the outbox senders (Logout Tokens,
 * approval events) use: GET and POST with a body, headers, a signal, redirects.
 */
export function createProviderFetch({ allowPrivate, log }: ProviderFetchDeps) {
  const lookup = allowPrivate ? undefined : (publicOnlyLookup as unknown as LookupFunction);
  return async function providerFetch(input: string | URL | Request, init: RequestInit = {}): Promise<Response> {
    const signal = init.signal ?? AbortSignal.timeout(2500);
    let url = new URL(input instanceof Request ? input.url : input);
    for (let hops = 0; ; hops++) {
      if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new TypeError(`cannot fetch ${url.protocol} URLs`);
      const host = url.hostname.replace(/^\[|\]$/g, '');
      try {
        if (!allowPrivate && isIP(host) && !isPublicAddress(host)) throw new NonPublicAddressError(host, host);
        const res = await request(url, init, lookup, signal);
        const location = res.headers.location;
        if (!REDIRECTS.has(res.statusCode ?? 0) || !location || init.redirect === 'manual') return asResponse(res);
        res.resume();
        if (init.redirect === 'error' || hops >= MAX_REDIRECTS) throw new TypeError(`redirected from ${url.origin}, not followed`);
        url = new URL(location, url);
      } catch (err) {
        // Said once here, for the operator: the site gets only oidc-provider's invalid_client(_metadata).
        if (err instanceof NonPublicAddressError) log.warn({ origin: url.origin, reason: err.message }, 'refused to fetch a member site URL at a non-public address (oidc.allowPrivateFetch is off)');
        throw err;
      }
    }
  };
}
