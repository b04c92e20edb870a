import { closeCard } from './close.ts';
import type { CardDeps } from './deps.ts';
import { proveSignedInCard } from './prove-with-password.ts';

export interface HolderCloseRequest {
  accountId: string;
  cardId: string;
  /** The card password typed again: a session may be old, and closing is for good. */
  password: string;
  requestId?: string | undefined;
}

/**
 * The holder closes their own card, proven by its password (a wrong one is CardPasswordError, which the caller
 * counts). Only an active card: a card the operator suspended is the operator's to decide on, a lost one is
 * reissued or left. Closing signs the holder out everywhere and tells them (closeCard); what is owed stays due.
 */
export async function closeByHolder(deps: Pick<CardDeps, 'db' | 'hasher'>, req: HolderCloseRequest): Promise<{ last4: string }> {
  await proveSignedInCard(deps, { cardId: req.cardId, accountId: req.accountId, password: req.password, via: { page: 'close_card', requestId: req.requestId } });
  const done = await closeCard(deps.db, {
    cardId: req.cardId,
    actor: `card:${req.cardId}`,
    reason: 'closed by the holder',
    requestId: req.requestId,
    by: 'holder',
    // The operator may have suspended it since the password was checked: then it is not the holder's to close.
    from: ['active'],
  });
  return { last4: done.card.last4 };
}
