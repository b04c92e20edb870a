import type { Db } from '../db/knex.ts';

export interface PaymentPolicy {
  /** The deployment's ISO 4217 currency; payments in any other are refused. */
  currency: string;
  /** How long an uncaptured hold keeps the credit reserved. */
  holdSeconds: number;
}

/** What the approvals domain needs from the composition root. */
export interface ApprovalDeps {
  db: Db;
  policy: PaymentPolicy;
}
