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
 * The contact a change is proven with: the one the holder keeps, which gets a code too. The card number and password
 * alone must never move the addresses that codes to reset the password or reissue the card go to (whoever stole them
 * could then take the account over), so both cannot change at once, and an account without the other contact asks
 * the operator, who checks the person another way.
 */
export function proofChannelFor(account: Pick<Account, 'email' | 'mobile'>, change: NewContacts): 'email' | 'sms' {
  if (change.email !== undefined && change.mobile !== undefined) {
    throw new ValidationError(
      'Change one contact at a time: the change is confirmed with a code sent to the one you keep.',
      { mobile: 'Change the mobile number once the new email address is confirmed, or the other way round.' },
      { mobile: 'one_at_a_time' },
    );
  }
  const channel = change.email !== undefined ? 'sms' : 'email';
  if (!(channel === 'sms' ? account.mobile : account.email)) {
    const field = change.email !== undefined ? 'email' : 'mobile';
    throw new ValidationError(
      'Your card has no other contact to confirm this change with. Ask cybercard to change it.',
      { [field]: 'Ask cybercard to change it: your card has no other contact to confirm the change with.' },
      { [field]: 'no_proof_contact' },
    );
  }
  return channel;
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
  refuseDuplicates(found, { email: change.email !== undefined, mobile: change.mobile !== undefined }, 'Some fields need attention.');
}

/**
 * Refuses (ValidationError on each field, code duplicate_email / duplicate_mobile) the contacts `given` that
 * findContactDuplicates `found` on another holder's open card.
 */
export function refuseDuplicates(
  found: { emailInUse: boolean; mobileInUse: boolean },
  given: { email: boolean; mobile: boolean },
  message: string,
): void {
  const fields: Record<string, string> = {};
  const codes: Record<string, string> = {};
  if (given.email && found.emailInUse) [fields.email, codes.email] = [EMAIL_IN_USE, 'duplicate_email'];
  if (given.mobile && found.mobileInUse) [fields.mobile, codes.mobile] = [MOBILE_IN_USE, 'duplicate_mobile'];
  if (Object.keys(fields).length) throw new ValidationError(message, fields, codes);
}
