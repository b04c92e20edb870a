import { setTimeout as sleep } from 'node:timers/promises';
import type { Directory } from '../../src/db/directory.ts';

/** Waits (up to `ms`) until `ready()` holds; fails with `what` otherwise. */
export async function until(ready: () => boolean | Promise<boolean>, what: string, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await ready())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await sleep(5);
  }
}

/**
 * Makes `change` to member sites or resource servers straight in the database (as another instance, the
 * CLI or an operator's SQL would) and waits until `directory` has heard of it, as every instance does
 * within milliseconds: the next request then sees it.
 */
export async function announced<T>(directory: Directory, change: () => Promise<T>): Promise<T> {
  const before = directory.heard;
  const result = await change();
  await until(() => directory.heard > before, 'the directory heard of the change');
  return result;
}
