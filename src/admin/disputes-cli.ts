import { decideDispute, NO_SUCH_DISPUTE } from '../approvals/decide-dispute.ts';
import { presentDisputeToOperator } from '../approvals/present-dispute.ts';
import type { Config } from '../config/schema.ts';
import { findDispute, listDisputes, type DisputeWithPayment } from '../db/disputes.ts';
import type { Db } from '../db/knex.ts';
import { NotFoundError, ValidationError } from '../errors.ts';
import { formatMoney } from '../lib/money.ts';
import { cliActor } from './cli-actor.ts';
import { cliArgs } from './cli-options.ts';
import { disputeDecisionInput, disputeIdParam, disputeListQuery } from './dispute-inputs.ts';
import { parseInput, SOME_FIELDS } from './operator-input.ts';

type Handler = (ctx: { config: Config; db: Db; args: string[] }) => Promise<void>;

export const DISPUTE_COMMANDS_USAGE = `  disputes list [--status open|refunded|rejected|all] [--limit N]
                                            holders' reports of payments, oldest first (open ones by default)
  disputes show ID                          one report, with its payment
  disputes refund ID [--amount MINOR_UNITS] [--note TEXT]
                                            uphold it: release what the payment holds, refund what was charged (or --amount of it)
  disputes reject ID --note TEXT            turn it down; the note is told to the holder
`;

/** One report on one line. */
function line(d: DisputeWithPayment): string {
  const outcome = d.status === 'open' ? 'open' : `${d.status} ${d.decidedAt?.toISOString().slice(0, 10)}` + (d.status === 'refunded' ? ` (${formatMoney(d.refundedAmount, d.currency)} refunded, ${formatMoney(d.releasedAmount, d.currency)} released)` : '');
  return `${d.id}  ${d.openedAt.toISOString().slice(0, 16)}Z  ${d.approvalNo}  ${formatMoney(d.amount, d.currency)}  ${d.siteName}  ${d.reason}  ${outcome}`;
}

/** The one positional argument (the report's id) of a command. */
function theReport(positionals: string[]): string {
  if (positionals.length !== 1) throw new ValidationError(SOME_FIELDS, { dispute_id: 'Give exactly one report id.' });
  return parseInput(disputeIdParam, { dispute_id: positionals[0] }).dispute_id;
}

async function decide(db: Db, args: string[], decision: 'refund' | 'reject'): Promise<void> {
  const { values, positionals } =
    decision === 'refund'
      ? cliArgs(args, { amount: { type: 'string' }, note: { type: 'string' } }, { positionals: true })
      : cliArgs(args, { note: { type: 'string' } }, { positionals: true });
  const id = theReport(positionals);
  const input = parseInput(disputeDecisionInput, { decision, ...values });
  const d = await decideDispute({ db }, { disputeId: id, decision, amount: input.amount, note: input.note || null, actor: cliActor() });
  console.log(line(d));
}

/** The operator's commands for holders' reports of payments, for src/cli.ts. */
export const disputeCommands: Record<string, Handler> = {
  async 'disputes list'({ db, args }) {
    const { values } = cliArgs(args, { status: { type: 'string' }, limit: { type: 'string' } });
    const q = parseInput(disputeListQuery, values);
    const found = await listDisputes(db, { status: q.status === 'all' ? undefined : q.status, limit: q.limit });
    if (found.length === 0) console.log(q.status === 'open' ? 'no open reports' : `no ${q.status === 'all' ? '' : `${q.status} `}reports`);
    for (const d of found) console.log(line(d));
  },

  async 'disputes show'({ db, args }) {
    const { positionals } = cliArgs(args, {}, { positionals: true });
    const found = await findDispute(db, theReport(positionals));
    if (!found) throw new NotFoundError(NO_SUCH_DISPUTE, { dispute_id: NO_SUCH_DISPUTE });
    console.log(JSON.stringify(presentDisputeToOperator(found), null, 2));
  },

  'disputes refund': ({ db, args }) => decide(db, args, 'refund'),
  'disputes reject': ({ db, args }) => decide(db, args, 'reject'),
};
