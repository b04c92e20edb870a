import { countCardEntriesSince } from '../db/audit-log.ts';
import type { Conn } from '../db/knex.ts';

/** How far back the count goes for a holder who never signed in before this session. */
export const WRONG_PASSWORD_DAYS = 30;

/**
 * The wrong passwords typed for the holder's card since their previous sign-in to the card pages (the last
 * one before this session began at `signedInAt`), or in the last WRONG_PASSWORD_DAYS days when there was none:
 * what the account page warns of. `sincePrevious` says which. One statement.
 */
export async function countWrongPasswords(conn: Conn, holder: { cardId: string; signedInAt: Date }): Promise<{ count: number; sincePrevious: boolean }> {
  return countCardEntriesSince(conn, {
    cardId: holder.cardId,
    action: 'card.password_failed',
    sinceAction: 'holder.signed_in',
    signedInAt: holder.signedInAt,
    days: WRONG_PASSWORD_DAYS,
  });
}
