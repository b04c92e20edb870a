import { z } from 'zod';
import { plainText, reasonField } from '../cards/input-fields.ts';
import { MAX_REASON_LENGTH } from '../cards/decide-application.ts';

/** Operator inputs for the review queue, shared by the operator API and the CLI (parsed with operator-input.ts parseInput). */

const applicationId = z.uuid({ error: 'Not an application id.' });

export const applicationIdParam = z.strictObject({ application_id: applicationId });

export const applicationListInput = z.strictObject({
  status: z.enum(['review', 'approved', 'rejected'], { error: 'One of review, approved, rejected.' }).default('review'),
  limit: z.coerce
    .number({ error: 'A whole number from 1 to 500.' })
    .int('A whole number from 1 to 500.')
    .min(1, 'A whole number from 1 to 500.')
    .max(500, 'A whole number from 1 to 500.')
    .default(100),
});

/**
 * Approving may say why; rejecting must (the applicant is told). `accept_duplicate` approves past a duplicate the
 * re-check found, once the operator has looked at it (cards.duplicates 'review').
 */
export const approveInput = z.strictObject({
  application_id: applicationId,
  reason: plainText(MAX_REASON_LENGTH)
    .transform((s) => s.trim() || undefined)
    .optional(),
  accept_duplicate: z.boolean({ error: 'Must be true or false.' }).optional(),
});

export const rejectInput = z.strictObject({
  application_id: applicationId,
  reason: reasonField,
});
