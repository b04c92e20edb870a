import { appendAudit } from '../db/audit-log.ts';
import type { Db } from '../db/knex.ts';
import { findMemberSiteForUpdate, updateMemberSite } from '../db/member-sites.ts';
import { inTransaction } from '../db/tx.ts';
import { ConflictError, ValidationError } from '../errors.ts';
import { sha256Hex } from '../lib/hmac.ts';
import { randomToken } from '../lib/ids.ts';
import { noSuchSite } from './list.ts';

/** Longest overlap an operator may give: a week is enough to roll a secret through any deployment. */
export const MAX_OVERLAP_SECONDS = 7 * 86_400;
export const DEFAULT_OVERLAP_SECONDS = 86_400;

export interface Rotated {
  clientId: string;
  /** The new secret, shown once. */
  clientSecret: string;
  /** Until when the previous secret still works; null when the overlap is 0 (it stops at once). */
  previousValidUntil: Date | null;
}

/**
 * Gives a secret-authenticated member site a new secret. The previous one keeps working for
 * `overlapSeconds` so the site can deploy the new one without downtime; a secret older than that
 * (from an earlier rotation) stops now.
 */
export async function rotateSecret(
  db: Db,
  clientId: string,
  overlapSeconds: number = DEFAULT_OVERLAP_SECONDS,
  actor = 'operator',
  nowMs = Date.now(),
): Promise<Rotated> {
  if (!Number.isInteger(overlapSeconds) || overlapSeconds < 0 || overlapSeconds > MAX_OVERLAP_SECONDS) {
    throw new ValidationError('Some fields need attention.', {
      overlapSeconds: `A whole number of seconds from 0 to ${MAX_OVERLAP_SECONDS} (0 stops the old secret now).`,
    });
  }
  return inTransaction(db, async (trx) => {
    const site = await findMemberSiteForUpdate(trx, clientId);
    if (!site) throw noSuchSite(clientId);
    if (site.status === 'closed') throw new ConflictError(`Member site ${clientId} is closed.`);
    if (site.tokenEndpointAuthMethod === 'private_key_jwt' || !site.clientSecretHash) {
      throw new ConflictError(`Member site ${clientId} authenticates with private_key_jwt: rotate its keys instead.`);
    }
    const clientSecret = randomToken(32);
    const previousValidUntil = overlapSeconds > 0 ? new Date(nowMs + overlapSeconds * 1000) : null;
    await updateMemberSite(trx, clientId, {
      clientSecretHash: sha256Hex(clientSecret),
      previousSecretHash: previousValidUntil ? site.clientSecretHash : null,
      previousSecretExpiresAt: previousValidUntil,
    });
    await appendAudit(trx, {
      actor,
      action: 'member_site.secret_rotated',
      subjectType: 'member_site',
      subjectId: clientId,
      details: { overlapSeconds, previousValidUntil: previousValidUntil?.toISOString() ?? null },
    });
    return { clientId, clientSecret, previousValidUntil };
  });
}
