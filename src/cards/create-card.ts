import { lockValues } from '../db/advisory-lock.ts';
import { findContactDuplicates } from '../db/applications.ts';
import { insertAccount } from '../db/cards.ts';
import { inTransaction } from '../db/tx.ts';
import { DEFAULT_LOCALE } from '../lib/i18n.ts';
import { newId } from '../lib/ids.ts';
import { ValidationError } from '../errors.ts';
import { ageIn } from '../lib/clock.ts';
import { checkBirthdate } from './birthdate.ts';
import type { Checked } from './checked.ts';
import { checkEmail } from './email-address.ts';
import { checkLegalName } from './legal-name.ts';
import { checkMobile } from './mobile-number.ts';
import type { CardDeps } from './deps.ts';
import { issueCard } from './issue-card.ts';
import { generatePassword } from './password.ts';
import { transition } from './transition.ts';
import { contactLocks } from './application-locks.ts';
import { refuseDuplicates } from './new-contacts.ts';

export interface NewHolder {
  legalName: string;
  birthdate: string;
  email?: string | null;
  mobile?: string | null;
  password?: string;
  creditLimit?: number;
}

export interface IssuedCard {
  accountId: string;
  cardId: string;
  /** The full number: returned once, never stored. */
  cardNumber: string;
  /** The password: returned once, never stored. */
  password: string;
}

export interface OperatorIssuanceRules {
  mobileCallingCode: string;
  adultAge: number;
  /** The adult credit limit assigned at issuance (config cards.creditLimit.adult). */
  creditLimit: number;
  /** The zone whose calendar the age is counted in (billing.timeZone), as for an application. */
  timeZone: string;
  now?: Date;
}

/**
 * The operator's issuance (the CLI's cards create), held to the online application's field checks: a real date of
 * birth, an adult (a minor applies online, with a guardian's card), a well-formed email and mobile number (stored
 * as the online path stores them), and the adult credit limit of config. Throws ValidationError naming each bad field.
 */
export function operatorHolder(raw: { name: string; birthdate: string; email?: string | undefined; mobile?: string | undefined }, rules: OperatorIssuanceRules): NewHolder {
  const now = rules.now ?? new Date();
  const fields: Record<string, string> = {};
  const take = (field: string, c: Checked): string | undefined => {
    if (c.ok) return c.value;
    fields[field] = c.error;
    return undefined;
  };
  const legalName = take('name', checkLegalName(raw.name));
  const birthdate = take('birthdate', checkBirthdate(raw.birthdate, rules.timeZone, now));
  if (birthdate && ageIn(birthdate, rules.timeZone, now) < rules.adultAge) {
    fields.birthdate = `Under ${rules.adultAge}: a minor applies online (/apply) with a guardian's card; the operator issues cards to adults.`;
  }
  const email = raw.email === undefined ? null : take('email', checkEmail(raw.email));
  const mobile = raw.mobile === undefined ? null : take('mobile', checkMobile(raw.mobile, rules.mobileCallingCode));
  if (Object.keys(fields).length) throw new ValidationError('The holder cannot be issued a card as given.', fields);
  return { legalName: legalName!, birthdate: birthdate!, email: email ?? null, mobile: mobile ?? null, creditLimit: rules.creditLimit };
}

/**
 * Creates a holder account with one active card (operator issuance); the number and password are returned once. An
 * email or mobile another holder with an open card has is refused, as for an application and a contact correction:
 * codes and notices for two accounts would go to one address.
 */
export async function createCard(deps: CardDeps, holder: NewHolder, actor = 'operator'): Promise<IssuedCard> {
  if (!holder.legalName.trim()) throw new ValidationError('A name is required', { legalName: 'Required' });
  if (!/^\d{4}-\d{2}-\d{2}$/.test(holder.birthdate) || Number.isNaN(Date.parse(holder.birthdate))) {
    throw new ValidationError('Date of birth must be YYYY-MM-DD', { birthdate: 'Use YYYY-MM-DD' });
  }
  const password = holder.password ?? generatePassword();
  const passwordHash = await deps.hasher.hash(password);
  const accountId = newId();
  return inTransaction(deps.db, async (trx) => {
    if (holder.email || holder.mobile) {
      await lockValues(trx, contactLocks(holder));
      const found = await findContactDuplicates(trx, { accountId, email: holder.email ?? '', mobile: holder.mobile ?? '' });
      refuseDuplicates(found, { email: Boolean(holder.email), mobile: Boolean(holder.mobile) }, 'The holder cannot be issued a card as given.');
    }
    await insertAccount(trx, {
      id: accountId,
      legalName: holder.legalName.trim(),
      birthdate: holder.birthdate,
      email: holder.email ?? null,
      mobile: holder.mobile ?? null,
      guardianAccountId: null,
      // The operator issues in the deployment's language; the holder can choose another on their pages.
      locale: DEFAULT_LOCALE,
      creditLimit: holder.creditLimit ?? 0,
      currency: deps.currency,
      statementDay: 1,
    });
    const card = await issueCard(trx, deps, { accountId, password, passwordHash, actor });
    await transition(trx, { cardId: card.cardId, to: 'active', actor, reason: 'issued by the operator' });
    return { accountId, cardId: card.cardId, cardNumber: card.cardNumber, password };
  });
}
