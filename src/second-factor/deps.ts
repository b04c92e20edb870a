import type { Db } from '../db/knex.ts';

/** What the second-factor domain needs from the composition root. */
export interface SecondFactorDeps {
  db: Db;
  /** AES-256-GCM key sealing TOTP secrets (derived with HKDF from a server secret). */
  sealKey: Buffer;
  /** Issuer shown in authenticator apps. */
  issuerLabel: string;
}

/** The AAD binding a sealed TOTP secret to its account: a secret copied to another row does not open. */
export const sealAad = (accountId: string): string => `totp:${accountId}`;
