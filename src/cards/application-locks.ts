import { ipKey } from '../lib/ip-key.ts';

/**
 * The advisory locks (db/advisory-lock.ts) an application's checks run under: its network (the daily count), its
 * email and mobile (duplicates), and a minor's guardian (the same child twice, with other contacts each time).
 * apply() and the operator's approval take the same ones, so neither decides on what the other is changing.
 */
export function applicationLocks(who: { ip: string; email: string; mobile: string; guardianAccountId?: string | null | undefined }): string[] {
  const locks = [`application-ip:${ipKey(who.ip)}`, `application-email:${who.email}`, `application-mobile:${who.mobile}`];
  if (who.guardianAccountId) locks.push(`application-guardian:${who.guardianAccountId}`);
  return locks;
}
