import { findContactDuplicates } from '../db/applications.ts';
import { findAccount, type Account } from '../db/cards.ts';
import type { Conn } from '../db/knex.ts';
import { ValidationError } from '../errors.ts';
import { checkEmail } from './email-address.ts';
import { checkMobile } from './mobile-number.ts';
import { familyOf } from './screen-application.ts';

/** A change of contacts as typed: either or both. */
export interface ContactsInput {
  email?: string | undefined;
  mobile?: string | undefined;
}

/** The contacts that change, normalised (lower-case email, E.164 mobile): at least one. */
export interface NewContacts {
  email?: string;
  mobile?: string;
}

export const EMAIL_IN_USE = 'Another cyber card holder has this email address. Use one of your own.';
export const MOBILE_IN_USE = 'Another cyber card holder has this mobile number. Use one of your own.';

/**
 * The well-formed new contacts of the account, or ValidationError naming each bad field: not an address, the one the
 * account has already, or neither given. Empty fields are not given (no contact is removed).
 */
export function readNewContacts(account: Pick<Account, 'email' | 'mobile'>, raw: ContactsInput, callingCode: string): NewContacts {
  const fields: Record<string, string> = {};
  const codes: Record<string, string> = {};
  const out: NewContacts = {};
  if (raw.email !== undefined && raw.email.trim() !== '') {
    const c = checkEmail(raw.email);
    if (!c.ok) [fields.email, codes.email] = [c.error, c.code];
    else if (c.value === account.email?.toLowerCase()) [fields.email, codes.email] = ['This is already your email address.', 'unchanged'];
    else out.email = c.value;
  }
  if (raw.mobile !== undefined && raw.mobile.trim() !== '') {
    const c = checkMobile(raw.mobile, callingCode);
    if (!c.ok) [fields.mobile, codes.mobile] = [c.error, c.code];
    else if (c.value === account.mobile) [fields.mobile, codes.mobile] = ['This is already your mobile number.', 'unchanged'];
    else out.mobile = c.value;
  }
  if (Object.keys(fields).length) throw new ValidationError('Some fields need attention.', fields, codes);
  if (out.email === undefined && out.mobile === undefined) {
    throw new ValidationError('Enter a new email address, a new mobile number, or both.', { email: 'Enter a new email address or mobile number.' }, { email: 'required' });
  }
  return out;
}

/**
 * Refuses (ValidationError on the field) a new email or mobile another holder with an open card has, by the
 * application's rules: a minor may take the guardian's contacts, which siblings share too (db/applications.ts
 * Family). Run it under contactLocks for an answer that holds until commit.
 */
export async function refuseContactsInUse(conn: Conn, account: Account, change: NewContacts): Promise<void> {
  const email = change.email ?? account.email ?? '';
  const mobile = change.mobile ?? account.mobile ?? '';
  const guardian = account.guardianAccountId ? await findAccount(conn, account.guardianAccountId) : undefined;
  const family = guardian ? familyOf(guardian, { legalName: account.legalName, birthdate: account.birthdate, email, mobile }) : undefined;
  const found = await findContactDuplicates(conn, { accountId: account.id, email, mobile, family });
  const fields: Record<string, string> = {};
  const codes: Record<string, string> = {};
  if (change.email !== undefined && found.emailInUse) [fields.email, codes.email] = [EMAIL_IN_USE, 'duplicate_email'];
  if (change.mobile !== undefined && found.mobileInUse) [fields.mobile, codes.mobile] = [MOBILE_IN_USE, 'duplicate_mobile'];
  if (Object.keys(fields).length) throw new ValidationError('Some fields need attention.', fields, codes);
}
