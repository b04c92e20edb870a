import { setTimeout as sleep } from 'node:timers/promises';
import type { Directory } from '../../src/db/directory.ts';
import type { Db } from '../../src/db/knex.ts';

/** Waits (up to `ms`) until `ready()` holds; fails with `what` otherwise. */
export async function until(ready: () => boolean | Promise<boolean>, what: string, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await ready())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await sleep(5);
  }
}

/**
 * Makes `change` to the member site or resource server `key` (`site:<client_id>`, `rs:<identifier>`) straight in the database (as another instance, the
 * CLI or an operator's SQL would) and waits until `directory` has heard of it, as every instance does
 * within milliseconds: the next request then sees it.
 */
export async function announced<T>(directory: Directory, key: string, change: () => Promise<T>): Promise<T> {
  const before = directory.heardOf(key);
  const result = await change();
  await until(() => directory.heardOf(key) > before, `the directory heard of a change to ${key}`);
  return result;
}

/**
 * Waits until `directory` has heard of every change committed so far: PostgreSQL delivers notifications in commit
 * order, so once a marker sent now is heard, so are all before it (a site just registered, whose late notice
 * would otherwise make the directory forget it again after a request had kept it).
 */
export async function caughtUp(directory: Directory, db: Db): Promise<void> {
  const marker = `site:caught-up-${Date.now()}-${Math.random().toString(36).slice(2)}`;
  await announced(directory, marker, () => db.raw("SELECT pg_notify('cybercard_directory', ?)", [marker]));
}
