import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { close } from '../../src/server.ts';

/** One POST the member sites' server got. */
export interface Posted {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface SiteAnswer {
  status: number;
  /** Sent as application/json when given. */
  body?: string;
  /** How long this answer waits (instead of the endpoints' delayMs): a slow site. */
  delayMs?: number;
}

/**
 * The member sites' endpoints the card manager posts to (Logout Tokens, approval events): a real node:http server on
 * an ephemeral port of this machine. Every POST is recorded as it arrives; each path answers with the next answer
 * queued for it, else `fallback`, after the answer's `delayMs` or else the endpoints' `delayMs`.
 */
export interface SiteEndpoints {
  origin: string;
  posted: Posted[];
  answers: Map<string, SiteAnswer[]>;
  delayMs: number;
  at(path: string): Posted[];
  stop(): Promise<void>;
}

/** `port`: listen there (a site that was down comes back at its address), else on an ephemeral one. */
export async function startSiteEndpoints(fallback: SiteAnswer, port = 0): Promise<SiteEndpoints> {
  const endpoints: SiteEndpoints = {
    origin: '',
    posted: [],
    answers: new Map(),
    delayMs: 0,
    at: (path) => endpoints.posted.filter((p) => p.path === path),
    async stop() {
      server.closeAllConnections();
      await close(server);
    },
  };
  const server: Server = createServer((req, res) => {
    void (async () => {
      let body = '';
      for await (const chunk of req) body += String(chunk);
      const path = req.url ?? '/';
      if (req.method === 'POST') endpoints.posted.push({ path, headers: req.headers, body });
      const answer = endpoints.answers.get(path)?.shift() ?? fallback;
      const delayMs = answer.delayMs ?? endpoints.delayMs;
      if (delayMs) await new Promise((r) => setTimeout(r, delayMs));
      res.writeHead(answer.status, answer.body ? { 'content-type': 'application/json' } : {}).end(answer.body);
    })();
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  endpoints.origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return endpoints;
}
