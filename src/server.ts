import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type Koa from 'koa';
import { ConfigError } from './errors.ts';

/**
 * An HTTP server listening on `port` (0 picks a free one), with the port it got; until an app is attached (`serve`)
 * requests are answered at once (`starting`: 503 with Retry-After but for /healthz). Bound before the app is built so that the issuer can name a port picked for it, and so that a
 * port in use stops the start at once with the setting to change (`setting`: PORT, DEMO_PORT), not a stack trace.
 */
export function bind(port: number, setting: string, host?: string): Promise<{ server: Server; port: number }> {
  return new Promise((resolve, reject) => {
    const server = createServer(starting);
    server.once('listening', () => resolve({ server, port: (server.address() as AddressInfo).port }));
    server.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EADDRINUSE') reject(new ConfigError(`port ${port} is in use by another program: stop it, or choose another with ${setting}`));
      else if (err.code === 'EACCES') reject(new ConfigError(`port ${port} needs privileges this process lacks: choose another with ${setting}`));
      else reject(err);
    });
    server.listen(port, host);
  });
}

const STARTING = 'The card manager is starting. Please try again in a moment.';

/**
 * The answer before the app is attached. /healthz says the process runs (a liveness probe failing here would have the
 * process killed in the middle of a long migration, and started again into the same migration); /readyz says it is
 * not ready; the rest get 503 temporarily_unavailable, in JSON as an OAuth client or an API caller reads it, in a line
 * of text for a browser (no templates yet). Retry-After throughout: the start is usually a matter of seconds.
 */
function starting(req: IncomingMessage, res: ServerResponse): void {
  const path = (req.url ?? '/').split('?')[0];
  const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', ...headers }).end(JSON.stringify(body));
  if (path === '/healthz') return void json(200, { status: 'ok' });
  if (path === '/readyz') return void json(503, { status: 'starting' }, { 'retry-after': '1' });
  if (/\btext\/html\b/.test(req.headers.accept ?? '')) {
    res.writeHead(503, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store', 'retry-after': '1' }).end(`${STARTING}\n`);
    return;
  }
  json(503, { error: 'temporarily_unavailable', error_description: STARTING }, { 'retry-after': '1' });
}

/** Hands a bound server's requests to a Koa app. */
export function serve(server: Server, app: Koa): void {
  server.off('request', starting);
  server.on('request', app.callback());
}

/**
 * Closes a server, ending idle keep-alive connections so shutdown does not hang. With `graceMs`, the requests still in
 * flight that long after (a body that never arrives, a client that never reads) have their connections cut, and
 * `onCut` is told: a process manager's own kill would otherwise end the process without a word.
 */
export function close(server: Server, graceMs?: number, onCut?: () => void): Promise<void> {
  return new Promise((resolve) => {
    let timer: NodeJS.Timeout | undefined;
    server.close(() => {
      clearTimeout(timer);
      resolve();
    });
    server.closeIdleConnections();
    if (graceMs === undefined) return;
    timer = setTimeout(() => {
      onCut?.();
      server.closeAllConnections();
    }, graceMs);
    timer.unref();
  });
}
