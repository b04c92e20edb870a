import { z } from 'zod';
import { plainText } from '../cards/input-fields.ts';
import { amountField } from './ledger-inputs.ts';

/**
 * Operator inputs of the holders' reports of payments (disputes), shared by the operator API and the CLI
 * (parsed with operator-input.ts parseInput).
 */

export const disputeIdParam = z.strictObject({ dispute_id: z.uuid({ error: 'Not a report id.' }) });

export const disputeListQuery = z.strictObject({
  status: z.enum(['open', 'refunded', 'rejected', 'all'], { error: 'One of open, refunded, rejected, all.' }).default('open'),
  limit: z.coerce.number({ error: 'A whole number from 1 to 500.' }).int('A whole number from 1 to 500.').min(1, 'A whole number from 1 to 500.').max(500, 'A whole number from 1 to 500.').default(100),
});

const TELL_WHY = 'Say why, in words the holder is shown.';

/** A decision: refund (all charged, or `amount` minor units of it, and any hold released) or reject (a note is owed). */
export const disputeDecisionInput = z
  .strictObject({
    decision: z.enum(['refund', 'reject'], { error: 'refund or reject.' }),
    amount: amountField.optional(),
    note: plainText(500).transform((s) => s.trim()).optional(),
  })
  .superRefine((v, ctx) => {
    if (v.decision === 'reject' && !v.note) ctx.addIssue({ code: 'custom', path: ['note'], message: TELL_WHY });
    if (v.decision === 'reject' && v.amount !== undefined) ctx.addIssue({ code: 'custom', path: ['amount'], message: 'Only with a refund.' });
  });
