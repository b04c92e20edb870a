import { appendAudit, type AuditEntry } from '../db/audit-log.ts';
import type { Db } from '../db/knex.ts';
import { lockStatementSchedule, lockWardsOf, overdueStatements, setStatementSchedule } from '../db/statements.ts';
import { inTransaction } from '../db/tx.ts';
import { AppError, NotFoundError, ValidationError } from '../errors.ts';
import { formatMoney } from '../lib/money.ts';
import { notifyHolder } from '../notifications/notify.ts';
import { addDays } from './calendar.ts';
import type { BillingPolicy, DelinquencyPolicy } from './deps.ts';
import { dayInForce, nextClosing, pendingChange, scheduleAfterChange } from './statement-schedule.ts';

/** Why a change of statement day was refused: the stable codes an API client can branch on. */
export type StatementDayRefusal = 'statement_day_unchanged' | 'statement_day_change_pending' | 'statement_day_overdue' | 'follows_guardian';

/** A change of statement day the rules refuse; the message says why and, where there is one, when it may be made. */
export class StatementDayRefusedError extends AppError {
  constructor(code: StatementDayRefusal, message: string) {
    // Who may choose (a ward's guardian) is a permission; the others conflict with the account's state.
    super(code, message, { status: code === 'follows_guardian' ? 403 : 409 });
  }
}

export const STATEMENT_DAY_RANGE = 'A whole number from 1 to 28 (the day of the month statements close on).';

export interface StatementDayChange {
  accountId: string;
  /** 1–28. */
  statementDay: number;
  /** The date it is made on, in billing.timeZone (YYYY-MM-DD). */
  today: string;
  actor: string;
  /** The holder on their own pages, or the operator (API or CLI, with a reason). */
  by: 'holder' | 'operator';
  reason?: string | undefined;
  requestId?: string | undefined;
}

export interface StatementDayChanged {
  accountId: string;
  /** The day in force before the change. */
  from: number;
  to: number;
  /** When the period running now closes, and when what it bills falls due. */
  closes: string;
  due: string;
  /** The first statement date on the new day: `closes` when the new day comes first, else the one after it. */
  firstOnNewDay: string;
  /** The wards billed on this schedule too. */
  wards: number;
}

const WARD_FOR_HOLDER = "Your card is linked to your guardian's, so its statements close on your guardian's statement day, which your guardian chooses.";
const WARD_FOR_OPERATOR = "This account is a minor's, linked to a guardian: it is billed on the guardian's statement day. Change the guardian's instead.";

/**
 * Sets the day of the month the account's statements close on (the due date follows, billing.dueDays later), under its
 * row lock, with an audit entry and a notice to the holder, in one transaction. The rules, so that a change never
 * splits, skips or bills a period twice, and never puts off a payment:
 * - the period running closes on the sooner of the old day and the new one (the billing run's period starts where the
 *   previous statement ended, so every posting falls in exactly one statement); when the old day comes first, a
 *   shorter period runs on to the first date on the new day. No statement closes later than it would have.
 * - one change at a time: the next is taken once the first statement date on the new day has come.
 * - none while a statement is overdue (past its due date and grace, unpaid), as the account page shows it.
 * - a ward is billed on its guardian's day (the guardian answers for the ward's card): the guardian's change applies
 *   to the wards, each locked after the guardian, audited and told; a ward's own is refused.
 */
export async function changeStatementDay(
  deps: { db: Db; billing: Pick<BillingPolicy, 'dueDays'>; delinquency: DelinquencyPolicy },
  req: StatementDayChange,
): Promise<StatementDayChanged> {
  if (!Number.isInteger(req.statementDay) || req.statementDay < 1 || req.statementDay > 28) {
    throw new ValidationError('Some fields need attention.', { statement_day: STATEMENT_DAY_RANGE });
  }
  return inTransaction(deps.db, async (trx) => {
    const before = await lockStatementSchedule(trx, req.accountId);
    if (!before) throw new NotFoundError('There is no such account.');
    if (before.guardianAccountId) throw new StatementDayRefusedError('follows_guardian', req.by === 'holder' ? WARD_FOR_HOLDER : WARD_FOR_OPERATOR);
    const pending = pendingChange(before, req.today);
    if (pending) {
      throw new StatementDayRefusedError(
        'statement_day_change_pending',
        `The statement day was changed to ${before.day} already, from the statement of ${pending.from} on. It can change again from that date.`,
      );
    }
    const current = dayInForce(before, req.today);
    if (req.statementDay === current) throw new StatementDayRefusedError('statement_day_unchanged', `Statements close on day ${current} already.`);
    const [overdue] = await overdueStatements(trx, [req.accountId], deps.delinquency);
    if (overdue) {
      throw new StatementDayRefusedError(
        'statement_day_overdue',
        `Payment overdue: the statement of ${overdue.statementDate} was due on ${overdue.dueDate} and ${formatMoney(overdue.outstanding, overdue.currency)} is still unpaid. ` +
          'The statement day can change once it is paid.',
      );
    }

    const after = scheduleAfterChange(before, req.statementDay, req.today);
    await setStatementSchedule(trx, req.accountId, after);
    const wards = await lockWardsOf(trx, req.accountId);
    const closes = nextClosing(after, req.today);
    const changed: StatementDayChanged = {
      accountId: req.accountId,
      from: current,
      to: req.statementDay,
      closes,
      due: addDays(closes, deps.billing.dueDays),
      firstOnNewDay: after.from!,
      wards: wards.length,
    };
    const details = {
      from: changed.from,
      to: changed.to,
      firstStatementDate: changed.firstOnNewDay,
      currentPeriodCloses: changed.closes,
      dueDate: changed.due,
      by: req.by,
      ...(req.reason !== undefined ? { reason: req.reason } : {}),
    };
    const entry = (accountId: string, extra: Record<string, unknown> = {}): AuditEntry => ({
      actor: req.actor,
      action: 'account.statement_day_changed',
      subjectType: 'account',
      subjectId: accountId,
      details: { ...details, ...extra },
      requestId: req.requestId,
    });
    await appendAudit(trx, [entry(req.accountId), ...wards.map((id) => entry(id, { by: 'guardian', guardianAccountId: req.accountId }))]);
    const notice = { day: changed.to, previous: changed.from, closes: changed.closes, due: changed.due, first: changed.firstOnNewDay };
    await notifyHolder(trx, req.accountId, 'statement_day_changed', { ...notice, by: req.by });
    for (const id of wards) await notifyHolder(trx, id, 'statement_day_changed', { ...notice, by: 'guardian' });
    return changed;
  });
}

/** A change as the holder's and the operator's JSON give it. */
export function presentStatementDayChange(c: StatementDayChanged) {
  return {
    statement_day: c.to,
    previous_statement_day: c.from,
    current_period_closes: c.closes,
    current_period_due: c.due,
    first_statement_date: c.firstOnNewDay,
  };
}
