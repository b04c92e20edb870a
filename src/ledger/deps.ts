import type { Config } from '../config/schema.ts';
import type { Db } from '../db/knex.ts';

/** When statements close and fall due. */
export interface BillingPolicy {
  /** IANA zone in which statement dates, due dates and settlement months are counted. */
  timeZone: string;
  dueDays: number;
  /** Accounts per billing-run transaction. */
  batchSize: number;
  /** A period closes only this many seconds after its end instant (see config billing.settleSeconds). */
  settleSeconds: number;
}

/** When an unpaid statement stops new charges. */
export interface DelinquencyPolicy {
  graceDays: number;
  /** A minor's card is held to its guardian's standing too. */
  guardianResponsible: boolean;
  timeZone: string;
}

/** What the ledger domain (statements, repayments, delinquency, settlement) needs from the composition root. */
export interface LedgerDeps {
  db: Db;
  currency: string;
  billing: BillingPolicy;
  delinquency: DelinquencyPolicy;
  /** Fee on a member site's monthly net, in basis points. */
  feeBasisPoints: number;
  /** The time settlement goes by (whether a month is over); the system clock when absent. Tests pass a later one. */
  now?: (() => Date) | undefined;
}

/** Used where no policy is passed (domain calls in tests and tools): config/default.json's values. */
export const DEFAULT_DELINQUENCY: DelinquencyPolicy = { graceDays: 5, guardianResponsible: true, timeZone: 'Asia/Seoul' };

export function ledgerDeps(config: Config, db: Db): LedgerDeps {
  const b = config.billing;
  return {
    db,
    currency: config.currency,
    billing: { timeZone: b.timeZone, dueDays: b.dueDays, batchSize: b.batchSize, settleSeconds: b.settleSeconds },
    delinquency: { ...config.delinquency, timeZone: b.timeZone },
    feeBasisPoints: config.settlement.feeBasisPoints,
  };
}
