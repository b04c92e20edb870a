import { AppError, ValidationError } from '../errors.ts';
import { CsvSyntaxError, parseCsv } from '../lib/csv.ts';
import { parseMinorUnits } from '../lib/money.ts';
import { isCalendarDate, todayIn } from './calendar.ts';
import type { LedgerDeps } from './deps.ts';
import { normalizePaymentReference } from './payment-reference.ts';
import { repay, RepaymentConflictError, WrongCurrencyError } from './repay.ts';

/** Columns a bank-transfer CSV must have (any order; other columns are ignored). */
export const IMPORT_COLUMNS = ['transaction_id', 'date', 'amount', 'currency', 'reference'] as const;

const TRANSACTION_ID = /^[\x21-\x7e]{1,100}$/;

export interface ImportLine {
  line: number;
  transaction_id: string | null;
  reference: string | null;
  amount: number | null;
  currency: string | null;
}

/**
 * What became of each line. Every category but `applied` and `duplicates` is a line not applied that needs the
 * operator: the CLI exits 3 when there is one.
 */
export interface ImportReport {
  lines: number;
  applied: Array<ImportLine & { account_id: string; repayment_id: number }>;
  /** Already applied earlier (same transaction id, account, amount and currency, and date where both give one): skipped, nothing to do. */
  duplicates: Array<ImportLine & { account_id: string; repayment_id: number }>;
  /** Well-formed, but no account carries the reference: find whose the transfer is, or send it back. */
  unmatched: Array<ImportLine & { reason: string }>;
  /** The account's credit line is kept in another currency than the transfer's. */
  wrong_currency: Array<ImportLine & { account_id: string; reason: string }>;
  /** The transaction id was already applied as another repayment (`repayment_id`), with another account, amount, currency or date. */
  conflicts: Array<ImportLine & { repayment_id: number; reason: string }>;
  /** Lines that could not be read: never guessed at, never applied. */
  malformed: Array<{ line: number; reason: string }>;
  /** What was applied, added up: null when the lines applied are in several currencies (a sum of them is no amount of money). */
  applied_amount: number | null;
  /** What was applied, per currency. */
  applied_by_currency: Record<string, number>;
}

/** The categories of lines not applied that need the operator. */
export const NEEDS_ATTENTION = ['unmatched', 'wrong_currency', 'conflicts', 'malformed'] as const;

/**
 * Applies a CSV of bank transfers as repayments, each line on its own (one transaction each, so one
 * bad line stops nothing else). A line is applied only when every field is well-formed and its payment
 * reference (check digits valid) belongs to an account; everything else is reported with its line
 * number and reason. The bank's transaction id makes a re-imported line a duplicate, never a second payment.
 */
export async function importRepayments(deps: LedgerDeps, csv: string, actor: string): Promise<ImportReport> {
  let records;
  try {
    records = parseCsv(csv);
  } catch (err) {
    if (err instanceof CsvSyntaxError) throw new ValidationError(`The CSV cannot be read: ${err.message}.`, { csv: err.message });
    throw err;
  }
  const header = records.shift();
  if (!header) throw new ValidationError('The CSV is empty: it needs a header line and one line per transfer.', { csv: 'Empty.' });
  const names = header.fields.map((f) => f.trim().toLowerCase());
  const missing = IMPORT_COLUMNS.filter((c) => !names.includes(c));
  if (missing.length) {
    throw new ValidationError(`The CSV header lacks ${missing.join(', ')} (it needs ${IMPORT_COLUMNS.join(',')}).`, { csv: `Missing columns: ${missing.join(', ')}.` });
  }
  const col = Object.fromEntries(IMPORT_COLUMNS.map((c) => [c, names.indexOf(c)])) as Record<(typeof IMPORT_COLUMNS)[number], number>;

  const report: ImportReport = { lines: records.length, applied: [], duplicates: [], unmatched: [], wrong_currency: [], conflicts: [], malformed: [], applied_amount: 0, applied_by_currency: {} };
  for (const rec of records) {
    if (rec.fields.length !== names.length) {
      report.malformed.push({ line: rec.line, reason: `${rec.fields.length} fields where the header has ${names.length}` });
      continue;
    }
    const get = (c: (typeof IMPORT_COLUMNS)[number]) => rec.fields[col[c]]!.trim();
    const txId = get('transaction_id');
    const rawAmount = get('amount');
    const amount = /^[0-9]+$/.test(rawAmount) ? parseMinorUnits(rawAmount) : undefined;
    const reference = normalizePaymentReference(get('reference'));
    const problems: string[] = [];
    if (!TRANSACTION_ID.test(txId)) problems.push('transaction_id must be 1–100 visible characters without spaces');
    if (!isCalendarDate(get('date'))) problems.push(`date "${get('date').slice(0, 20)}" is not a YYYY-MM-DD date`);
    else if (get('date') > todayIn(deps.billing.timeZone)) problems.push(`date ${get('date')} is after today`);
    if (amount === undefined) problems.push(`amount "${rawAmount.slice(0, 20)}" is not a positive whole number of minor units`);
    if (!/^[A-Z]{3}$/.test(get('currency'))) problems.push(`currency "${get('currency').slice(0, 10)}" is not an ISO 4217 code such as ${deps.currency}`);
    if (!reference) problems.push(`reference "${get('reference').slice(0, 40)}" is not a valid payment reference`);
    if (problems.length) {
      report.malformed.push({ line: rec.line, reason: problems.join('; ') });
      continue;
    }
    const base: ImportLine = { line: rec.line, transaction_id: txId, reference: reference!, amount: amount!, currency: get('currency') };
    try {
      const done = await repay(deps, {
        paymentReference: reference!,
        amount: amount!,
        currency: get('currency'),
        transactionId: txId,
        receivedOn: get('date'),
        memo: 'bank transfer',
        source: 'bank_import',
        actor,
      });
      const row = { ...base, account_id: done.repayment.accountId, repayment_id: done.repayment.id };
      if (done.status === 'applied') {
        report.applied.push(row);
        report.applied_by_currency[base.currency!] = (report.applied_by_currency[base.currency!] ?? 0) + amount!;
      } else {
        report.duplicates.push(row);
      }
    } catch (err) {
      if (err instanceof RepaymentConflictError) {
        const was = err.existing;
        const earlier = `${was.amount} ${was.currency} to account ${was.accountId}${was.receivedOn ? ` received ${was.receivedOn}` : ''}`;
        report.conflicts.push({
          ...base,
          repayment_id: was.id,
          reason: `transaction ${txId} was already applied as repayment ${was.id} (${earlier}); this line has a different ${err.differs.join(', ').replace('received_on', 'date')}`,
        });
      } else if (err instanceof WrongCurrencyError) {
        report.wrong_currency.push({ ...base, account_id: err.accountId, reason: `the account's credit line is in ${err.lineCurrency}, the transfer in ${get('currency')}` });
      } else if (err instanceof AppError && err.status === 404) report.unmatched.push({ ...base, reason: 'no account has this payment reference' });
      else throw err;
    }
  }
  const sums = Object.values(report.applied_by_currency);
  report.applied_amount = sums.length > 1 ? null : (sums[0] ?? 0);
  return report;
}
