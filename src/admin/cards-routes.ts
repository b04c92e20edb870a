import Router from '@koa/router';
import type { Context, Middleware } from 'koa';
import { auditTrail } from '../cards/audit-trail.ts';
import type { StatusChange } from '../cards/block.ts';
import { changeLimit } from '../cards/change-limit.ts';
import { correctContacts } from '../cards/correct-contacts.ts';
import type { CardDeps } from '../cards/deps.ts';
import { exportHolderDataForOperator, type OperatorDataDeps } from '../cards/export-holder-data.ts';
import { findCards } from '../cards/find-cards.ts';
import { reissue } from '../cards/reissue.ts';
import { showCard } from '../cards/show-card.ts';
import { removeSecondFactor } from '../second-factor/remove-second-factor.ts';
import { jsonBody } from '../http/validate.ts';
import { holderDataFile, sendHolderDataFile } from '../holder/data-file.ts';
import { CARD_STATUS_ACTIONS } from './card-status-actions.ts';
import { cardChangeInput, cardIdParam, exportInput, cardSearchInput, contactsInput, limitInput } from './card-inputs.ts';
import { parseInput } from './operator-input.ts';
import { presentAudit, presentHolder } from './present-card.ts';
import { requireOperator, type OperatorCredentials } from './require-operator.ts';

export interface AdminCardDeps {
  parseBody: Middleware;
  cards: CardDeps;
  operatorAuth: OperatorCredentials;
  /** Mobile numbers typed in national form are searched in E.164 too (config cards.mobileCallingCode). */
  mobileCallingCode: string;
  /** The time zone a copy of the holder's data tells its activity's times in (config billing.timeZone), as the holder's. */
  timeZone: string;
  /** The copies of holders' data one operator may give out an hour (config holderData.operatorExportsPerHour), on the throttles' pool. */
  exportsPerHour: OperatorDataDeps['exportsPerHour'];
}

/**
 * The operator API for cards: look up, block, unblock, close, report lost, reissue, remove the second factor, change limit,
 * correct the holder's email and mobile, audit trail, a copy of the holder's data.
 */
export function adminCardRoutes({ parseBody, cards, operatorAuth, mobileCallingCode, timeZone, exportsPerHour }: AdminCardDeps): Router {
  const router = new Router({ prefix: '/admin/api/cards' });
  router.use(requireOperator(operatorAuth));
  router.use(parseBody);
  router.use(async function noStore(ctx: Context, next) {
    ctx.set('Cache-Control', 'no-store');
    await next();
  });

  /** The body with the path's card id (card_id), so both are checked (and reported) together. */
  function withCardId(ctx: Context): Record<string, unknown> {
    return { ...jsonBody(ctx), card_id: ctx.params.cardId };
  }

  /** The validated card id and the operator's reason for a change. */
  function change(ctx: Context): StatusChange {
    const { card_id: cardId, reason } = parseInput(cardChangeInput, withCardId(ctx));
    return { cardId, reason, actor: String(ctx.state.actor ?? 'operator'), requestId: ctx.state.requestId };
  }

  const cardOf = (ctx: Context) => parseInput(cardIdParam, { card_id: ctx.params.cardId }).card_id;

  // A card number is a search body, never a URL: URLs end up in proxy and browser logs.
  router.post('/search', async function searchCards(ctx) {
    const q = parseInput(cardSearchInput, jsonBody(ctx));
    const found = await findCards({ ...cards, mobileCallingCode }, q.number !== undefined ? { number: q.number } : { name: q.name, email: q.email, mobile: q.mobile });
    ctx.body = { holders: found.map(presentHolder) };
  });

  router.get('/:cardId', async function showOneCard(ctx) {
    ctx.body = presentHolder(await showCard(cards.db, cardOf(ctx)));
  });

  router.get('/:cardId/audit', async function showAuditTrail(ctx) {
    ctx.body = { entries: (await auditTrail(cards.db, cardOf(ctx))).map(presentAudit) };
  });

  // A data-subject request (PIPA art. 35, GDPR art. 15) from a holder who cannot sign in: the file /card/data gives,
  // for the account of any card it ever had. Read-only but for its audit entry (operator.holder_data_exported).
  // Why, optional for now: ?reason= (the request's reference), checked before anything is read or written. Past the
  // operator's hourly copies, 429 too_many_exports with Retry-After (the error handler's, from the error).
  router.get('/:cardId/export', async function exportHoldersData(ctx) {
    const input = parseInput(exportInput, { card_id: ctx.params.cardId, reason: ctx.query.reason });
    const by = { cardId: input.card_id, reason: input.reason, actor: String(ctx.state.actor ?? 'operator'), requestId: ctx.state.requestId };
    const { data } = await exportHolderDataForOperator({ db: cards.db, timeZone, exportsPerHour }, by);
    sendHolderDataFile(ctx, holderDataFile(data, timeZone));
  });

  for (const [name, act] of Object.entries(CARD_STATUS_ACTIONS)) {
    router.post(`/:cardId/${name}`, async function changeCardStatus(ctx) {
      const { card, changed } = await act(cards.db, change(ctx));
      // A card already in the status asked for answers as it is, changed: false (nothing audited, revoked or sent).
      ctx.body = { id: card.id, last4: card.last4, status: card.status, changed };
    });
  }

  router.post('/:cardId/reissue', async function reissueCard(ctx) {
    const issued = await reissue(cards, change(ctx));
    ctx.status = 201;
    ctx.body = {
      id: issued.cardId,
      account_id: issued.accountId,
      replaces: issued.oldCardId,
      card_number: issued.cardNumber,
      password: issued.password,
      last4: issued.cardNumber.slice(-4),
    };
  });

  // The holder lost the phone with their authenticator app (identity checked as for a reissue).
  router.post('/:cardId/second-factor/remove', async function removeHoldersSecondFactor(ctx) {
    const removed = await removeSecondFactor(cards.db, change(ctx));
    ctx.body = { last4: removed.last4, removed: removed.removed };
  });

  router.put('/:cardId/limit', async function changeCreditLimit(ctx) {
    const input = parseInput(limitInput, withCardId(ctx));
    const changed = await changeLimit(cards.db, {
      cardId: input.card_id,
      creditLimit: input.credit_limit,
      reason: input.reason,
      actor: String(ctx.state.actor ?? 'operator'),
      requestId: ctx.state.requestId,
    });
    ctx.body = {
      account_id: changed.accountId,
      currency: changed.currency,
      from: changed.from,
      credit_limit: changed.to,
      // The guardian's children whose limits came down with this one: a child's never exceeds the guardian's.
      lowered_wards: changed.lowered.map((w) => ({ account_id: w.accountId, legal_name: w.legalName, from: w.from, credit_limit: w.to })),
      // A limit set to what it was already answers as it is, changed: false (nothing audited), as a status change does.
      changed: changed.changed,
    };
  });

  // The holder lost both contacts, or cannot receive codes at the new ones (identity checked out of band).
  router.put('/:cardId/contacts', async function correctHolderContacts(ctx) {
    const input = parseInput(contactsInput, withCardId(ctx));
    const changed = await correctContacts(
      { db: cards.db, mobileCallingCode },
      {
        cardId: input.card_id,
        email: input.email,
        mobile: input.mobile,
        reason: input.reason,
        actor: String(ctx.state.actor ?? 'operator'),
        requestId: ctx.state.requestId,
      },
    );
    ctx.body = { account_id: changed.id, email: changed.email, mobile: changed.mobile };
  });

  return router;
}
