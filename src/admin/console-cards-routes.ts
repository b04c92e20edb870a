import Router from '@koa/router';
import type { Context, Middleware } from 'koa';
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { auditTrail } from '../cards/audit-trail.ts';
import { changeLimit } from '../cards/change-limit.ts';
import type { CardDeps } from '../cards/deps.ts';
import { exportHolderDataForOperator, OperatorExportLimitError, type OperatorDataDeps } from '../cards/export-holder-data.ts';
import { findCardByNumber } from '../cards/find-card-by-number.ts';
import type { HolderView } from '../cards/holder-view.ts';
import { cardNumberField } from '../cards/input-fields.ts';
import { REISSUABLE, reissue, type Reissued } from '../cards/reissue.ts';
import { showCard } from '../cards/show-card.ts';
import { ALLOWED_TRANSITIONS } from '../cards/transition.ts';
import { findAccount, type CardStatus, type CardSummary } from '../db/cards.ts';
import { AppError, NotFoundError } from '../errors.ts';
import { checkCsrf, csrfToken } from '../http/csrf.ts';
import { readForm } from '../http/form.ts';
import { shownRefusal } from '../http/form-page.ts';
import type { Renderer } from '../http/render.ts';
import { IdempotencyKeyError } from '../http/idempotency.ts';
import { fieldErrors } from '../http/validate.ts';
import { holderDataFile, sendHolderDataFile } from '../holder/data-file.ts';
import type { LedgerDeps } from '../ledger/deps.ts';
import { holderAccount, type HolderAccountView } from '../ledger/holder-account.ts';
import { payOut } from '../ledger/pay-out.ts';
import { formatLocalTime } from '../lib/local-time.ts';
import { formatMoney, MAX_AMOUNT, parseTypedAmount, wholeAmounts } from '../lib/money.ts';
import { removeSecondFactor } from '../second-factor/remove-second-factor.ts';
import { cardChangeInput, exportInput, limitInput } from './card-inputs.ts';
import { payoutInput, repaymentInput } from './ledger-inputs.ts';
import { recordOperatorRepayment } from './record-repayment.ts';
import { CARD_STATUS_ACTIONS, isCardStatusAction, type CardStatusAction } from './card-status-actions.ts';
import { doneNotice, inEnglish, sendConsolePage } from './console-session.ts';
import { SOME_FIELDS } from './operator-input.ts';
import { presentAudit, presentCard, presentHolder } from './present-card.ts';

export interface ConsoleCardDeps {
  parseBody: Middleware;
  requireConsoleOperator: Middleware;
  cards: CardDeps;
  /** The account view (as `ledger show`) and the time zone the page tells times in (config billing.timeZone). */
  ledger: LedgerDeps;
  render: Renderer;
  /** The copies of holders' data one operator may give out an hour (config holderData.operatorExportsPerHour), on the throttles' pool. */
  exportsPerHour: OperatorDataDeps['exportsPerHour'];
}

const PURPOSE = 'admin:cards';
const NO_SUCH_CARD = 'There is no such card.';
const NO_SUCH_PAGE = 'There is no such page of the audit trail.';
const CONFIRM_CLOSE = 'Tick this to close the card for good.';
/** Audit entries a page shows, of the latest the API's trail gives (listAuditForSubjects's 500). */
const AUDIT_PAGE = 50;

/** The card's status in the operator's words: a "suspended" card is one an operator (or the holder) blocked. */
const STATUS_WORD: Record<CardStatus, string> = { pending: 'pending', active: 'active', suspended: 'blocked', lost: 'reported lost', closed: 'closed' };

/** Every form of the card page, by the last step of its path. */
const ACTIONS = ['block', 'unblock', 'lost', 'close', 'reissue', 'limit', 'second-factor'] as const;
type Action = (typeof ACTIONS)[number];
const isAction = (a: unknown): a is Action => typeof a === 'string' && (ACTIONS as readonly string[]).includes(a);

/** The redirect's `done` after a status change that changed it. */
const DONE_KEY: Record<CardStatusAction, string> = { block: 'blocked', unblock: 'unblocked', lost: 'lost', close: 'closed' };

const DONE: Record<string, string> = {
  blocked: 'Blocked: the card cannot log in or pay, its sessions are ended, and the holder has been told.',
  unblocked: 'Unblocked: the card can log in and pay again.',
  lost: 'Reported lost: the card cannot log in or pay, its sessions are ended, and the holder has been told. Reissue it to give the holder a new number.',
  closed: 'Closed for good: the card cannot log in or pay again, its sessions are ended, and the holder has been told. What is owed stays due.',
  'second-factor-removed': 'Second factor removed: the holder is signed out everywhere and told, and sets up a new authenticator app to approve payments that need one.',
  'no-second-factor': 'The holder had no second factor already: nothing changed.',
  repaid: 'Repayment recorded: the balance below includes it, and the holder has been told.',
  'repayment-duplicate': 'This bank transaction was recorded already: nothing changed.',
  'paid-out': 'Paid out: the credit balance below is lower by it, and the holder has been told.',
  'payout-duplicate': 'This bank reference was paid out already: nothing changed.',
};

/** The account's money forms: a repayment received, a credit balance paid back. */
type MoneyForm = 'repayment' | 'payout';
const MONEY_FIELDS: Record<MoneyForm, readonly string[]> = {
  repayment: ['amount', 'currency', 'transaction_id', 'received_on', 'memo'],
  payout: ['amount', 'bank_reference', 'reason'],
};
/** A one-time key the form carries (the operator API's Idempotency-Key): a resend of the same form is applied once. */
const FORM_KEY = /^[\x21-\x7e]{1,255}$/;
const KEY_USED =
  'This form was already sent with other values (the first is recorded: see the balance and the audit trail). To record another repayment, check the values and send them again.';
const STALE_FORM = 'The form is out of date: check the values and send it again.';

interface MoneyRefusal {
  status: number;
  form: MoneyForm;
  error: string;
  fields: Record<string, string>;
  values: Record<string, string>;
  /** The repayment form's key to send again with: the one sent, or a fresh one when that was used already. */
  key: string;
}

/** A secret's kind of name. Audit details hold none (reasons, last fours, amounts, addresses): this keeps it so. */
const SECRET_KEY = /password|secret|token|pepper|hash|otp/i;

/** The forms a card in this status offers: its life cycle's next steps, then the account's limit and second factor. */
function offered(status: CardStatus): Action[] {
  const next = ALLOWED_TRANSITIONS[status];
  return [
    ...(next.includes('suspended') ? (['block'] as const) : []),
    ...(status === 'suspended' ? (['unblock'] as const) : []),
    ...(next.includes('lost') ? (['lost'] as const) : []),
    ...(REISSUABLE.includes(status) ? (['reissue'] as const) : []),
    ...(next.includes('closed') ? (['close'] as const) : []),
    'limit',
    'second-factor',
  ];
}

/** The page of the trail asked for (`?page=N`, 1 when none), or undefined for one that is not a page number. */
const pageQuery = z.union([z.undefined(), z.string().regex(/^[1-9]\d{0,5}$/).transform(Number)]);

interface Refusal {
  status: number;
  /** The form the refusal is about: its fields are refilled and marked. */
  action: Action;
  error: string;
  fields: Record<string, string>;
  values: { reason: string; confirm: string; credit_limit: string };
}

interface Found {
  holder: HolderView;
  card: CardSummary;
}

interface Shown {
  status?: number;
  notice?: string | undefined;
  refusal?: Refusal;
  /** A refusal of a money form: its fields refilled and marked. */
  money?: MoneyRefusal;
  /** A refusal of the page itself (a page of the trail there is not). */
  error?: string;
  auditPage?: number;
  /** The export form's reason, refilled after a refusal. */
  exportReason?: string;
  /** The refusal was of the reason itself (its field marked), not of the operator's hourly copies. */
  exportReasonBad?: boolean;
}

/** An audit entry's details as the page lists them: each value as text, any secret-named key left out. */
function shownDetails(details: Record<string, unknown>): Array<[string, string]> {
  return Object.entries(details)
    .filter(([key]) => !SECRET_KEY.test(key))
    .map(([key, v]) => [key, typeof v === 'string' ? v : JSON.stringify(v)]);
}

/**
 * Cards in the operator console (/admin/cards): find a card by its number, posted in a form (never in a URL, as the
 * API's POST /admin/api/cards/search, looked up by its HMAC), then the card's own page by its id: the holder and the
 * account's cards, the account as `ledger show` has it (holderAccount), the holder's audit trail as `cards audit` has
 * it (auditTrail, newest first, a page at a time), and the API's actions on a card with a reason: block, unblock,
 * report lost, close (confirmed with a tick), reissue, change the credit limit and remove the second factor, through
 * the API's domain functions and input schemas, audited as the operator signed in, and a GET form (its optional reason) downloading the holder's
 * data as the API's GET …/:cardId/export (a data-subject request from a holder who cannot sign in). A change already made says so and
 * writes nothing. A reissue's new number and password are in its answer page alone: never stored, logged or in a URL.
 */
export function consoleCardRoutes(deps: ConsoleCardDeps): Router {
  const router = new Router({ prefix: '/admin/cards' });
  router.use(inEnglish, deps.parseBody, deps.requireConsoleOperator);
  const timeZone = deps.ledger.billing.timeZone;

  async function send(ctx: Context, status: number, view: string, locals: Record<string, unknown>): Promise<void> {
    await sendConsolePage(ctx, deps.render, view, { csrf: csrfToken(ctx, PURPOSE), ...locals }, status);
  }

  function searchPage(ctx: Context, s: { status?: number; error?: string; fields?: Record<string, string>; number?: string } = {}): Promise<void> {
    return send(ctx, s.status ?? 200, 'admin/cards', { title: 'Cards', error: s.error ?? null, fields: s.fields ?? {}, number: s.number ?? '' });
  }
  const noSuchCard = (ctx: Context) => searchPage(ctx, { status: 404, error: NO_SUCH_CARD });

  /** The account as `ledger show` has it; none for a card whose account has no credit line yet. */
  async function accountOf(accountId: string): Promise<HolderAccountView | null> {
    try {
      return await holderAccount(deps.ledger.db, accountId, deps.ledger.delinquency, { operator: true });
    } catch (err) {
      if (err instanceof NotFoundError) return null;
      throw err;
    }
  }

  async function cardPage(ctx: Context, { holder, card }: Found, s: Shown = {}): Promise<void> {
    const newestFirst = (await auditTrail(deps.cards.db, card.id)).reverse();
    const pages = Math.max(1, Math.ceil(newestFirst.length / AUDIT_PAGE));
    // A page past the last (a hand-edited address, or a trail that is shorter now) is refused with the first.
    const pastLast = (s.auditPage ?? 1) > pages;
    const page = pastLast ? 1 : (s.auditPage ?? 1);
    const last4 = new Map(holder.cards.map((c) => [c.id, c.last4]));
    const audit = newestFirst.slice((page - 1) * AUDIT_PAGE, page * AUDIT_PAGE).map((e) => {
      const shown = presentAudit(e);
      const about = shown.subject_type === 'card' ? `card ending ${last4.get(shown.subject_id) ?? '?'}` : shown.subject_type;
      return { when: formatLocalTime(e.at, timeZone), actor: shown.actor, action: shown.action, about, details: shownDetails(shown.details) };
    });
    const status = s.refusal?.status ?? s.money?.status ?? (pastLast ? 400 : (s.status ?? 200));
    await send(ctx, status, 'admin/card', {
      title: `Card ending ${card.last4}`,
      holder: presentHolder(holder),
      card: { ...presentCard(card), status_word: STATUS_WORD[card.status] },
      statusWord: STATUS_WORD,
      account: await accountOf(holder.account.id),
      money: formatMoney,
      when: (iso: string) => formatLocalTime(new Date(iso), timeZone),
      timeZone,
      audit,
      auditPage: page,
      auditPages: pages,
      auditTotal: newestFirst.length,
      actions: offered(card.status),
      refusal: s.refusal ?? null,
      moneyRefusal: s.money ?? null,
      repaymentKey: s.money?.key ?? randomUUID(),
      deploymentCurrency: deps.ledger.currency,
      notice: s.notice ?? null,
      exportReason: s.exportReason ?? '',
      exportRefused: s.exportReasonBad === true,
      error: pastLast ? NO_SUCH_PAGE : (s.money?.error ?? s.error ?? null),
    });
  }

  /** The card of the path and its holder, or undefined for one that is not a card id or no card has. */
  async function cardOf(cardId: string): Promise<Found | undefined> {
    if (!z.uuid().safeParse(cardId).success) return undefined;
    try {
      const holder = await showCard(deps.cards.db, cardId);
      const card = holder.cards.find((c) => c.id === cardId);
      return card ? { holder, card } : undefined;
    } catch (err) {
      if (err instanceof AppError && err.status === 404) return undefined;
      throw err;
    }
  }

  router.get('/', async function showCardSearch(ctx) {
    await searchPage(ctx);
  });

  // The number is in the body only; the answer sends the browser to the card's page by its id.
  router.post('/search', async function findCardByNumberFromConsole(ctx) {
    const { values: raw, refused } = readForm(ctx, ['csrf', 'number']);
    if (refused) return searchPage(ctx, { status: 400, error: refused.message, fields: refused.fields ?? {} });
    checkCsrf(ctx, PURPOSE, raw.csrf);
    const number = raw.number ?? '';
    const parsed = z.object({ number: cardNumberField }).safeParse({ number });
    if (!parsed.success) return searchPage(ctx, { status: 400, error: SOME_FIELDS, fields: fieldErrors(parsed.error), number });
    const found = await findCardByNumber(deps.cards.db, deps.cards.cardHmacKey, parsed.data.number);
    if (!found) return searchPage(ctx, { status: 404, error: 'No card has this number.', fields: { number: 'No card has this number.' }, number });
    ctx.status = 303;
    ctx.redirect(`/admin/cards/${found.id}`);
  });

  router.get('/:cardId', async function showCardInConsole(ctx) {
    const found = await cardOf(ctx.params.cardId!);
    if (!found) return noSuchCard(ctx);
    const page = pageQuery.safeParse(ctx.query.page);
    if (!page.success) return cardPage(ctx, found, { status: 400, error: NO_SUCH_PAGE });
    const unchanged = `The card was ${STATUS_WORD[found.card.status]} already: nothing changed.`;
    const notice = doneNotice({ ...DONE, unchanged }, ctx.query.done);
    await cardPage(ctx, found, { notice, auditPage: page.data ?? 1 });
  });

  // The API's GET …/:cardId/export, a link for the operator signed in: it changes nothing but its audit entry, and the
  // session cookie is SameSite=Strict, so no other site's page makes one in the operator's name.
  router.get('/:cardId/export', async function exportHoldersDataFromConsole(ctx) {
    const found = await cardOf(ctx.params.cardId!);
    if (!found) return noSuchCard(ctx);
    // Why (the request's reference), optional for now, from the small form before the download: a bad one is the
    // card page with its message and the field refilled, nothing read or written.
    const input = exportInput.safeParse({ card_id: found.card.id, reason: ctx.query.reason });
    if (!input.success) {
      const typed = typeof ctx.query.reason === 'string' ? ctx.query.reason : '';
      return cardPage(ctx, found, { status: 400, error: `Reason: ${input.error.issues[0]?.message ?? 'not allowed.'}`, exportReason: typed, exportReasonBad: true });
    }
    const by = { cardId: found.card.id, reason: input.data.reason, actor: String(ctx.state.actor), requestId: ctx.state.requestId as string | undefined };
    try {
      sendHolderDataFile(ctx, holderDataFile((await exportHolderDataForOperator({ db: deps.cards.db, timeZone, exportsPerHour: deps.exportsPerHour }, by)).data, timeZone));
    } catch (err) {
      // Past the operator's hourly copies: the card page saying from when, the reason kept for then.
      if (!(err instanceof OperatorExportLimitError)) throw err;
      ctx.set('Retry-After', String(err.retryAfterSeconds));
      await cardPage(ctx, found, { status: err.status, error: err.message, exportReason: input.data.reason ?? '' });
    }
  });

  /**
   * A money form's post, read and checked as the card forms are (CSRF, the card of the path), then handed to `apply`
   * with the typed values; a refusal (a field, or the domain's AppError under 500) is the card page with the form refilled.
   */
  async function moneyPost(
    ctx: Context,
    form: MoneyForm,
    apply: (found: Found, values: Record<string, string>, key: string, refuse: (status: number, error: string, fields: Record<string, string>, key?: string) => Promise<void>) => Promise<void>,
  ): Promise<void> {
    const { values: raw, refused } = readForm(ctx, ['csrf', 'key', ...MONEY_FIELDS[form]]);
    checkCsrf(ctx, PURPOSE, raw.csrf);
    const found = await cardOf(ctx.params.cardId!);
    if (!found) return noSuchCard(ctx);
    const values = Object.fromEntries(MONEY_FIELDS[form].map((f) => [f, raw[f] ?? '']));
    const sentKey = raw.key ?? '';
    const key = FORM_KEY.test(sentKey) ? sentKey : randomUUID();
    const refuse = (status: number, error: string, fields: Record<string, string>, next = key) =>
      cardPage(ctx, found, { money: { status, form, error, fields, values, key: next } });
    if (refused) return refuse(400, refused.message, refused.fields ?? {});
    try {
      await apply(found, values, sentKey, refuse);
    } catch (err) {
      if (err instanceof IdempotencyKeyError) return refuse(err.status, err.status === 409 ? KEY_USED : STALE_FORM, {}, randomUUID());
      if (err instanceof AppError && err.status < 500 && err.status !== 404) return refuse(err.status, err.message, err.fields ?? {});
      throw err;
    }
  }

  // A repayment received, as the API's POST /admin/api/ledger/repayments (recordOperatorRepayment): the amount typed in
  // money, the currency the deployment's unless changed, and the form's key as the API's Idempotency-Key.
  router.post('/:cardId/repayment', async function recordRepaymentFromConsole(ctx) {
    await moneyPost(ctx, 'repayment', async (found, v, key, refuse) => {
      if (!FORM_KEY.test(key)) return refuse(400, STALE_FORM, {});
      const currency = v.currency!.trim();
      const amount = typedMoney(v.amount!, /^[A-Z]{3}$/.test(currency) ? currency : found.holder.account.currency);
      const optional = (f: string) => (v[f]!.trim() === '' ? undefined : v[f]!.trim());
      const parsed = repaymentInput.safeParse({
        card_id: found.card.id,
        amount: amount ?? 0,
        currency,
        transaction_id: optional('transaction_id'),
        received_on: optional('received_on'),
        memo: optional('memo'),
      });
      const fields = parsed.success ? {} : fieldErrors(parsed.error);
      const amountError = amountMessage(v.amount!, amount, /^[A-Z]{3}$/.test(currency) ? currency : found.holder.account.currency);
      if (amountError) fields.amount = amountError;
      else delete fields.amount;
      if (!parsed.success || Object.keys(fields).length) return refuse(400, SOME_FIELDS, fields);
      const by = { target: { accountId: found.holder.account.id }, actor: String(ctx.state.actor), requestId: ctx.state.requestId as string | undefined, key };
      const answer = await recordOperatorRepayment(deps.ledger, parsed.data, by);
      seeCard(ctx, found.card.id, answer.body.status === 'duplicate' ? 'repayment-duplicate' : 'repaid');
    });
  });

  // A credit balance paid back, as the API's POST /admin/api/ledger/payouts (payOut), in the account's currency: the
  // bank reference makes a resend a duplicate that changes nothing.
  router.post('/:cardId/payout', async function payOutFromConsole(ctx) {
    await moneyPost(ctx, 'payout', async (found, v, _key, refuse) => {
      const currency = found.holder.account.currency;
      const amount = typedMoney(v.amount!, currency);
      const parsed = payoutInput.safeParse({ card_id: found.card.id, amount: amount ?? 0, currency, bank_reference: v.bank_reference, reason: v.reason });
      const fields = parsed.success ? {} : fieldErrors(parsed.error);
      const amountError = amountMessage(v.amount!, amount, currency);
      if (amountError) fields.amount = amountError;
      else delete fields.amount;
      if (!parsed.success || Object.keys(fields).length) return refuse(400, SOME_FIELDS, fields);
      const p = parsed.data;
      const done = await payOut(deps.ledger, {
        accountId: found.holder.account.id,
        amount: p.amount,
        currency: p.currency,
        bankReference: p.bank_reference,
        reason: p.reason,
        actor: String(ctx.state.actor),
        requestId: ctx.state.requestId as string | undefined,
      });
      seeCard(ctx, found.card.id, done.status === 'duplicate' ? 'payout-duplicate' : 'paid-out');
    });
  });

  router.post('/:cardId/:action', async function changeCardFromConsole(ctx) {
    const action = ctx.params.action;
    if (!isAction(action)) return; // any other path: 404
    const cardId = ctx.params.cardId!;
    const { values: raw, refused } = readForm(ctx, ['csrf', 'reason', 'confirm', 'credit_limit']);
    checkCsrf(ctx, PURPOSE, raw.csrf);
    const found = await cardOf(cardId);
    if (!found) return noSuchCard(ctx);
    const values = { reason: raw.reason ?? '', confirm: raw.confirm ?? '', credit_limit: raw.credit_limit ?? '' };
    const refuse = (status: number, error: string, fields: Record<string, string>) => cardPage(ctx, found, { refusal: { status, action, error, fields, values } });
    if (refused) return refuse(400, refused.message, refused.fields ?? {});

    const parsed = cardChangeInput.safeParse({ card_id: cardId, reason: values.reason });
    const fields = parsed.success ? {} : fieldErrors(parsed.error);
    // Closing cannot be undone: the form asks for a tick besides the reason.
    if (action === 'close' && raw.confirm !== 'on') fields.confirm = CONFIRM_CLOSE;
    // The limit is typed in the account's money; the API's schema then checks it as it checks the API's minor units.
    const currency = found.holder.account.currency;
    const typed = action === 'limit' ? typedLimit(values.credit_limit, currency) : undefined;
    const limit = typed === undefined ? undefined : limitInput.safeParse({ card_id: cardId, credit_limit: typed, reason: values.reason });
    const creditLimit = limit?.success ? limit.data.credit_limit : undefined;
    if (action === 'limit' && creditLimit === undefined) fields.credit_limit = limitMessage(currency);
    if (!parsed.success || Object.keys(fields).length) return refuse(400, SOME_FIELDS, fields);
    const by = { cardId, reason: parsed.data.reason, actor: String(ctx.state.actor), requestId: ctx.state.requestId as string | undefined };
    try {
      if (isCardStatusAction(action)) {
        const { changed } = await CARD_STATUS_ACTIONS[action](deps.cards.db, by);
        return seeCard(ctx, cardId, changed ? DONE_KEY[action] : 'unchanged');
      }
      if (action === 'second-factor') {
        const { removed } = await removeSecondFactor(deps.cards.db, by);
        return seeCard(ctx, cardId, removed ? 'second-factor-removed' : 'no-second-factor');
      }
      if (action === 'reissue') return await reissuedPage(ctx, found, await reissue(deps.cards, by));
      // The limit form's own creditLimit, checked with the reason above.
      const changed = await changeLimit(deps.cards.db, { ...by, creditLimit: creditLimit! });
      const money = (n: number) => formatMoney(n, changed.currency);
      const wards = changed.lowered.map((w) => `${w.legalName}’s from ${money(w.from)} to ${money(w.to)}`);
      // Answered with the page, not a redirect: the notice names the children whose limits came down with it. A limit
      // set to what it is already changes nothing and is not audited (changed: false), as the API's.
      const notice = !changed.changed
        ? `The credit limit was ${money(changed.to)} already: it stays so.`
        : `Credit limit changed from ${money(changed.from)} to ${money(changed.to)}.${wards.length ? ` Lowered with it: ${wards.join('; ')}.` : ''}`;
      return await cardPage(ctx, (await cardOf(cardId)) ?? found, { notice });
    } catch (err) {
      // A refusal re-reads the card: another operator may have changed it meanwhile.
      const refusal = shownRefusal(ctx, err, 'console form refused');
      const now = (await cardOf(cardId)) ?? found;
      const fields = { ...refusal.fields };
      // changeLimit's refusal speaks of minor units (the API's): the page says the guardian's limit in money.
      if (action === 'limit' && fields.credit_limit) fields.credit_limit = await guardianLimitMessage(now);
      return cardPage(ctx, now, { refusal: { status: refusal.status, action, error: refusal.message, fields, values } });
    }
  });

  /** What a limit above a minor's guardian's is told, in money; the page's own words where there is no guardian. */
  async function guardianLimitMessage({ holder }: Found): Promise<string> {
    const guardianId = holder.account.guardianAccountId;
    const guardian = guardianId ? await findAccount(deps.cards.db, guardianId) : undefined;
    if (!guardian) return limitMessage(holder.account.currency);
    return `At most ${formatMoney(guardian.creditLimit, guardian.currency)}, the guardian’s limit.`;
  }

  function seeCard(ctx: Context, cardId: string, done: string): void {
    ctx.status = 303;
    ctx.redirect(`/admin/cards/${cardId}?done=${done}`);
  }

  /**
   * The new number and password, this once: the answer to the form's POST (no-store, as every console page), never a
   * redirect to a page that could show them again. The old card's page and the new one's show neither.
   */
  function reissuedPage(ctx: Context, found: Found, issued: Reissued): Promise<void> {
    return send(ctx, 201, 'admin/reissued', {
      title: 'Card reissued',
      holder: presentHolder(found.holder),
      oldLast4: found.card.last4,
      newCardId: issued.cardId,
      number: issued.cardNumber.replace(/(\d{4})(?=\d)/g, '$1 '),
      password: issued.password,
    });
  }

  return router;
}

/** A limit typed in the account's currency as the pages show money ("250,000"), in minor units; undefined if not one. */
function typedLimit(typed: string, currency: string): number | undefined {
  const t = typed.trim();
  return t === '' ? undefined : parseTypedAmount(t, currency);
}

/** The page's words for a limit that is not one: in the account's money, never "minor units". */
function limitMessage(currency: string): string {
  const amount = wholeAmounts(currency) ? 'a whole amount' : 'an amount';
  return `Enter ${amount} in ${currency} from ${formatMoney(0, currency)} to ${formatMoney(MAX_AMOUNT, currency)}, as 250,000.`;
}

/** An amount typed in money ("25,000", "12.50"), in minor units; undefined if not one. */
function typedMoney(typed: string, currency: string): number | undefined {
  const t = typed.trim();
  return t === '' ? undefined : parseTypedAmount(t, currency);
}

/** What is wrong with a typed amount of money, in the page's words (never "minor units"); undefined if nothing. */
function amountMessage(typed: string, amount: number | undefined, currency: string): string | undefined {
  if (amount === 0) return `The amount must be positive: more than ${formatMoney(0, currency)}.`;
  if (amount !== undefined) return undefined;
  const kind = wholeAmounts(currency) ? 'a whole amount' : 'an amount';
  return typed.trim() === '' ? `Enter the amount, in ${currency}.` : `Enter ${kind} in ${currency} up to ${formatMoney(MAX_AMOUNT, currency)}, as 25,000.`;
}
