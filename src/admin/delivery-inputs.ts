import { z } from 'zod';
import type { Delivery, DeliveryCounts } from '../db/site-deliveries.ts';
import { clientIdParam, reasonInput } from './sites-inputs.ts';

/**
 * Operator inputs of the deliveries to member sites (Logout Tokens and approval events), shared by the operator API,
 * the CLI and the console (parsed with operator-input.ts parseInput), and the one shape they are shown in.
 */

export const DELIVERY_KINDS = ['logout', 'event'] as const;
export const DELIVERY_STATES = ['failing', 'given_up', 'pending', 'delivered', 'all'] as const;

const kindField = z.enum(DELIVERY_KINDS, { error: 'One of logout, event.' });
const LIMIT = 'A whole number from 1 to 500.';

export const deliveryListQuery = z.strictObject({
  kind: kindField.optional(),
  site: clientIdParam.shape.client_id.optional(),
  state: z.enum(DELIVERY_STATES, { error: 'One of failing, given_up, pending, delivered, all.' }).default('failing'),
  limit: z.coerce.number({ error: LIMIT }).int(LIMIT).min(1, LIMIT).max(500, LIMIT).default(100),
});

/** A delivery's kind and id as the path (or the CLI's arguments) gives them. */
export const deliveryParam = z.strictObject({
  kind: kindField,
  id: z
    .string()
    .regex(/^[1-9]\d{0,15}$/, 'Not a delivery id.')
    .transform(Number),
});

export const retryInput = reasonInput;

/** A moment as the operator reads it: ISO 8601, UTC. */
const iso = (d: Date | null) => d?.toISOString() ?? null;

/** A delivery as the API and the CLI show it: how it went, never the token, the holder or the event's payload. */
export function presentDelivery(d: Delivery) {
  return {
    kind: d.kind,
    id: d.id,
    client_id: d.clientId,
    event: d.event ?? 'logout',
    jti: d.jti,
    state: d.status === 'sent' ? 'delivered' : d.status === 'failed' ? 'given_up' : 'pending',
    attempts: d.attempts,
    last_error: d.lastError,
    created_at: iso(d.createdAt),
    // A delivered or given-up one has no next attempt.
    next_attempt_at: d.status === 'pending' ? iso(d.nextAttemptAt) : null,
    delivered_at: iso(d.sentAt),
  };
}

export function presentCounts(c: DeliveryCounts) {
  return { client_id: c.clientId, kind: c.kind, pending: c.pending, delivered: c.delivered, given_up: c.givenUp };
}
