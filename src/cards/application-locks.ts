import { ipKey } from '../lib/ip-key.ts';
import { foldName } from './deny-list.ts';

/**
 * The advisory locks (db/advisory-lock.ts) an application's checks run under: its network (the daily count), its
 * email and mobile (duplicates), the person, by name (folded as the deny list folds it) and date of birth (the same
 * person with other contacts each time: one card at once, the rest to review), and a minor's guardian (the same child
 * twice). apply() and the operator's approval take the same ones, so neither decides on what the other is changing.
 */
export function applicationLocks(who: {
  ip: string;
  email: string;
  mobile: string;
  legalName?: string | undefined;
  birthdate?: string | undefined;
  guardianAccountId?: string | null | undefined;
}): string[] {
  const locks = [`application-ip:${ipKey(who.ip)}`, ...contactLocks(who)];
  if (who.legalName && who.birthdate) locks.push(`application-person:${who.birthdate}:${foldName(who.legalName)}`);
  if (who.guardianAccountId) locks.push(`application-guardian:${who.guardianAccountId}`);
  return locks;
}

/** The locks on an email and a mobile number: a change of a holder's contacts takes them too, so it and an application never both take one. */
export function contactLocks(who: { email?: string | null | undefined; mobile?: string | null | undefined }): string[] {
  const locks: string[] = [];
  if (who.email) locks.push(`application-email:${who.email}`);
  if (who.mobile) locks.push(`application-mobile:${who.mobile}`);
  return locks;
}
