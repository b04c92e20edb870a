import type { Conn } from '../db/knex.ts';
import { findStatementSchedule, type StatementSchedule } from '../db/statements.ts';
import { NotFoundError } from '../errors.ts';
import { addDays, nextStatementDate } from './calendar.ts';

/**
 * The statement day rules in dates (YYYY-MM-DD in billing.timeZone), the same the billing run applies in SQL
 * (db/statements.ts DAY_ON): the statement dates of a schedule are those on the day in force before a change that
 * come before its first statement date (`from`), then `from`, then every date on the new day.
 */

/** The day the statement dated on or before `date` is on: the previous one before a change's first statement date. */
export function dayInForce(s: StatementSchedule, date: string): number {
  return s.from !== null && s.previousDay !== null && date < s.from ? s.previousDay : s.day;
}

/** The first statement date after `today`: on the day in force, or a change's first statement date if that comes sooner. */
export function nextClosing(s: StatementSchedule, today: string): string {
  const next = nextStatementDate(dayInForce(s, today), today);
  return s.from !== null && today < s.from && s.from < next ? s.from : next;
}

/** A change made but not yet in force on `today` (its first statement date still ahead), if any. */
export function pendingChange(s: StatementSchedule, today: string): { previousDay: number; from: string } | undefined {
  return s.from !== null && s.previousDay !== null && today < s.from ? { previousDay: s.previousDay, from: s.from } : undefined;
}

/**
 * The schedule a change to `day` on `today` makes: the new day from its first date after today, the day in force
 * until then. The period running closes on `nextClosing`, the sooner of the old day and the new one, never later than
 * without the change; when the old day comes first, a shorter period runs from it to the first date on the new day.
 */
export function scheduleAfterChange(s: StatementSchedule, day: number, today: string): StatementSchedule {
  return { day, previousDay: dayInForce(s, today), from: nextStatementDate(day, today), guardianAccountId: s.guardianAccountId };
}

/** A schedule as the holder's and operator's JSON give it, on `today`, due dates `dueDays` after each statement. */
export function presentSchedule(s: StatementSchedule, today: string, dueDays: number) {
  const next = nextClosing(s, today);
  const pending = pendingChange(s, today);
  return {
    statement_day: s.day,
    follows_guardian: s.guardianAccountId !== null,
    next_statement_date: next,
    next_due_date: addDays(next, dueDays),
    due_days: dueDays,
    change: pending ? { previous_statement_day: pending.previousDay, first_statement_date: pending.from } : null,
  };
}

export type ScheduleView = ReturnType<typeof presentSchedule>;

/** The account's schedule (a ward's is its guardian's) as presentSchedule gives it. */
export async function statementScheduleOf(conn: Conn, accountId: string, p: { today: string; dueDays: number }): Promise<ScheduleView> {
  const s = await findStatementSchedule(conn, accountId);
  if (!s) throw new NotFoundError('There is no such account.');
  return presentSchedule(s, p.today, p.dueDays);
}
