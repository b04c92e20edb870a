import { NotFoundError } from '../errors.ts';

const NO_SUCH_CARD = 'There is no such card.';

/** No card has the id or number the operator gave: 404 naming card_id, the field (or the path's id) that gave it. */
export function noSuchCard(): NotFoundError {
  return new NotFoundError(NO_SUCH_CARD, { card_id: NO_SUCH_CARD });
}
