import { timingSafeEqual } from 'node:crypto';
import { lockValues } from '../db/advisory-lock.ts';
import { findCard, lockAccount, type Account } from '../db/cards.ts';
import { consumeContactChange, findOpenContactChange, lockContactChange, recordContactChangeAttempt } from '../db/contact-changes.ts';
import { inTransaction } from '../db/tx.ts';
import { ValidationError } from '../errors.ts';
import { contactLocks } from './application-locks.ts';
import { CODE_FIELDS, type ContactChangeDeps } from './contact-change.ts';
import { OPEN_OR_CLOSED } from './former-holder.ts';
import { refuseContactsInUse, type NewContacts } from './new-contacts.ts';
import { hashCode, InvalidCodeError, TooManyCodeAttemptsError } from './one-time-code.ts';
import { writeContacts } from './write-contacts.ts';

export interface ContactChangeConfirmation {
  accountId: string;
  cardId: string;
  emailCode?: string | undefined;
  mobileCode?: string | undefined;
  /** The code sent to the contact kept, proving the change. */
  currentCode?: string | undefined;
  requestId?: string | undefined;
}

/** `remaining`: the tries the change has left after wrong codes (one that was not live has none to count). */
type Outcome = { ok: true; account: Account } | { ok: false; error: 'invalid' | 'exhausted'; fields: string[]; remaining?: number };

const ALL_FIELDS = [CODE_FIELDS.email, CODE_FIELDS.mobile, CODE_FIELDS.current];

function sameCode(expected: Buffer | null, got: Buffer): boolean {
  return expected !== null && expected.length === got.length && timingSafeEqual(expected, got);
}

/**
 * Makes the account's pending change of contacts (requestContactChange) take effect, given the code sent to each
 * new address: in one transaction, the new email and/or mobile, the audit entry and the notices (writeContacts), and
 * the change spent. A wrong code is counted and committed before InvalidCodeError is thrown; after
 * config oneTimeCodes.maxAttempts wrong tries the change is dead (TooManyCodeAttemptsError). No pending change, or an
 * expired one, is InvalidCodeError too. A new contact another holder took meanwhile is a ValidationError, the
 * change left as it was.
 */
export async function confirmContactChange(deps: ContactChangeDeps, c: ContactChangeConfirmation): Promise<Account> {
  const pending = await findOpenContactChange(deps.db, c.accountId);
  const given = { [CODE_FIELDS.email]: c.emailCode, [CODE_FIELDS.mobile]: c.mobileCode, [CODE_FIELDS.current]: c.currentCode };
  if (!pending || pending.expired) throw new InvalidCodeError(ALL_FIELDS.filter((f) => given[f] !== undefined));
  const missing: Record<string, string> = {};
  if (pending.newEmail !== null && !c.emailCode) missing[CODE_FIELDS.email] = 'Enter the code we sent to your new email address.';
  if (pending.newMobile !== null && !c.mobileCode) missing[CODE_FIELDS.mobile] = 'Enter the code we sent to your new mobile number.';
  if (!c.currentCode) {
    missing[CODE_FIELDS.current] =
      pending.proofChannel === 'email' ? 'Enter the code we sent to your current email address.' : 'Enter the code we sent to your current mobile number.';
  }
  if (Object.keys(missing).length) throw new ValidationError('Some fields need attention.', missing);

  const outcome = await inTransaction(deps.db, async (trx): Promise<Outcome> => {
    await lockValues(trx, contactLocks({ email: pending.newEmail, mobile: pending.newMobile }));
    const account = await lockAccount(trx, c.accountId);
    const change = await lockContactChange(trx, pending.id);
    const asked = ALL_FIELDS.filter((f) => f === CODE_FIELDS.current || (f === CODE_FIELDS.email ? change?.newEmail : change?.newMobile) != null);
    // Only from the card it was asked with (a lost report or a reissue leaves it behind with that card), still as it
    // was: a change asked with an active card dies when it stops (cards/transition.ts retires it), and a former
    // holder's closed card asks its own.
    const card = await findCard(trx, c.cardId);
    if (!account || !change || change.consumedAt || change.expired || change.cardId !== c.cardId || !card || !OPEN_OR_CLOSED.includes(card.status)) {
      return { ok: false, error: 'invalid', fields: asked };
    }
    if (change.attempts >= deps.codes.maxAttempts) return { ok: false, error: 'exhausted', fields: asked };
    const wrong: string[] = [];
    if (change.newEmail !== null && !sameCode(change.emailCodeHash, hashCode(deps.cardHmacKey, `${change.id}:email`, c.emailCode ?? ''))) wrong.push(CODE_FIELDS.email);
    if (change.newMobile !== null && !sameCode(change.mobileCodeHash, hashCode(deps.cardHmacKey, `${change.id}:mobile`, c.mobileCode ?? ''))) wrong.push(CODE_FIELDS.mobile);
    if (!sameCode(change.proofCodeHash, hashCode(deps.cardHmacKey, `${change.id}:proof`, c.currentCode ?? ''))) wrong.push(CODE_FIELDS.current);
    if (wrong.length) {
      await recordContactChangeAttempt(trx, change.id);
      const remaining = deps.codes.maxAttempts - (change.attempts + 1);
      return remaining > 0 ? { ok: false, error: 'invalid', fields: wrong, remaining } : { ok: false, error: 'exhausted', fields: wrong };
    }
    const next: NewContacts = {};
    if (change.newEmail !== null) next.email = change.newEmail;
    if (change.newMobile !== null) next.mobile = change.newMobile;
    await refuseContactsInUse(trx, account, next);
    const changed = await writeContacts(trx, {
      account,
      change: next,
      card: { id: card.id, last4: card.last4 },
      by: 'holder',
      actor: `card:${c.cardId}`,
      requestId: c.requestId,
    });
    await consumeContactChange(trx, change.id);
    return { ok: true, account: changed };
  });
  if (outcome.ok) return outcome.account;
  throw outcome.error === 'exhausted' ? new TooManyCodeAttemptsError(outcome.fields) : new InvalidCodeError(outcome.fields, outcome.remaining);
}
