import { open, unlink } from 'node:fs/promises';
import pino from 'pino';
import { z } from 'zod';
import { auditTrail } from '../cards/audit-trail.ts';
import { blockCard, type StatusChange } from '../cards/block.ts';
import { formatCardNumber } from '../cards/card-number.ts';
import { changeLimit } from '../cards/change-limit.ts';
import { closeCard } from '../cards/close.ts';
import { correctContacts } from '../cards/correct-contacts.ts';
import type { CardDeps } from '../cards/deps.ts';
import { exportHolderDataForOperator } from '../cards/export-holder-data.ts';
import { findCardByNumber } from '../cards/find-card-by-number.ts';
import { findCards } from '../cards/find-cards.ts';
import type { HolderView } from '../cards/holder-view.ts';
import { createPasswordHasher } from '../cards/password.ts';
import { reissue } from '../cards/reissue.ts';
import { reportLost } from '../cards/report-lost.ts';
import type { StatusChanged } from '../cards/transition.ts';
import { unblockCard } from '../cards/unblock.ts';
import type { Config } from '../config/schema.ts';
import type { Db } from '../db/knex.ts';
import { ValidationError } from '../errors.ts';
import { holderDataFile } from '../holder/data-file.ts';
import { noSuchCard } from '../cards/no-such-card.ts';
import { createLogger } from '../log.ts';
import { createTransports } from '../notifications/create-transports.ts';
import { sendDueNotifications } from '../notifications/sender.ts';
import { removeSecondFactor } from '../second-factor/remove-second-factor.ts';
import { cardChangeInput, cardSearchInput, contactsInput, exportInput, limitInput } from './card-inputs.ts';
import { cliActor } from './cli-actor.ts';
import { cliArgs, wholeNumber } from './cli-options.ts';
import { parseInput, SOME_FIELDS } from './operator-input.ts';

type Handler = (ctx: { config: Config; db: Db; args: string[] }) => Promise<void>;

export const CARD_COMMANDS_USAGE = `  cards find (--number N | --name NAME | --email E | --mobile M)
                                            look a holder up; shows the last four digits of each card
  cards block|unblock|close|lost --card ID|NUMBER --reason TEXT
                                            suspend, lift a suspension, close, or report a card lost
  cards reissue --card ID|NUMBER --reason TEXT
                                            new number and password for the same account; printed once
  cards remove-second-factor --card ID|NUMBER --reason TEXT
                                            remove the holder's authenticator app (a lost phone)
  cards limit --card ID|NUMBER --amount MINOR_UNITS --reason TEXT
                                            set the holder account's credit limit
  cards contacts --card ID|NUMBER [--email E] [--mobile M] --reason TEXT
                                            correct the holder's email and/or mobile (identity checked out of band)
  cards audit --card ID|NUMBER              the audit trail of the card's holder account
  cards export --card ID|NUMBER [--out FILE] [--reason TEXT]
                                            the holder's copy of their data (as /card/data gives it) for a
                                            data-subject request, printed or written to a new FILE; audited
                                            (with --reason, e.g. the request's reference, kept in the entry)
  notifications send                        send every due notification in the outbox now
`;

function cardDeps(config: Config, db: Db): CardDeps {
  const hasher = createPasswordHasher({ ...config.argon2, pepper: config.secrets.passwordPepper });
  return { db, hasher, cardHmacKey: config.secrets.cardHmacKey, issuerPrefix: config.cards.issuerPrefix, currency: config.currency };
}

/** A card id, or a card number (which is looked up and never echoed). */
async function resolveCard(config: Config, db: Db, card: string | undefined): Promise<string> {
  if (!card) throw new ValidationError(SOME_FIELDS, { card_id: 'Give a card id or number.' });
  if (z.uuid().safeParse(card).success) return card;
  const found = await findCardByNumber(db, config.secrets.cardHmacKey, card);
  if (!found) throw noSuchCard();
  return found.id;
}

const CHANGE_OPTIONS = { card: { type: 'string' }, reason: { type: 'string' } } as const;

/** The card and the reason of a change, checked as the API checks them. */
async function statusChange(config: Config, db: Db, args: string[]): Promise<StatusChange> {
  const { values } = cliArgs(args, CHANGE_OPTIONS);
  const cardId = await resolveCard(config, db, values.card);
  const { reason } = parseInput(cardChangeInput, { card_id: cardId, reason: values.reason });
  return { cardId, reason, actor: cliActor() };
}

/** `--out FILE` opened for writing, created now (never over an existing file) with mode 0600. */
async function newFile(path: string) {
  try {
    return { path, handle: await open(path, 'wx', 0o600) };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') throw new ValidationError(SOME_FIELDS, { out: 'A file of this name exists already: give a new one (nothing is written over).' });
    throw err;
  }
}

function printHolder(h: HolderView): void {
  const a = h.account;
  console.log(`account ${a.id}  ${a.legalName}  born ${a.birthdate}`);
  console.log(`  email ${a.email ?? '-'}  mobile ${a.mobile ?? '-'}  language ${a.locale}  limit ${a.creditLimit} ${a.currency}`);
  for (const c of h.cards) console.log(`  card ${c.id}  **** ${c.last4}  ${c.status}  since ${c.createdAt.toISOString()}`);
}

function statusCommand(act: (db: Db, change: StatusChange) => Promise<StatusChanged>): Handler {
  return async ({ config, db, args }) => {
    const { card, changed } = await act(db, await statusChange(config, db, args));
    console.log(changed ? `card **** ${card.last4} is now ${card.status}` : `card **** ${card.last4} was ${card.status} already: nothing changed`);
  };
}

/** The operator's card commands for src/cli.ts. */
export const cardCommands: Record<string, Handler> = {
  async 'cards find'({ db, config, args }) {
    const { values } = cliArgs(args, { number: { type: 'string' }, name: { type: 'string' }, email: { type: 'string' }, mobile: { type: 'string' } });
    const q = parseInput(cardSearchInput, values);
    const found = await findCards(
      { db, cardHmacKey: config.secrets.cardHmacKey, mobileCallingCode: config.cards.mobileCallingCode },
      q.number !== undefined ? { number: q.number } : { name: q.name, email: q.email, mobile: q.mobile },
    );
    if (found.length === 0) console.log('no holder found');
    for (const h of found) printHolder(h);
  },

  'cards block': statusCommand(blockCard),
  'cards unblock': statusCommand(unblockCard),
  'cards close': statusCommand(closeCard),
  'cards lost': statusCommand((db, c) => reportLost(db, { ...c, proof: 'operator' })),

  async 'cards reissue'({ config, db, args }) {
    const issued = await reissue(cardDeps(config, db), await statusChange(config, db, args));
    console.log(`card reissued for account ${issued.accountId} (card ${issued.cardId})
  card number: ${formatCardNumber(issued.cardNumber)}
  password:    ${issued.password}
Hand these to the holder now: they are not shown again.`);
  },

  async 'cards remove-second-factor'({ config, db, args }) {
    const removed = await removeSecondFactor(db, await statusChange(config, db, args));
    console.log(removed.removed ? `the authenticator app of card **** ${removed.last4} is removed` : `card **** ${removed.last4} had no authenticator app`);
  },

  async 'cards limit'({ config, db, args }) {
    const { values } = cliArgs(args, { ...CHANGE_OPTIONS, amount: { type: 'string' } });
    const cardId = await resolveCard(config, db, values.card);
    const input = parseInput(limitInput, { card_id: cardId, credit_limit: wholeNumber(values.amount), reason: values.reason });
    const changed = await changeLimit(db, { cardId, creditLimit: input.credit_limit, reason: input.reason, actor: cliActor() });
    if (!changed.changed) return console.log(`credit limit of account ${changed.accountId} was ${changed.to} ${changed.currency} already: nothing changed`);
    console.log(`credit limit of account ${changed.accountId}: ${changed.from} → ${changed.to} ${changed.currency}`);
    for (const w of changed.lowered) {
      console.log(`  lowered with it (a child's limit never exceeds the guardian's): ${w.legalName}, account ${w.accountId}: ${w.from} → ${w.to} ${changed.currency}`);
    }
  },

  async 'cards contacts'({ config, db, args }) {
    const { values } = cliArgs(args, { ...CHANGE_OPTIONS, email: { type: 'string' }, mobile: { type: 'string' } });
    const cardId = await resolveCard(config, db, values.card);
    const input = parseInput(contactsInput, { card_id: cardId, email: values.email, mobile: values.mobile, reason: values.reason });
    const changed = await correctContacts(
      { db, mobileCallingCode: config.cards.mobileCallingCode },
      { cardId, email: input.email, mobile: input.mobile, reason: input.reason, actor: cliActor() },
    );
    console.log(`contacts of account ${changed.id}: email ${changed.email ?? '-'}  mobile ${changed.mobile ?? '-'}`);
  },

  async 'cards audit'({ config, db, args }) {
    const { values } = cliArgs(args, { card: { type: 'string' } });
    const entries = await auditTrail(db, await resolveCard(config, db, values.card));
    for (const e of entries) {
      console.log(`${e.at.toISOString()}  ${e.actor}  ${e.action}  ${e.subjectType}:${e.subjectId}  ${JSON.stringify(e.details ?? {})}`);
    }
  },

  async 'cards export'({ config, db, args }) {
    const { values } = cliArgs(args, { card: { type: 'string' }, out: { type: 'string' }, reason: { type: 'string' } });
    const cardId = await resolveCard(config, db, values.card);
    const { reason } = parseInput(exportInput, { card_id: cardId, reason: values.reason });
    if (values.out === '') throw new ValidationError(SOME_FIELDS, { out: 'Give the name of a new file, or leave --out out to print the file.' });
    // A new file only, readable by its owner alone: it holds all the account knows of its holder.
    const out = values.out === undefined ? undefined : await newFile(values.out);
    try {
      // The CLI's login counts as an operator of its own (cli:<login>), on its one pool.
      const exportsPerHour = { db, max: config.holderData.operatorExportsPerHour };
      const copy = await exportHolderDataForOperator({ db, timeZone: config.billing.timeZone, exportsPerHour }, { cardId, reason, actor: cliActor() });
      const { text } = holderDataFile(copy.data, config.billing.timeZone);
      if (!out) return void process.stdout.write(`${text}\n`);
      await out.handle.writeFile(`${text}\n`);
      await out.handle.close();
      console.log(`wrote the data of account ${copy.accountId} (card **** ${copy.cardLast4}) to ${out.path}`);
    } catch (err) {
      // No half-written or empty file is left behind (a card no one has, a failed write).
      if (out) await out.handle.close().catch(() => undefined).then(() => unlink(out.path));
      throw err;
    }
  },

  async 'notifications send'({ config, db, args }) {
    cliArgs(args, {});
    // Log lines go to stderr, so stdout carries only the summary.
    const log = createLogger(config.logLevel, pino.destination(2));
    const result = await sendDueNotifications({
      db,
      log,
      transports: createTransports(config),
      baseUrl: config.issuer,
      maxAttempts: config.notifications.maxAttempts,
    });
    console.log(`sent ${result.sent}, failed ${result.failed}`);
  },
};
