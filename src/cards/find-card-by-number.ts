import { findCardByNumberHmac, type Card } from '../db/cards.ts';
import type { Conn } from '../db/knex.ts';
import { cardNumberHmac, normalizeCardNumber } from './card-number.ts';

/** The card with this number (typed with or without spaces), whatever its status. */
export async function findCardByNumber(conn: Conn, cardHmacKey: Buffer, cardNumber: string): Promise<Card | undefined> {
  const digits = normalizeCardNumber(cardNumber);
  return digits ? findCardByNumberHmac(conn, cardNumberHmac(cardHmacKey, digits)) : undefined;
}
