import { cardNumberTaken } from '../db/cards.ts';
import type { Conn } from '../db/knex.ts';
import { cardNumberHmac, generateCardNumber } from './card-number.ts';

const MAX_DRAWS = 5;

/**
 * A fresh card number nobody holds yet, with its lookup HMAC. A clash is vanishingly rare; the unique
 * index on number_hmac stays the last word if another transaction takes the same number meanwhile.
 */
export async function drawCardNumber(
  conn: Conn,
  deps: { cardHmacKey: Buffer; issuerPrefix: string },
): Promise<{ cardNumber: string; numberHmac: Buffer }> {
  for (let draw = 1; draw <= MAX_DRAWS; draw++) {
    const cardNumber = generateCardNumber(deps.issuerPrefix);
    const numberHmac = cardNumberHmac(deps.cardHmacKey, cardNumber);
    if (!(await cardNumberTaken(conn, numberHmac))) return { cardNumber, numberHmac };
  }
  throw new Error(`no free card number after ${MAX_DRAWS} draws`);
}
