import { Worker } from 'node:worker_threads';
import type { SiteInfo } from './flow.ts';
import { threadCpuMeter, type Sample } from './harness.ts';
import type { LoadJob, LoadReply, LoadRequest } from './load-worker.ts';

/**
 * The load generator in a worker thread of this process: the server keeps its event loop to
 * itself, and CPU the load generator spends is told apart from the server's (harness CpuSpent).
 * Both still share this machine's cores with each other and with PostgreSQL.
 */
export class LoadGenerator {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();

  private constructor(private readonly worker: Worker) {
    worker.on('message', (reply: LoadReply) => {
      const p = this.pending.get(reply.id);
      this.pending.delete(reply.id);
      if (reply.ok) p?.resolve(reply.result);
      else p?.reject(new Error(`load generator: ${reply.error}`));
    });
    worker.on('error', (err) => {
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
    });
  }

  static start(): LoadGenerator {
    // Workers inherit this process's execArgv, so tsx loads the .ts worker as it loaded us.
    return new LoadGenerator(new Worker(new URL('./load-worker.ts', import.meta.url)));
  }

  private request<T>(req: LoadRequest): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.worker.postMessage({ id, req });
    });
  }

  /** Points it at a member site; `sessions` browsers log in once (one argon2 verify each). */
  connect(site: SiteInfo, sessions: number): Promise<number> {
    return this.request({ type: 'connect', site, sessions });
  }

  /** Replaces the code pool with `n` fresh codes, made through consent by the logged-in browsers. */
  makeCodes(n: number): Promise<number> {
    return this.request({ type: 'makeCodes', n });
  }

  /** Runs a job in the worker; the sample also says what this (the server's) thread spent meanwhile. */
  async run(job: LoadJob, seconds: number, concurrency: number): Promise<Sample> {
    const mainCpu = threadCpuMeter();
    const sample = await this.request<Sample>({ type: 'run', job, seconds, concurrency });
    sample.cpu.main = mainCpu();
    return sample;
  }

  async stop(): Promise<void> {
    await this.worker.terminate();
  }
}
