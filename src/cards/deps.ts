import type { Db } from '../db/knex.ts';
import type { PasswordHasher } from './password.ts';

/** What the cards domain needs from the composition root. */
export interface CardDeps {
  db: Db;
  hasher: PasswordHasher;
  cardHmacKey: Buffer;
  issuerPrefix: string;
  /** The deployment's ISO 4217 currency. */
  currency: string;
  /** Draws a card number for this issuer prefix; generateCardNumber unless a test forces a collision. */
  generateNumber?: (issuerPrefix: string) => string;
}
