import { blockCard, type StatusChange } from '../cards/block.ts';
import { closeCard } from '../cards/close.ts';
import type { CardDeps } from '../cards/deps.ts';
import { reportLost } from '../cards/report-lost.ts';
import type { StatusChanged } from '../cards/transition.ts';
import { unblockCard } from '../cards/unblock.ts';

export type StatusAction = (db: CardDeps['db'], change: StatusChange) => Promise<StatusChanged>;

/**
 * An operator's changes of a card's status, by the name the API's path (POST /admin/api/cards/:id/<name>) and the
 * console's forms give them: one list, so both make the same change. An operator's report of a lost card is proved
 * by the operator (the holder called), not by a code.
 */
export const CARD_STATUS_ACTIONS = {
  block: blockCard,
  unblock: unblockCard,
  close: closeCard,
  lost: (db, c) => reportLost(db, { ...c, proof: 'operator' }),
} as const satisfies Record<string, StatusAction>;

export type CardStatusAction = keyof typeof CARD_STATUS_ACTIONS;

export const isCardStatusAction = (a: unknown): a is CardStatusAction => typeof a === 'string' && Object.hasOwn(CARD_STATUS_ACTIONS, a);
