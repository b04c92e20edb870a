import { insertAccount } from '../db/cards.ts';
import { inTransaction } from '../db/tx.ts';
import { newId } from '../lib/ids.ts';
import { ValidationError } from '../errors.ts';
import type { CardDeps } from './deps.ts';
import { issueCard } from './issue-card.ts';
import { generatePassword } from './password.ts';
import { transition } from './transition.ts';

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

/** Creates a holder account with one active card (operator issuance); the number and password are returned once. */
export async function createCard(deps: CardDeps, holder: NewHolder, actor = 'operator'): Promise<IssuedCard> {
  if (!holder.legalName.trim()) throw new ValidationError('A name is required', { legalName: 'Required' });
  if (!/^\d{4}-\d{2}-\d{2}$/.test(holder.birthdate) || Number.isNaN(Date.parse(holder.birthdate))) {
    throw new ValidationError('Date of birth must be YYYY-MM-DD', { birthdate: 'Use YYYY-MM-DD' });
  }
  const password = holder.password ?? generatePassword();
  const passwordHash = await deps.hasher.hash(password);
  const accountId = newId();
  return inTransaction(deps.db, async (trx) => {
    await insertAccount(trx, {
      id: accountId,
      legalName: holder.legalName.trim(),
      birthdate: holder.birthdate,
      email: holder.email ?? null,
      mobile: holder.mobile ?? null,
      guardianAccountId: null,
      creditLimit: holder.creditLimit ?? 0,
      currency: deps.currency,
      statementDay: 1,
    });
    const card = await issueCard(trx, deps, { accountId, password, passwordHash, actor });
    await transition(trx, { cardId: card.cardId, to: 'active', actor, reason: 'issued by the operator' });
    return { accountId, cardId: card.cardId, cardNumber: card.cardNumber, password };
  });
}
