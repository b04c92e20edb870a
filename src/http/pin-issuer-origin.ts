import type { Context, Next } from 'koa';
import type { Logger } from '../log.ts';

/** A request target in absolute form (`GET http://host/path HTTP/1.1`), which Koa's `href` takes as the URL as is. */
const ABSOLUTE_FORM = /^[a-z][a-z0-9+.-]*:\/\//i;

/** Reached at an instance's own address on purpose (load balancers, Prometheus): not worth a warning each time. */
const INSTANCE_PATHS = new Set(['/healthz', '/readyz', '/metrics']);

/** The longest part of a forged value logged: a header can be kilobytes, a log line should not be. */
const LOGGED_LENGTH = 100;

/**
 * A value a client sent, fit for a log line: cut to LOGGED_LENGTH characters (… marks the cut) and every character
 * outside printable ASCII, and the backslash itself, written as \xNN (\u{…} above 0xff), so a log reader sees no control
 * characters or lookalikes, and a sent "\x0a" cannot pass for an escaped line break.
 */
export function sanitiseForLog(value: string): string {
  const long = value.length > LOGGED_LENGTH;
  const escaped = (long ? value.slice(0, LOGGED_LENGTH) : value).replace(/[^\x21-\x5b\x5d-\x7e]/gu, (c) => {
    const code = c.codePointAt(0)!;
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u{${code.toString(16)}}`;
  });
  return long ? `${escaped}…` : escaped;
}

/**
 * Every absolute URL the card manager writes (discovery's endpoints, registration_client_uri, form actions, redirects)
 * is built by oidc-provider's `urlFor` and Koa from the request's Host, X-Forwarded-Host (with trustProxy) and request
 * target. Behind a cache a forged one would store discovery naming another host's token endpoint or jwks_uri
 * [web cache poisoning]: the request is made to say the issuer's host and scheme before anything reads it, so a
 * load balancer may send any Host (an instance's address included) and nothing is refused, nor cached refused.
 * Runs after requireHttps, which has judged the scheme the load balancer reported.
 */
export function pinIssuerOrigin(issuer: string) {
  const { host, protocol } = new URL(issuer);
  const scheme = protocol.slice(0, -1);
  // The issuer's host as a client may write it: URL drops a default port, a Host header may carry it.
  const issuerHosts = new Set([host, `${host}:${protocol === 'https:' ? 443 : 80}`]);
  return function answerAsIssuer(ctx: Context, next: Next): Promise<void> {
    const { headers } = ctx.req;
    warnIfForged(ctx, host, issuerHosts);
    headers.host = host;
    delete headers['x-forwarded-host'];
    // Read only with trustProxy; without it the scheme is the socket's, which requireHttps has already judged.
    if (ctx.app.proxy) headers['x-forwarded-proto'] = scheme;
    if (ABSOLUTE_FORM.test(ctx.url)) {
      const target = new URL(ctx.url);
      ctx.url = ctx.originalUrl = ctx.request.originalUrl = `${target.pathname}${target.search}`;
    }
    return next();
  };
}

/**
 * Logs, once for the request and at warn, the Host, X-Forwarded-Host and absolute-form target's host that named another
 * host than the issuer's (each as sent, through sanitiseForLog; of the target only its scheme and host, never the path
 * or query, which may hold a code): a cache-poisoning attempt, or a load balancer to configure, leaves a trace.
 */
function warnIfForged(ctx: Context, issuerHost: string, issuerHosts: Set<string>): void {
  if (INSTANCE_PATHS.has(ctx.path)) return;
  const { headers } = ctx.req;
  const forged: Record<string, string> = {};
  const sent = headers.host;
  if (sent !== undefined && !issuerHosts.has(sent.toLowerCase())) forged.host = sanitiseForLog(sent);
  const forwardedHeader = headers['x-forwarded-host'];
  const forwarded = Array.isArray(forwardedHeader) ? forwardedHeader.join(', ') : forwardedHeader;
  if (forwarded !== undefined && !issuerHosts.has(forwarded.toLowerCase())) forged.forwardedHost = sanitiseForLog(forwarded);
  if (ABSOLUTE_FORM.test(ctx.url)) {
    const target = URL.parse(ctx.url);
    if (!target || target.host !== issuerHost) forged.target = target ? sanitiseForLog(`${target.protocol}//${target.host}`) : '(unparsable)';
  }
  if (Object.keys(forged).length === 0) return;
  (ctx.state.log as Logger | undefined)?.warn({ ...forged, issuerHost }, 'forged Host answered as the issuer');
}
