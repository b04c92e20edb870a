import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type Koa from 'koa';

/** Listens on `port` (0 picks a free one) and resolves with the server and the port it got. */
export function listen(app: Koa, port: number, host?: string): Promise<{ server: Server; port: number }> {
  return new Promise((resolve, reject) => {
    const server = app.listen(port, host);
    server.once('listening', () => resolve({ server, port: (server.address() as AddressInfo).port }));
    server.once('error', reject);
  });
}

/** Closes a server, ending idle keep-alive connections so shutdown does not hang. */
export function close(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeIdleConnections();
  });
}
