import { findAccount, type Account, type Card } from '../db/cards.ts';
import type { Db, Trx } from '../db/knex.ts';
import { inTransaction } from '../db/tx.ts';
import { notify, recipientOf } from '../notifications/notify.ts';
import { revokeOpenApprovalsForCard } from '../approvals/revoke-for-card.ts';
import { revokeHolderTokens } from './revoke-holder-tokens.ts';
import { transitionUnlessAlready, type StatusChanged } from './transition.ts';

export interface LostReport {
  cardId: string;
  actor: string;
  reason: string;
  /** How the reporter proved the card is theirs: 'password', 'code', or 'operator'. */
  proof: 'password' | 'code' | 'operator';
  requestId?: string | undefined;
}

/** What each step of blocking a lost card sees: the card (already lost), its account, the report. */
export interface LostCard {
  card: Card;
  account: Account;
  report: LostReport;
}

export type LostCardStep = (trx: Trx, lost: LostCard) => Promise<void>;

async function revokeEverything(trx: Trx, { account, report }: LostCard): Promise<void> {
  await revokeHolderTokens(trx, { accountId: account.id, actor: report.actor, reason: 'card reported lost', requestId: report.requestId });
}

/** Open approvals on the card read `revoked` at once: resource servers in strict mode stop delivering. */
async function revokeOpenApprovals(trx: Trx, { card, report }: LostCard): Promise<void> {
  await revokeOpenApprovalsForCard(trx, card.id, 'card reported lost', { actor: report.actor, requestId: report.requestId });
}

async function tellTheHolder(trx: Trx, { card, account }: LostCard): Promise<void> {
  await notify(trx, recipientOf(account), 'card_blocked', { last4: card.last4 });
}

/**
 * Everything that happens, in order, in the one transaction that blocks a lost card. Whatever else must
 * stop with the card (e.g. its open approvals) is added here, so it commits or rolls back with the block.
 */
export const LOST_CARD_STEPS: readonly LostCardStep[] = [revokeEverything, revokeOpenApprovals, tellTheHolder];

/**
 * Blocks the card at once (status lost) and runs every LOST_CARD_STEPS step in the same transaction:
 * a member site asking about the holder afterwards gets nothing. A card reported lost already stays as
 * it is (changed: false): the steps ran with the first report.
 */
export async function reportLost(db: Db, report: LostReport): Promise<StatusChanged> {
  return inTransaction(db, async (trx) => {
    const done = await transitionUnlessAlready(trx, {
      cardId: report.cardId,
      to: 'lost',
      actor: report.actor,
      reason: report.reason,
      requestId: report.requestId,
      details: { proof: report.proof },
    });
    if (!done.changed) return done;
    const { card } = done;
    const account = await findAccount(trx, card.accountId);
    if (!account) throw new Error(`card ${card.id} has no account`);
    for (const step of LOST_CARD_STEPS) await step(trx, { card, account, report });
    return done;
  });
}
