import type { DelinquencyPolicy } from '../ledger/deps.ts';
import type { Directory } from '../db/directory.ts';
import type { Db } from '../db/knex.ts';
import type { SecondFactorDeps } from '../second-factor/deps.ts';

/** Velocity limits per card (config `velocity`). */
export interface VelocityLimits {
  approvalsPerHour: number;
  approvalsPerDay: number;
  /** Minor units approved in any 24 hours. */
  amountPerDay: number;
}

export interface PaymentPolicy {
  /** The deployment's ISO 4217 currency; payments in any other are refused. */
  currency: string;
  /** How long an uncaptured hold keeps the credit reserved. */
  holdSeconds: number;
  /** When an unpaid statement stops new charges; omitted: the defaults (see ledger/deps.ts). */
  delinquency?: DelinquencyPolicy;
  /** Per-card velocity limits; absent: none. */
  velocity?: VelocityLimits;
  /** Approvals above this amount need the holder's TOTP code; absent: never. */
  stepUpAbove?: number;
  /** The IANA time zone whose calendar month the holder's monthly cap counts (billing.timeZone); absent: UTC. */
  timeZone?: string;
}

/** What the approvals domain needs from the composition root. */
export interface ApprovalDeps {
  db: Db;
  policy: PaymentPolicy;
  /** Where member sites are read from between requests; absent: the database every time. */
  directory?: Directory;
  /** Sealing key and issuer for TOTP step-up; needed when `policy.stepUpAbove` is set. */
  secondFactor?: SecondFactorDeps;
}
