import { accountHasLaterCard, cardClosedFrom, type Card, type CardStatus } from '../db/cards.ts';
import type { Conn } from '../db/knex.ts';

/**
 * The statuses a card may have been closed from and still sign its former holder in: it was issued and in their hands.
 * Not pending (an application refused: never a card), not lost (its number may be in someone else's hands), and not
 * suspended: only an operator blocks a card, for a reason kept as free text (a fraud check, a stolen card, payments
 * the holder did not make), so a card closed while blocked may have its password in other hands, and its limited
 * session shows the holder's statements and contacts and gives a copy of their data. The operator who means the
 * former holder to keep it lifts the block first and closes an active card; otherwise the holder deals with them.
 */
const CLOSED_FROM: readonly CardStatus[] = ['active'];

/**
 * Whether this closed card signs its former holder in to the holder pages that show and settle what is owed (a limited
 * session, holder/session.ts): closed from active (CLOSED_FROM), and the account's last card (a replaced one never signs
 * in again: its holder has the new number). Never a member site or a payment: those take active cards only.
 */
export async function signsInClosed(conn: Conn, card: Card): Promise<boolean> {
  if (card.status !== 'closed') return false;
  if (await accountHasLaterCard(conn, card.accountId, card.id)) return false;
  const from = await cardClosedFrom(conn, card.id);
  return from !== undefined && CLOSED_FROM.includes(from);
}

/** What a signed-in former holder may still do with their closed card's password: download their data, change contacts. */
export const OPEN_OR_CLOSED: readonly CardStatus[] = ['active', 'closed'];
