import { appendAudit } from '../db/audit-log.ts';
import type { Trx } from '../db/knex.ts';
import { deleteAccountPayloads } from '../db/oidc-payloads.ts';

export interface RevokeInput {
  accountId: string;
  actor: string;
  reason: string;
  requestId?: string | undefined;
}

/**
 * Ends everything member sites hold for the account: sessions, grants, codes, opaque access tokens and
 * refresh tokens, in the caller's transaction. (JWT access tokens cannot be recalled; they live minutes.)
 */
export async function revokeHolderTokens(trx: Trx, input: RevokeInput): Promise<number> {
  const deleted = await deleteAccountPayloads(trx, input.accountId);
  await appendAudit(trx, {
    actor: input.actor,
    action: 'account.tokens_revoked',
    subjectType: 'account',
    subjectId: input.accountId,
    details: { reason: input.reason, deleted },
    requestId: input.requestId,
  });
  return deleted;
}
