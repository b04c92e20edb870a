import Router from '@koa/router';
import type { Db } from '../db/knex.ts';
import type { Context, Middleware } from 'koa';
import { expireHolds } from '../approvals/expire.ts';
import { findCard } from '../db/cards.ts';
import { findStatement } from '../db/statements.ts';
import { noSuchCard } from '../cards/no-such-card.ts';
import { AppError, NotFoundError } from '../errors.ts';
import { optionalIdempotencyKeyOf } from '../http/idempotency.ts';
import { jsonBody } from '../http/validate.ts';
import { billingRun } from '../ledger/billing-run.ts';
import { todayIn } from '../ledger/calendar.ts';
import { changeStatementDay, presentStatementDayChange } from '../ledger/change-statement-day.ts';
import type { LedgerDeps } from '../ledger/deps.ts';
import { holderAccount, holderStatement } from '../ledger/holder-account.ts';
import { importRepayments } from '../ledger/import-repayments.ts';
import { payOut } from '../ledger/pay-out.ts';
import { sharedLedgerCheck } from '../ledger/check-ledger.ts';
import { closeSettlement, settlementCsv, settlementReport } from '../ledger/settlement.ts';
import { billingRunInput, cardIdParam, monthInput, noQuery, payoutInput, repaymentInput, reportQuery, statementDayInput, statementIdParam } from './ledger-inputs.ts';
import { parseInput } from './operator-input.ts';
import { recordOperatorRepayment } from './record-repayment.ts';
import { requireOperator, type OperatorCredentials } from './require-operator.ts';

export interface AdminLedgerDeps {
  parseBody: Middleware;
  ledger: LedgerDeps;
  operatorAuth: OperatorCredentials;
  /** Largest CSV accepted by the repayment import. */
  importMaxBytes: number;
  /** The clock a change of statement day is made by (see holder/statement-day-routes.ts). */
  now: () => Date;
  /**
   * The pool outside the request's transaction: the check reads the books in a snapshot of its own (repeatable read),
   * which a request's transaction, read committed and already begun, cannot give.
   */
  unscopedDb: Db;
}

class PayloadTooLargeError extends AppError {
  constructor(max: number) {
    super('payload_too_large', `The CSV is larger than ${max} bytes; split it into smaller files.`, { status: 413 });
  }
}

/** The raw request body as UTF-8 text, refused past `max` bytes or when it is not valid UTF-8. */
async function readText(ctx: Context, max: number): Promise<string> {
  const declared = Number(ctx.get('content-length') || 0);
  if (declared > max) throw new PayloadTooLargeError(max);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > max) throw new PayloadTooLargeError(max);
    chunks.push(chunk);
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(Buffer.concat(chunks));
  } catch {
    throw new AppError('invalid_request', 'The CSV is not valid UTF-8 text.', { status: 400 });
  }
}

/**
 * The operator API of the ledger under /admin/api/ledger: a card's account view, statement day and statements,
 * repayments (one, or a CSV of bank transfers), payouts of a credit balance, billing runs, hold expiry, member-site settlement, and the check that
 * the books add up.
 */
export function adminLedgerRoutes({ parseBody, ledger, operatorAuth, importMaxBytes, now, unscopedDb }: AdminLedgerDeps): Router {
  const router = new Router({ prefix: '/admin/api/ledger' });
  router.use(requireOperator(operatorAuth));
  router.use(async function noStore(ctx: Context, next) {
    ctx.set('Cache-Control', 'no-store');
    await next();
  });
  const actor = (ctx: Context) => String(ctx.state.actor ?? 'operator');

  async function accountOfCard(cardId: string): Promise<string> {
    const card = await findCard(ledger.db, cardId);
    if (!card) throw noSuchCard();
    return card.accountId;
  }

  router.get('/cards/:cardId', async function showCardAccount(ctx) {
    const { card_id: cardId } = parseInput(cardIdParam, { card_id: ctx.params.cardId });
    ctx.body = await holderAccount(ledger.db, await accountOfCard(cardId), ledger.delinquency, { operator: true });
  });

  router.put('/cards/:cardId/statement-day', parseBody, async function setStatementDay(ctx) {
    const { card_id: cardId } = parseInput(cardIdParam, { card_id: ctx.params.cardId });
    const input = parseInput(statementDayInput, jsonBody(ctx));
    const accountId = await accountOfCard(cardId);
    const changed = await changeStatementDay(ledger, {
      accountId,
      statementDay: input.statement_day,
      today: todayIn(ledger.billing.timeZone, now()),
      actor: actor(ctx),
      by: 'operator',
      reason: input.reason,
      requestId: ctx.state.requestId,
    });
    ctx.body = { account_id: accountId, ...presentStatementDayChange(changed) };
  });

  router.get('/statements/:statementId', async function showStatement(ctx) {
    const { statement_id: statementId } = parseInput(statementIdParam, { statement_id: ctx.params.statementId });
    const s = await findStatement(ledger.db, statementId);
    if (!s) throw new NotFoundError('There is no such statement.', { statement_id: 'There is no such statement.' });
    ctx.body = { account_id: s.accountId, ...(await holderStatement(ledger.db, s.accountId, statementId)) };
  });

  /**
   * One repayment. With an Idempotency-Key (optional, as a transaction id is), the key is checked before anything runs and
   * the repayment and its answer commit together: the same key and body again answer the first answer (a retry, a double
   * submit), the same key with another body 409 (see http/idempotency.ts). Keys are the operator's own (scoped to the actor
   * the audit trail names): another operator's key of the same name is another request, never their answer.
   */
  router.post('/repayments', parseBody, async function recordRepayment(ctx) {
    const key = optionalIdempotencyKeyOf(ctx);
    const input = parseInput(repaymentInput, jsonBody(ctx));
    const target = input.card_id ? { accountId: await accountOfCard(input.card_id) } : { paymentReference: input.payment_reference };
    const answer = await recordOperatorRepayment(ledger, input, { target, actor: actor(ctx), requestId: ctx.state.requestId, key });
    if (answer.replayed) ctx.set('Idempotent-Replayed', 'true');
    ctx.status = answer.status;
    ctx.body = answer.body;
  });

  router.post('/payouts', parseBody, async function payOutCredit(ctx) {
    const input = parseInput(payoutInput, jsonBody(ctx));
    const done = await payOut(ledger, {
      accountId: await accountOfCard(input.card_id),
      amount: input.amount,
      currency: input.currency,
      bankReference: input.bank_reference,
      reason: input.reason,
      actor: actor(ctx),
      requestId: ctx.state.requestId,
    });
    const p = done.payout;
    ctx.status = done.status === 'paid' ? 201 : 200;
    ctx.body = {
      status: done.status,
      payout: { id: p.id, account_id: p.accountId, amount: p.amount, currency: p.currency, bank_reference: p.bankReference, paid_at: p.createdAt.toISOString() },
      ...(done.status === 'paid' ? { credit_balance: done.creditBalance } : {}),
    };
  });

  router.post('/repayments/import', async function importBankTransfers(ctx) {
    if (!ctx.is('text/csv', 'text/plain')) {
      throw new AppError('unsupported_media_type', 'Send the bank transfers as text/csv.', { status: 415 });
    }
    ctx.body = await importRepayments(ledger, await readText(ctx, importMaxBytes), actor(ctx));
  });

  router.post('/billing-runs', parseBody, async function runBilling(ctx) {
    const input = parseInput(billingRunInput, ctx.request.length ? jsonBody(ctx) : {});
    ctx.body = await billingRun(ledger, input.date ? { date: input.date } : {});
  });

  router.post('/holds/expire', async function expireDueHolds(ctx) {
    ctx.body = { released: await expireHolds(ledger) };
  });

  router.get('/check', async function checkBooks(ctx) {
    parseInput(noQuery, ctx.query);
    ctx.body = await sharedLedgerCheck(unscopedDb);
  });

  router.get('/settlements', async function showSettlement(ctx) {
    const q = parseInput(reportQuery, ctx.query);
    const report = await settlementReport(ledger, q.month);
    const csv = q.format ? q.format === 'csv' : ctx.accepts('application/json', 'text/csv') === 'text/csv';
    if (csv) {
      ctx.type = 'text/csv; charset=utf-8';
      ctx.set('Content-Disposition', `attachment; filename="settlement-${q.month}.csv"`);
      ctx.body = settlementCsv(report);
    } else {
      ctx.body = report;
    }
  });

  router.post('/settlements/close', parseBody, async function closeMonth(ctx) {
    const { month } = parseInput(monthInput, jsonBody(ctx));
    const done = await closeSettlement(ledger, month, actor(ctx));
    ctx.body = { closed: done.closed, already_closed: done.already, report: done.report };
  });

  return router;
}
