import { lockValues } from '../db/advisory-lock.ts';
import { findAccount, findCard, lockAccount, type Account } from '../db/cards.ts';
import { retireContactChanges } from '../db/contact-changes.ts';
import type { Db } from '../db/knex.ts';
import { inTransaction } from '../db/tx.ts';
import { NotFoundError } from '../errors.ts';
import { contactLocks } from './application-locks.ts';
import { readNewContacts, refuseContactsInUse, type ContactsInput } from './new-contacts.ts';
import { signOutEverywhere } from './revoke-holder-tokens.ts';
import { writeContacts } from './write-contacts.ts';
import { noSuchCard } from './no-such-card.ts';

export interface ContactsCorrection extends ContactsInput {
  cardId: string;
  /** Why: kept in the audit entry. */
  reason: string;
  actor: string;
  requestId?: string | undefined;
}

/**
 * The operator sets the email and/or mobile of the card's holder account, having verified the person out of band
 * (no codes): the holder's own rules otherwise (well-formed, not the current value, not another holder's with an
 * open card, the family exception for a minor). The audit entry carries the reason; the old contacts are told and the
 * new ones confirmed (writeContacts). A change the holder had pending is retired: its values may no longer be right.
 * The holder is signed out everywhere, as by a new password: the correction is how someone who lost a phone or a
 * mailbox gets back in.
 */
export async function correctContacts(deps: { db: Db; mobileCallingCode: string }, c: ContactsCorrection): Promise<Account> {
  const card = await findCard(deps.db, c.cardId);
  if (!card) throw noSuchCard();
  const account = await findAccount(deps.db, card.accountId);
  if (!account) throw new NotFoundError('There is no such account.');
  const change = readNewContacts(account, c, deps.mobileCallingCode);
  return inTransaction(deps.db, async (trx) => {
    await lockValues(trx, contactLocks(change));
    const current = await lockAccount(trx, account.id);
    if (!current) throw new NotFoundError('There is no such account.');
    await refuseContactsInUse(trx, current, change);
    await retireContactChanges(trx, current.id);
    const written = await writeContacts(trx, { account: current, change, card, by: 'operator', actor: c.actor, reason: c.reason, requestId: c.requestId });
    // A recovery: whoever has the old mailbox or phone may hold a signed-in browser too.
    await signOutEverywhere(trx, { accountId: current.id, actor: c.actor, reason: 'contacts corrected by the operator', requestId: c.requestId });
    return written;
  });
}
