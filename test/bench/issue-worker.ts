/**
 * The applicants' thread for issue.bench.ts: each op is one POST /api/applications with a fresh
 * email and mobile, over real HTTP, so the applicants' CPU is counted apart from the server's.
 * Not a module to import: issue.bench.ts starts it as a worker and talks to it with the messages below.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { runFor, type Sample } from './harness.ts';

export interface IssueRun {
  url: string;
  seconds: number;
  concurrency: number;
}

export type IssueReply = { ok: true; sample: Sample } | { ok: false; error: string };

/** Distinct applicants: workerData.offset keeps two runs of one database apart. */
let next = Number(workerData?.offset ?? 0);

/** A given name of letters only for applicant `n`: each is a person of their own (one name and birthdate twice goes to review). */
function givenName(n: number): string {
  let s = '';
  do {
    s += String.fromCharCode(97 + (n % 26));
    n = Math.floor(n / 26);
  } while (n > 0);
  return `B${s}`;
}

async function applyOnce(url: string): Promise<void> {
  const n = next++;
  const digits = String(n).padStart(7, '0');
  const password = 'Violet harbor lamps';
  const res = await fetch(`${url}/api/applications`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      legal_name: `Bench ${givenName(n)}`,
      birthdate: '1985-03-04',
      email: `bench-${n}@example.com`,
      mobile: `010-5${digits.slice(0, 3)}-${digits.slice(3)}`,
      password,
      password_confirm: password,
      accept_terms: true,
    }),
  });
  const body = (await res.json()) as { card_number?: string; error?: string };
  if (res.status !== 201 || typeof body.card_number !== 'string') throw new Error(`application answered ${res.status} ${body.error ?? ''}`);
}

parentPort!.on('message', (run: IssueRun) => {
  runFor(run.seconds, run.concurrency, () => applyOnce(run.url)).then(
    (sample) => parentPort!.postMessage({ ok: true, sample } satisfies IssueReply),
    (err: unknown) => parentPort!.postMessage({ ok: false, error: err instanceof Error ? (err.stack ?? err.message) : String(err) } satisfies IssueReply),
  );
});
