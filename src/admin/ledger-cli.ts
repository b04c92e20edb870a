import { readFileSync, statSync } from 'node:fs';
import type { ParseArgsOptionsConfig } from 'node:util';
import { z } from 'zod';
import { expireHolds } from '../approvals/expire.ts';
import { findCardByNumber } from '../cards/find-card-by-number.ts';
import type { Config } from '../config/schema.ts';
import { findCard } from '../db/cards.ts';
import type { Db } from '../db/knex.ts';
import { noSuchCard } from '../cards/no-such-card.ts';
import { ValidationError } from '../errors.ts';
import { billingRun } from '../ledger/billing-run.ts';
import { todayIn } from '../ledger/calendar.ts';
import { changeStatementDay } from '../ledger/change-statement-day.ts';
import { checkLedger } from '../ledger/check-ledger.ts';
import { ledgerDeps } from '../ledger/deps.ts';
import { holderAccount } from '../ledger/holder-account.ts';
import { importRepayments, NEEDS_ATTENTION } from '../ledger/import-repayments.ts';
import { payOut } from '../ledger/pay-out.ts';
import { repay } from '../ledger/repay.ts';
import { closeSettlement, settlementCsv, settlementReport } from '../ledger/settlement.ts';
import { formatMoney } from '../lib/money.ts';
import { billingRunInput, checkFormat, cliPayoutInput, cliRepaymentInput, EITHER_CARD_OR_REFERENCE, monthInput, reportQuery, statementDayInput } from './ledger-inputs.ts';
import { cliActor } from './cli-actor.ts';
import { operatorRepayment } from './record-repayment.ts';
import { cliArgs, wholeNumber } from './cli-options.ts';
import { parseInput, SOME_FIELDS } from './operator-input.ts';

type Handler = (ctx: { config: Config; db: Db; args: string[] }) => Promise<void>;

export const LEDGER_COMMANDS_USAGE = `  billing run [--date YYYY-MM-DD] [--batch N]
                                            close the statement period of every due account (idempotent, resumable)
  holds expire                              release every hold not captured in time
  repayments add (--card ID|NUMBER | --reference REF) --amount MINOR_UNITS [--currency CODE] [--transaction-id ID] [--date YYYY-MM-DD] [--memo TEXT]
                                            record a repayment; run again with the same --transaction-id it is not applied
                                            again (nothing changed); without one, each run records another repayment
  repayments import --file FILE.csv         apply a CSV of bank transfers (transaction_id,date,amount,currency,reference);
                                            exits 3 when a line is unmatched, in the wrong currency, a conflict or malformed
  payouts add --card ID|NUMBER --amount MINOR_UNITS --currency CODE --bank-reference REF --reason TEXT
                                            pay a holder's credit balance back (never more than the credit; open or closed
                                            card; a bank reference seen before is not paid again); the holder is told
  settlement report --month YYYY-MM [--format json|csv]
                                            per member site: captured − refunds − chargebacks − fee = payout
  settlement close --month YYYY-MM          post a finished month's settlements to the ledger (idempotent)
  ledger show --card ID|NUMBER              balance, available credit, holds, approvals, statements,
                                            repayments and payouts of a card's account
  ledger check [--format text|json]         read the whole ledger back and check it adds up (entries, balances, holds,
                                            approvals, site payables, statements); exits 3 when anything does not
  ledger statement-day --card ID|NUMBER --day 1-28 --reason TEXT
                                            set the day of the month the account's statements close on (the period running
                                            closes on the sooner of the old and new day; one change at a time; not while
                                            overdue; a minor's follows the guardian's); the holder is told
`;

/** What the operator does about each kind of line an import did not apply. */
const WHAT_TO_DO: Record<(typeof NEEDS_ATTENTION)[number], string> = {
  unmatched: 'no account has the reference; find whose transfer it is and record it with repayments add --card, or send it back',
  wrong_currency: "the account's credit line is kept in another currency; have the bank convert the transfer, or send it back",
  conflicts: 'the bank transaction id was already applied as another repayment; check both with the bank before recording anything',
  malformed: 'the line could not be read; correct it and import the file again (lines already applied are not applied twice)',
};

/** Parses options (cli-options.ts cliArgs), node's refusals in the operator's words. */
function options<T extends ParseArgsOptionsConfig>(args: string[], opts: T) {
  return cliArgs(args, opts).values;
}

/** A card id, or a card number (looked up by HMAC, never echoed). */
async function cardId(config: Config, db: Db, card: string | undefined): Promise<string> {
  if (!card) throw new ValidationError(SOME_FIELDS, { card_id: 'Give a card id or number.' });
  if (z.uuid().safeParse(card).success) return card;
  const found = await findCardByNumber(db, config.secrets.cardHmacKey, card);
  if (!found) throw noSuchCard();
  return found.id;
}

async function accountOf(config: Config, db: Db, card: string | undefined): Promise<string> {
  const found = await findCard(db, await cardId(config, db, card));
  if (!found) throw noSuchCard();
  return found.accountId;
}

/** The operator's ledger commands for src/cli.ts. */
export const ledgerCommands: Record<string, Handler> = {
  async 'billing run'({ config, db, args }) {
    const v = options(args, { date: { type: 'string' }, batch: { type: 'string' } });
    const { date } = parseInput(billingRunInput, v.date === undefined ? {} : { date: v.date });
    const batch = v.batch === undefined ? undefined : Number(v.batch);
    if (batch !== undefined && !(Number.isInteger(batch) && batch >= 1 && batch <= 10000)) {
      throw new ValidationError(SOME_FIELDS, { batch: 'A whole number from 1 to 10000.' });
    }
    const run = await billingRun(ledgerDeps(config, db), {
      ...(date ? { date } : {}),
      ...(batch ? { batchSize: batch } : {}),
      onProgress: (p) =>
        console.log(
          `progress: ${p.scanned} accounts scanned, ${p.statements} statements, ${p.lines} lines, ${Math.round(p.scanned / Math.max(p.seconds, 0.001))} accounts/s`,
        ),
    });
    console.log(`billing run for ${run.date}: ${run.statements} statements closed (${run.lines} lines) over ${run.scanned} accounts in ${run.seconds.toFixed(1)} s`);
  },

  async 'holds expire'({ db, args }) {
    options(args, {});
    console.log(`released ${await expireHolds({ db })} expired holds`);
  },

  async 'repayments add'({ config, db, args }) {
    const v = options(args, {
      card: { type: 'string' },
      reference: { type: 'string' },
      amount: { type: 'string' },
      'transaction-id': { type: 'string' },
      date: { type: 'string' },
      memo: { type: 'string' },
      currency: { type: 'string' },
    });
    if ((v.card === undefined) === (v.reference === undefined)) throw new ValidationError(SOME_FIELDS, { card_id: EITHER_CARD_OR_REFERENCE });
    const input = parseInput(cliRepaymentInput, {
      ...(v.reference !== undefined ? { payment_reference: v.reference } : {}),
      amount: v.amount,
      ...(v.currency !== undefined ? { currency: v.currency } : {}),
      ...(v['transaction-id'] !== undefined ? { transaction_id: v['transaction-id'] } : {}),
      ...(v.date !== undefined ? { received_on: v.date } : {}),
      ...(v.memo !== undefined ? { memo: v.memo } : {}),
    });
    const done = await repay(ledgerDeps(config, db), {
      ...(v.card !== undefined ? { accountId: await accountOf(config, db, v.card) } : { paymentReference: input.payment_reference }),
      ...operatorRepayment(input, config.currency, { actor: cliActor() }),
    });
    const r = done.repayment;
    if (done.status === 'duplicate') {
      console.log(`transaction ${r.transactionId} was already applied (repayment ${r.id}); nothing changed`);
    } else {
      console.log(
        `repayment ${r.id} of ${formatMoney(r.amount, r.currency)} recorded on account ${r.accountId}; balance now ${formatMoney(done.postedBalance, r.currency)}` +
          (done.restored ? '; the account is in good standing again' : ''),
      );
      // A run is not a request that can carry a key: the transaction id is what makes a re-run (a script retried) safe.
      if (r.transactionId === null) console.log('no --transaction-id: running this command again records another repayment');
    }
  },

  async 'payouts add'({ config, db, args }) {
    const v = options(args, {
      card: { type: 'string' },
      amount: { type: 'string' },
      currency: { type: 'string' },
      'bank-reference': { type: 'string' },
      reason: { type: 'string' },
    });
    const input = parseInput(cliPayoutInput, {
      amount: v.amount,
      currency: v.currency,
      bank_reference: v['bank-reference'],
      reason: v.reason,
    });
    const done = await payOut(ledgerDeps(config, db), {
      accountId: await accountOf(config, db, v.card),
      amount: input.amount,
      currency: input.currency,
      bankReference: input.bank_reference,
      reason: input.reason,
      actor: cliActor(),
    });
    const p = done.payout;
    if (done.status === 'duplicate') {
      console.log(`bank reference ${p.bankReference} was already paid out (payout ${p.id}); nothing changed`);
    } else {
      console.log(
        `payout ${p.id} of ${formatMoney(p.amount, p.currency)} paid to account ${p.accountId}; credit balance now ${formatMoney(done.creditBalance, p.currency)}`,
      );
    }
  },

  async 'repayments import'({ config, db, args }) {
    const v = options(args, { file: { type: 'string' } });
    if (!v.file) throw new ValidationError(SOME_FIELDS, { file: 'Give the CSV of bank transfers.' });
    let size: number;
    try {
      size = statSync(v.file).size;
    } catch {
      throw new ValidationError(SOME_FIELDS, { file: `Cannot read ${v.file}.` });
    }
    if (size > config.billing.importMaxBytes) throw new ValidationError(`The CSV is larger than ${config.billing.importMaxBytes} bytes; split it into smaller files.`, { file: `${size} bytes.` });
    let text: string;
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(readFileSync(v.file));
    } catch {
      throw new ValidationError('The CSV is not valid UTF-8 text.', { file: 'Not UTF-8 text.' });
    }
    const report = await importRepayments(ledgerDeps(config, db), text, cliActor());
    for (const a of report.applied) console.log(`line ${a.line}: applied ${a.amount} to account ${a.account_id} (${a.transaction_id})`);
    for (const d of report.duplicates) console.log(`line ${d.line}: already applied (${d.transaction_id}), skipped`);
    for (const u of report.unmatched) console.log(`line ${u.line}: NOT APPLIED, unmatched: ${u.reason} (${u.transaction_id}, ${u.reference})`);
    for (const w of report.wrong_currency) console.log(`line ${w.line}: NOT APPLIED, wrong currency: ${w.reason} (${w.transaction_id}, ${w.reference})`);
    for (const c of report.conflicts) console.log(`line ${c.line}: NOT APPLIED, conflict: ${c.reason} (${c.reference})`);
    for (const m of report.malformed) console.log(`line ${m.line}: NOT APPLIED, malformed: ${m.reason}`);
    // Per currency: a sum of amounts in two currencies is no amount of money. None applied says zero in config's.
    const applied = Object.entries(report.applied_by_currency);
    const appliedMoney = applied.length ? applied.map(([currency, n]) => formatMoney(n, currency)).join('; ') : formatMoney(0, config.currency);
    console.log(
      `${report.lines} lines: ${report.applied.length} applied (${appliedMoney}), ` +
        `${report.duplicates.length} duplicates, ${report.unmatched.length} unmatched, ${report.wrong_currency.length} wrong currency, ` +
        `${report.conflicts.length} conflicts, ${report.malformed.length} malformed`,
    );
    const attention = NEEDS_ATTENTION.filter((k) => report[k].length);
    for (const k of attention) console.log(`${k.replace('_', ' ')}: ${WHAT_TO_DO[k]}`);
    // Lines not applied that need the operator: a script running the import must not take it for done.
    if (attention.length) process.exitCode = 3;
  },

  async 'settlement report'({ config, db, args }) {
    const v = options(args, { month: { type: 'string' }, format: { type: 'string' } });
    const { month } = parseInput(reportQuery, v);
    const report = await settlementReport(ledgerDeps(config, db), month);
    process.stdout.write(v.format === 'csv' ? settlementCsv(report) : `${JSON.stringify(report, null, 2)}\n`);
  },

  async 'settlement close'({ config, db, args }) {
    const v = options(args, { month: { type: 'string' } });
    const { month } = parseInput(monthInput, v);
    const done = await closeSettlement(ledgerDeps(config, db), month, cliActor());
    // Per currency: a sum of amounts in two currencies is no amount of money. A month with no lines says zeros in config's.
    const byCurrency = Object.entries(done.report.totals_by_currency);
    const sums = (byCurrency.length ? byCurrency : [[config.currency, done.report.totals!] as const]).map(([currency, t]) => {
      const money = (n: number) => formatMoney(n, currency);
      return `refunds ${money(t.refunds)} (${t.refund_count}), chargebacks ${money(t.chargebacks)} (${t.chargeback_count}), payouts ${money(t.payout)}`;
    });
    console.log(`settlement ${month}: ${done.closed} sites closed now, ${done.already} already closed; ${sums.join('; ')}`);
  },

  async 'ledger statement-day'({ config, db, args }) {
    const v = options(args, { card: { type: 'string' }, day: { type: 'string' }, reason: { type: 'string' } });
    // A day written in digits is the number it says; anything else reaches the schema as it is, to be refused there.
    const input = parseInput(statementDayInput, { statement_day: wholeNumber(v.day), reason: v.reason });
    const deps = ledgerDeps(config, db);
    const changed = await changeStatementDay(deps, {
      accountId: await accountOf(config, db, v.card),
      statementDay: input.statement_day,
      today: todayIn(deps.billing.timeZone),
      actor: cliActor(),
      by: 'operator',
      reason: input.reason,
    });
    console.log(
      `statement day of account ${changed.accountId}: day ${changed.from} → day ${changed.to}; the current period closes on ${changed.closes} ` +
        `(due ${changed.due}); the statement of ${changed.firstOnNewDay} is the first on day ${changed.to}` +
        (changed.wards ? `; ${changed.wards} linked minor account(s) follow it` : ''),
    );
  },

  async 'ledger check'({ db, args }) {
    const v = options(args, { format: { type: 'string' } });
    const { format } = parseInput(checkFormat, v.format === undefined ? {} : { format: v.format });
    const check = await checkLedger(db);
    if (!check.ok) process.exitCode = 3;
    if (format === 'json') {
      console.log(JSON.stringify(check, null, 2));
      return;
    }
    const s = check.scope;
    const read = `${s.entries} entries, ${s.accounts} accounts, ${s.approvals} approvals, ${s.statements} statements, ${s.settlements} settlements`;
    if (check.ok) {
      console.log(`the books add up: ${read} read at ${check.checked_at}`);
      return;
    }
    console.log(`the books do NOT add up (${read} read at ${check.checked_at}):`);
    for (const [name, n] of Object.entries(check.counts)) console.log(`  ${name}: ${n}`);
    for (const f of check.findings) {
      const figures = Object.entries(f.figures).map(([k, x]) => `${k}=${x}`).join(' ');
      console.log(`${f.check} ${f.subject} ${figures}`);
    }
  },

  async 'ledger show'({ config, db, args }) {
    const v = options(args, { card: { type: 'string' } });
    const deps = ledgerDeps(config, db);
    console.log(JSON.stringify(await holderAccount(db, await accountOf(config, db, v.card), deps.delinquency, { operator: true }), null, 2));
  },
};
