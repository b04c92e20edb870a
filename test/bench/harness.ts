import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { isMainThread } from 'node:worker_threads';

/**
 * Shared pieces of the benchmarks: settings from the environment, a timed load loop, CPU
 * accounting from /proc and the Node process, and the figure format that run.ts collects.
 */

function numberEnv(name: string, fallback: number, min: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < min) throw new Error(`${name} must be a number ≥ ${min}, got "${raw}"`);
  return n;
}

/** Seconds of timed load per measurement (a figure and its baseline each get this much). */
export const BENCH_SECONDS = numberEnv('BENCH_SECONDS', 5, 0.5);
/**
 * Each measurement is split into this many slices, alternating baseline and figure, so a busy
 * patch on this shared machine lands on both sides rather than one.
 */
export const BENCH_ROUNDS = Math.floor(numberEnv('BENCH_ROUNDS', 4, 1));
/** Cores the "per core" figures divide by: server, PostgreSQL and load generator all share them. */
export const CORES = availableParallelism();

export const sliceSeconds = (): number => BENCH_SECONDS / BENCH_ROUNDS;

// ---------------------------------------------------------------- CPU accounting

const CLK_TCK = 100; // USER_HZ: /proc reports CPU time in these ticks.

interface CpuSnapshot {
  at: number;
  machine: { busy: number; steal: number }; // ticks, all CPUs
  process: number; // µs, every thread of this Node process
  thread: number; // µs, the thread taking the snapshot
  isMain: boolean;
  postgres: Map<string, number>; // ticks per process named postgres
}

function machineTicks(): { busy: number; steal: number } {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!;
    // user nice system idle iowait irq softirq steal (guest time is already inside user)
    const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = line.trim().split(/\s+/).slice(1).map(Number);
    return { busy: user + nice + system + irq + softirq, steal };
  } catch {
    return { busy: Number.NaN, steal: Number.NaN };
  }
}

function postgresTicks(): Map<string, number> {
  const ticks = new Map<string, number>();
  let pids: string[] = [];
  try {
    pids = readdirSync('/proc').filter((p) => /^\d+$/.test(p));
  } catch {
    return ticks; // no /proc
  }
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const close = stat.lastIndexOf(')');
      if (stat.slice(stat.indexOf('(') + 1, close) !== 'postgres') continue;
      const f = stat.slice(close + 2).split(' ');
      ticks.set(pid, Number(f[11]) + Number(f[12])); // utime, stime (fields 14 and 15)
    } catch {
      // the process ended between readdir and read
    }
  }
  return ticks;
}

const micros = (u: NodeJS.CpuUsage): number => u.user + u.system;

function cpuSnapshot(): CpuSnapshot {
  return {
    at: performance.now(),
    machine: machineTicks(),
    process: micros(process.cpuUsage()),
    thread: micros(process.threadCpuUsage()),
    isMain: isMainThread,
    postgres: postgresTicks(),
  };
}

/**
 * Core-seconds spent while a slice ran. `loop` is the thread that ran the timed loop (the load
 * generator for HTTP benchmarks); `node` is the whole process, so `node − loop` is the server
 * (its event loop, the argon2 thread pool, GC helpers) when the loop runs in a worker thread.
 * `main` is the main thread alone, the server's event loop (NaN until someone on it measures it).
 */
export interface CpuSpent {
  wallSeconds: number;
  machine: number;
  steal: number;
  node: number;
  loop: number;
  main: number;
  postgres: number;
}

/** Starts measuring this thread's CPU; the function returns core-seconds since. */
export function threadCpuMeter(): () => number {
  const start = micros(process.threadCpuUsage());
  return () => (micros(process.threadCpuUsage()) - start) / 1e6;
}

function cpuSince(start: CpuSnapshot): CpuSpent {
  const end = cpuSnapshot();
  let pgTicks = 0;
  // Per process, so a backend that exits does not take its whole lifetime with it.
  for (const [pid, t] of end.postgres) pgTicks += t - (start.postgres.get(pid) ?? 0);
  return {
    wallSeconds: (end.at - start.at) / 1000,
    machine: (end.machine.busy - start.machine.busy) / CLK_TCK,
    steal: (end.machine.steal - start.machine.steal) / CLK_TCK,
    node: (end.process - start.process) / 1e6,
    loop: (end.thread - start.thread) / 1e6,
    main: start.isMain ? (end.thread - start.thread) / 1e6 : Number.NaN,
    postgres: pgTicks / CLK_TCK,
  };
}

// ---------------------------------------------------------------- load loop

export interface Sample {
  ops: number;
  errors: number;
  seconds: number;
  latenciesMs: number[];
  firstError?: string;
  /** True when the op ran out of work (returned false) before the time was up. */
  exhausted: boolean;
  cpu: CpuSpent;
}

/**
 * Keeps `concurrency` calls of `op` in flight for `seconds`, then waits for the ones still running.
 * The rate is completed ops over the whole elapsed time, tail included. `op` returns false when it
 * has no more work (a pool of pre-made codes ran dry); a throw counts as an error, not an op.
 */
export async function runFor(
  seconds: number,
  concurrency: number,
  op: (lane: number) => Promise<boolean | void>,
): Promise<Sample> {
  const latenciesMs: number[] = [];
  let errors = 0;
  let firstError: string | undefined;
  let exhausted = false;
  const cpu0 = cpuSnapshot();
  const t0 = performance.now();
  const deadline = t0 + seconds * 1000;
  async function lane(n: number): Promise<void> {
    while (performance.now() < deadline && !exhausted) {
      const s = performance.now();
      try {
        if ((await op(n)) === false) {
          exhausted = true;
          return;
        }
        latenciesMs.push(performance.now() - s);
      } catch (err) {
        errors++;
        firstError ??= err instanceof Error ? err.message : String(err);
        if (errors > 20 && errors > latenciesMs.length) throw new Error(`mostly failing: ${firstError}`);
      }
    }
  }
  await Promise.all(Array.from({ length: concurrency }, (_, n) => lane(n)));
  const elapsed = (performance.now() - t0) / 1000;
  const sample: Sample = { ops: latenciesMs.length, errors, seconds: elapsed, latenciesMs, exhausted, cpu: cpuSince(cpu0) };
  if (firstError) sample.firstError = firstError;
  return sample;
}

export function round(n: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

/** One side of a measurement, added up over its slices. */
/**
 * Open loop: starts `op` every 1/`ratePerSecond` seconds for `seconds`, however many are still running,
 * then waits for them. Each latency runs from the op's scheduled start, so a stall delays every op
 * behind it (no coordinated omission). The load a server sees at a steady arrival rate, for tail latency.
 */
export async function runAtRate(seconds: number, ratePerSecond: number, op: () => Promise<unknown>): Promise<Sample> {
  const latenciesMs: number[] = [];
  let errors = 0;
  let firstError: string | undefined;
  const cpu0 = cpuSnapshot();
  const t0 = performance.now();
  const n = Math.max(1, Math.round(seconds * ratePerSecond));
  const running: Promise<void>[] = [];
  for (let i = 0; i < n; i++) {
    const due = t0 + (i * 1000) / ratePerSecond;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    running.push(
      op().then(
        () => void latenciesMs.push(performance.now() - due),
        (err: unknown) => {
          errors++;
          firstError ??= err instanceof Error ? err.message : String(err);
        },
      ),
    );
  }
  await Promise.all(running);
  const sample: Sample = { ops: latenciesMs.length, errors, seconds: (performance.now() - t0) / 1000, latenciesMs, exhausted: false, cpu: cpuSince(cpu0) };
  if (firstError) sample.firstError = firstError;
  return sample;
}

export interface Side {
  label: string;
  concurrency: number;
  perSecond: number;
  /** perSecond / CORES: the whole machine's cores, shared with PostgreSQL and the load generator. */
  perCore: number;
  /**
   * Ops per core-second the Node process spent outside the loop thread: with the load generator in
   * a worker, that is the server's own CPU (event loop, argon2 pool, GC), noise and PostgreSQL aside.
   */
  perServerCoreSecond: number;
  ops: number;
  errors: number;
  firstError?: string;
  seconds: number;
  latencyMs: { p50: number; p95: number; p99: number };
  /** Average cores busy: machine (without steal), stolen, this process, its loop thread, PostgreSQL. */
  cpuCores: { machine: number; steal: number; node: number; loop: number; postgres: number };
  /**
   * CPU per op in ms: the Node process outside the loop thread (`server`), of which the main
   * thread (`serverMain`, the server's event loop, when the loop runs in a worker); the loop
   * thread; PostgreSQL.
   */
  cpuMsPerOp: { server: number; serverMain: number; loop: number; postgres: number };
  exhaustedSlices: number;
}

/** Adds up the slices of one side of a measurement. */
export class Tally {
  private ops = 0;
  private errors = 0;
  private seconds = 0;
  private exhaustedSlices = 0;
  private firstError: string | undefined;
  private readonly latenciesMs: number[] = [];
  private readonly cpu: CpuSpent = { wallSeconds: 0, machine: 0, steal: 0, node: 0, loop: 0, main: 0, postgres: 0 };

  add(s: Sample): Sample {
    this.ops += s.ops;
    this.errors += s.errors;
    this.seconds += s.seconds;
    if (s.exhausted) this.exhaustedSlices++;
    this.firstError ??= s.firstError;
    for (const l of s.latenciesMs) this.latenciesMs.push(l);
    for (const k of Object.keys(this.cpu) as (keyof CpuSpent)[]) this.cpu[k] += s.cpu[k];
    return s;
  }

  get rate(): number {
    return this.seconds > 0 ? this.ops / this.seconds : 0;
  }

  side(label: string, concurrency: number): Side {
    const sorted = [...this.latenciesMs].sort((a, b) => a - b);
    const pct = (p: number) => round(sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? Number.NaN, 3);
    const c = this.cpu;
    const w = c.wallSeconds || 1;
    const perOp = (coreSeconds: number) => (this.ops ? round((coreSeconds * 1000) / this.ops, 3) : Number.NaN);
    const side: Side = {
      label,
      concurrency,
      perSecond: round(this.rate, 1),
      perCore: round(this.rate / CORES, 1),
      perServerCoreSecond: c.node - c.loop > 0 ? round(this.ops / (c.node - c.loop), 1) : Number.NaN,
      ops: this.ops,
      errors: this.errors,
      seconds: round(this.seconds, 2),
      latencyMs: { p50: pct(0.5), p95: pct(0.95), p99: pct(0.99) },
      cpuCores: {
        machine: round(c.machine / w, 2),
        steal: round(c.steal / w, 2),
        node: round(c.node / w, 2),
        loop: round(c.loop / w, 2),
        postgres: round(c.postgres / w, 2),
      },
      cpuMsPerOp: {
        server: perOp(c.node - c.loop),
        serverMain: c.main === c.loop ? Number.NaN : perOp(c.main),
        loop: perOp(c.loop),
        postgres: perOp(c.postgres),
      },
      exhaustedSlices: this.exhaustedSlices,
    };
    if (this.firstError) side.firstError = this.firstError;
    return side;
  }
}

// ---------------------------------------------------------------- figures

export interface Figure {
  id: string;
  title: string;
  unit: string;
  measured: Side;
  baseline: Side;
  /** measured.perSecond / baseline.perSecond */
  ratio: number;
  /** The same ratio per core-second of server CPU (load generator excluded), where that means something. */
  serverCpuRatio: number | null;
  /** met: null for a figure reported beside the others without a target of its own. */
  target: { text: string; met: boolean | null };
  notes: string[];
}

/** A figure from its two sides; the target is either a ratio to the baseline or a per-core rate. */
export function figure(opts: {
  id: string;
  title: string;
  unit: string;
  measured: Side;
  baseline: Side;
  /** A rate against the baseline's or per core, or the measured p99 against a multiple of the baseline's p50. */
  target: { ratio: number } | { perCore: number } | { p99TimesBaselineP50: number } | null;
  /** False when the loop thread does the work itself (in-process benchmarks). */
  serverCpu: boolean;
  notes?: string[];
}): Figure {
  const { measured, baseline } = opts;
  const ratio = baseline.perSecond > 0 ? measured.perSecond / baseline.perSecond : Number.NaN;
  const t = opts.target;
  const target: Figure['target'] = !t
    ? { text: '— (no target)', met: null }
    : 'ratio' in t
      ? { text: `≥ ${t.ratio}× baseline`, met: ratio >= t.ratio }
      : 'perCore' in t
        ? { text: `≥ ${t.perCore.toLocaleString('en-US')}/s per core`, met: measured.perCore >= t.perCore }
        : {
            text: `p99 ${fmt(measured.latencyMs.p99)} ms ≤ ${t.p99TimesBaselineP50}× ${fmt(baseline.latencyMs.p50)} ms`,
            met: measured.latencyMs.p99 <= t.p99TimesBaselineP50 * baseline.latencyMs.p50,
          };
  const notes = [...(opts.notes ?? [])];
  for (const s of [measured, baseline]) {
    if (s.errors) notes.push(`${s.label}: ${s.errors} failed ops (first: ${s.firstError})`);
    if (s.exhaustedSlices) notes.push(`${s.label}: ran out of work in ${s.exhaustedSlices} slice(s); its rate is over the shorter time`);
  }
  return {
    id: opts.id,
    title: opts.title,
    unit: opts.unit,
    measured,
    baseline,
    ratio: round(ratio, 3),
    serverCpuRatio: opts.serverCpu ? round(measured.perServerCoreSecond / baseline.perServerCoreSecond, 3) : null,
    target,
    notes,
  };
}

function fmt(n: number): string {
  return fmtNumber(n);
}
const fmtNumber = (n: number): string => (Number.isNaN(n) ? '—' : n >= 100 ? Math.round(n).toLocaleString('en-US') : n.toFixed(1));

/** Plain-text table, columns padded to their widest cell. */
export function textTable(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n');
}

export function figuresTable(figures: Figure[]): string {
  const rows = [['figure', 'measured', 'baseline (same run)', 'ratio', 'target', 'result', 'per server core-s (ratio)']];
  for (const f of figures) {
    rows.push([
      `(${f.id}) ${f.title}`,
      `${fmt(f.measured.perSecond)} ${f.unit} = ${fmt(f.measured.perCore)}/core`,
      `${f.baseline.label}: ${fmt(f.baseline.perSecond)}/s = ${fmt(f.baseline.perCore)}/core`,
      `${f.ratio.toFixed(2)}×`,
      f.target.text,
      f.target.met === null ? '—' : f.target.met ? 'PASS' : 'MISS',
      f.serverCpuRatio === null
        ? '—'
        : `${fmt(f.measured.perServerCoreSecond)} vs ${fmt(f.baseline.perServerCoreSecond)} (${f.serverCpuRatio.toFixed(2)}×)`,
    ]);
  }
  return textTable(rows);
}

/** Per side: latency and where the CPU went, for reading a figure rather than only its verdict. */
export function detailsTable(figures: Figure[]): string {
  const rows = [
    ['fig', 'side', 'conc', 'ops', 'secs', 'p50 ms', 'p95 ms', 'p99 ms', `cores busy of ${CORES}: machine|node|loop thr|pg|other|steal`, 'CPU ms/op: server (main thr)|loop thr|pg'],
  ];
  for (const f of figures) {
    for (const [name, s] of [['measured', f.measured], ['baseline', f.baseline]] as const) {
      const c = s.cpuCores;
      const m = s.cpuMsPerOp;
      rows.push([
        `(${f.id})`,
        `${name}: ${s.label}`,
        String(s.concurrency),
        String(s.ops),
        s.seconds.toFixed(1),
        s.latencyMs.p50.toFixed(2),
        s.latencyMs.p95.toFixed(2),
        s.latencyMs.p99.toFixed(2),
        [c.machine, c.node, c.loop, c.postgres, Math.max(0, c.machine - c.node - c.postgres), c.steal].map((n) => n.toFixed(2)).join(' | '),
        `${m.server.toFixed(2)} (${m.serverMain == null || Number.isNaN(m.serverMain) ? '—' : m.serverMain.toFixed(2)}) | ${m.loop.toFixed(2)} | ${m.postgres.toFixed(2)}`,
      ]);
    }
  }
  return textTable(rows);
}

export function machineInfo(): Record<string, unknown> {
  return {
    cores: CORES,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    node: process.version,
    uvThreadpoolSize: Number(process.env.UV_THREADPOOL_SIZE ?? 4),
    loadAverage1m: round(loadavg()[0] ?? 0, 2),
    benchSeconds: BENCH_SECONDS,
    rounds: BENCH_ROUNDS,
    databaseTransport: benchDatabaseTransport(),
  };
}

/** PostgreSQL's Unix socket on Debian, where a same-host deployment connects. */
export const POSTGRES_SOCKET_DIR = '/var/run/postgresql';

/**
 * How the card manager under test reaches PostgreSQL: BENCH_DB_TRANSPORT (`unix` or `tcp`), else its Unix
 * socket when this host has one (as a deployment with PostgreSQL on the same host would), else TCP.
 * On these sandboxed machines every TCP loopback write costs the server's event loop about 0.1 ms, and a
 * payment flow makes some sixty statements, so the transport moves the end-to-end figures by a fifth.
 */
export function benchDatabaseTransport(): 'unix' | 'tcp' {
  const chosen = process.env.BENCH_DB_TRANSPORT;
  if (chosen === 'unix' || chosen === 'tcp') return chosen;
  if (chosen) throw new Error(`BENCH_DB_TRANSPORT must be unix or tcp, not ${chosen}`);
  return existsSync(path.join(POSTGRES_SOCKET_DIR, '.s.PGSQL.5432')) ? 'unix' : 'tcp';
}

/**
 * Prints a bench file's figures and, when run by run.ts (BENCH_RESULT_FILE set), hands them over
 * as JSON. Run on its own, a bench file just prints.
 */
export function emitFigures(figures: Figure[]): void {
  console.log(`\n${figuresTable(figures)}\n\n${detailsTable(figures)}`);
  for (const f of figures) for (const n of f.notes) console.log(`  (${f.id}) ${n}`);
  const file = process.env.BENCH_RESULT_FILE;
  if (file) writeFileSync(file, JSON.stringify(figures, null, 2));
}

/** A progress line with the time since the process started. */
export function progress(msg: string): void {
  console.log(`[${(performance.now() / 1000).toFixed(1).padStart(6)}s] ${msg}`);
}
