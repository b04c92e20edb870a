/**
 * The load generator's thread: browsers and member site driving the card manager over HTTP, so
 * their CPU is counted apart from the server's (see LoadGenerator in load.ts). Not a module to
 * import: load.ts starts it as a worker and talks to it with the messages below.
 */
import { parentPort } from 'node:worker_threads';
import { createStatusCheck, type AccessToken } from 'cybercard/resource-server';
import { Agent } from '../helpers/agent.ts';
import { codeInSession, codeThroughBrowser, connectSite, exchangeCode, fullApproval, fullLogin, postToken, type BenchSite, type IssuedCode, type SiteInfo } from './flow.ts';
import { leanFetch } from './lean-fetch.ts';
import { runAtRate, runFor, type Sample } from './harness.ts';

export type LoadJob =
  /** A new browser each time: login form, consent, code, exchange. */
  | { kind: 'login' }
  /** A new browser each time: PAR payment, login form, approve (hold), code, exchange. */
  | { kind: 'approve' }
  /** The same, started at a steady rate (open loop) whatever is still running: tail latency at a given load. */
  | { kind: 'approveAtRate'; rate: number }
  /** A browser that logged in once signs in again inside its SSO session (consent, no password): code only. */
  | { kind: 'sso' }
  /** The same browsers log in again with the grant already given: /auth answers with the code; `exchange` adds /token. */
  | { kind: 'ssoSilent'; exchange: boolean }
  /** Exchanges codes made beforehand with makeCodes; stops early when they run out. */
  | { kind: 'exchange' }
  /** client_credentials against any token endpoint. */
  | { kind: 'clientCredentials'; url: string; authorization: string }
  /**
   * Strict-mode status checks (createStatusCheck, no cache) as the member site `clientId`; lane n asks
   * about approvalNos[n % length] only, so concurrent checks never share a request.
   */
  | { kind: 'statusCheck'; issuer: string; clientId: string; clientSecret: string; approvalNos: string[] }
  /** A plain GET that must answer 200 (a same-server baseline such as /healthz). */
  | { kind: 'get'; url: string };

export type LoadRequest =
  | { type: 'connect'; site: SiteInfo; sessions: number }
  | { type: 'makeCodes'; n: number }
  | { type: 'run'; job: LoadJob; seconds: number; concurrency: number };

export type LoadReply = { id: number } & ({ ok: true; result: unknown } | { ok: false; error: string });

let site: BenchSite | undefined;
/** Browsers that logged in once; each makes codes through consent only, with no argon2 verify. */
let sessions: Agent[] = [];
/** Codes waiting to be exchanged. */
const codes: IssuedCode[] = [];

function connected(): BenchSite {
  if (!site) throw new Error('connect first');
  return site;
}

/** Replaces the pool with `n` fresh codes (leftovers may be near their 60 s lifetime). */
async function makeCodes(n: number): Promise<number> {
  const b = connected();
  codes.length = 0;
  let left = n;
  await Promise.all(
    sessions.map(async (agent) => {
      while (left > 0) {
        left--;
        codes.push(await codeThroughBrowser(b, agent));
      }
    }),
  );
  return codes.length;
}

function run(job: LoadJob, seconds: number, concurrency: number): Promise<Sample> {
  switch (job.kind) {
    case 'login': {
      const b = connected();
      return runFor(seconds, concurrency, async () => void (await fullLogin(b)));
    }
    case 'approveAtRate': {
      const b = connected();
      return runAtRate(seconds, job.rate, () => fullApproval(b));
    }
    case 'approve': {
      const b = connected();
      return runFor(seconds, concurrency, async () => void (await fullApproval(b)));
    }
    case 'ssoSilent': {
      const b = connected();
      return runFor(seconds, concurrency, async (lane) => {
        const issued = await codeInSession(b, sessions[lane % sessions.length]!);
        if (job.exchange) await exchangeCode(b, issued);
      });
    }
    case 'sso': {
      const b = connected();
      return runFor(seconds, concurrency, async (lane) => void (await codeThroughBrowser(b, sessions[lane % sessions.length]!)));
    }
    case 'exchange': {
      const b = connected();
      return runFor(seconds, concurrency, async () => {
        const c = codes.pop();
        if (!c) return false;
        await exchangeCode(b, c);
      });
    }
    case 'clientCredentials': {
      const form = { grant_type: 'client_credentials' };
      return runFor(seconds, concurrency, async () => void (await postToken(job.url, job.authorization, form)));
    }
    case 'statusCheck': {
      const check = createStatusCheck(job.issuer, { clientId: job.clientId, clientSecret: job.clientSecret, cacheSeconds: 0 });
      // What the check reads of a verified token: its approval and the site it was issued to (strict.ts asks as that site).
      const lanes = job.approvalNos.map((no) => ({ approval_no: no, client_id: job.clientId }) as AccessToken);
      return runFor(seconds, concurrency, (lane) => check(lanes[lane % lanes.length]!));
    }
    case 'get': {
      return runFor(seconds, concurrency, async () => {
        const res = await fetch(job.url);
        await res.arrayBuffer();
        if (res.status !== 200) throw new Error(`HTTP ${res.status}`);
      });
    }
  }
}

async function handle(req: LoadRequest): Promise<unknown> {
  switch (req.type) {
    case 'connect':
      site = await connectSite(req.site);
      sessions = Array.from({ length: req.sessions }, () => new Agent(req.site.url, leanFetch));
      // Each session logs in once here (its only argon2 verify); that first code is kept.
      return makeCodes(req.sessions);
    case 'makeCodes':
      return makeCodes(req.n);
    case 'run':
      return run(req.job, req.seconds, req.concurrency);
  }
}

parentPort!.on('message', (msg: { id: number; req: LoadRequest }) => {
  handle(msg.req).then(
    (result) => parentPort!.postMessage({ id: msg.id, ok: true, result } satisfies LoadReply),
    (err: unknown) => parentPort!.postMessage({ id: msg.id, ok: false, error: err instanceof Error ? err.stack ?? err.message : String(err) } satisfies LoadReply),
  );
});
