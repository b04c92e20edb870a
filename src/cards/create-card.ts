import { appendAudit } from '../db/audit-log.ts';
import { cardNumberTaken, insertAccount, insertCard } from '../db/cards.ts';
import { inTransaction } from '../db/tx.ts';
import { newId } from '../lib/ids.ts';
import { ValidationError } from '../errors.ts';
import { cardNumberHmac, generateCardNumber } from './card-number.ts';
import type { CardDeps } from './deps.ts';
import { generatePassword } from './password.ts';

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

const MAX_NUMBER_ATTEMPTS = 5;

/** Creates a holder account with one active card; the number and password are returned once. */
export async function createCard(deps: CardDeps, holder: NewHolder, actor = 'operator'): Promise<IssuedCard> {
  if (!holder.legalName.trim()) throw new ValidationError('A name is required', { legalName: 'Required' });
  if (!/^\d{4}-\d{2}-\d{2}$/.test(holder.birthdate) || Number.isNaN(Date.parse(holder.birthdate))) {
    throw new ValidationError('Date of birth must be YYYY-MM-DD', { birthdate: 'Use YYYY-MM-DD' });
  }
  const password = holder.password ?? generatePassword();
  const passwordHash = await deps.hasher.hash(password);
  const accountId = newId();
  const cardId = newId();

  for (let attempt = 1; ; attempt++) {
    const cardNumber = generateCardNumber(deps.issuerPrefix);
    const numberHmac = cardNumberHmac(deps.cardHmacKey, cardNumber);
    try {
      await inTransaction(deps.db, async (trx) => {
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
        await insertCard(trx, {
          id: cardId,
          accountId,
          numberHmac,
          last4: cardNumber.slice(-4),
          passwordHash,
          status: 'active',
        });
        await appendAudit(trx, {
          actor,
          action: 'card.issued',
          subjectType: 'card',
          subjectId: cardId,
          details: { accountId, last4: cardNumber.slice(-4) },
        });
      });
      return { accountId, cardId, cardNumber, password };
    } catch (err) {
      // A number collision surfaces as the unique index on number_hmac: draw again.
      if (attempt < MAX_NUMBER_ATTEMPTS && (await cardNumberTaken(deps.db, numberHmac))) continue;
      throw err;
    }
  }
}
