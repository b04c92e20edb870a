import { appendAudit } from '../db/audit-log.ts';
import { queueBackchannelLogouts } from '../db/backchannel-logouts.ts';
import { deleteHolderSessionsOfAccount } from '../db/holder-sessions.ts';
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
 * Each site that held one and registered a backchannel_logout_uri is told (Back-Channel Logout 1.0): the posts are
 * queued first, while the sessions still say which sites had them, and sent once this commits (oidc/send-logout-tokens.ts).
 */
export async function revokeHolderTokens(trx: Trx, input: RevokeInput): Promise<number> {
  const logouts = await queueBackchannelLogouts(trx, input.accountId, input.reason);
  const deleted = await deleteAccountPayloads(trx, input.accountId);
  await appendAudit(trx, {
    actor: input.actor,
    action: 'account.tokens_revoked',
    subjectType: 'account',
    subjectId: input.accountId,
    details: { reason: input.reason, deleted, ...(logouts ? { backchannelLogouts: logouts } : {}) },
    requestId: input.requestId,
  });
  return deleted;
}

/**
 * Signs the holder out everywhere, in the caller's transaction: what member sites hold (revokeHolderTokens) and the
 * holder pages' own sessions. For a change that may be made against whoever holds a session: a new password, the
 * operator's block (an unblock would otherwise revive them), the operator's recovery of contacts or of the second
 * factor (a lost phone may still hold a signed-in browser).
 */
export async function signOutEverywhere(trx: Trx, input: RevokeInput): Promise<void> {
  await revokeHolderTokens(trx, input);
  await deleteHolderSessionsOfAccount(trx, input.accountId);
}
