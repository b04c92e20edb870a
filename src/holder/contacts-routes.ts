import Router from '@koa/router';
import type { Context, Middleware } from 'koa';
import { z } from 'zod';
import { confirmContactChange } from '../cards/confirm-contact-change.ts';
import type { ContactChangeDeps } from '../cards/contact-change.ts';
import { MAX_EMAIL_LENGTH } from '../cards/email-address.ts';
import { codeField, passwordField, plainText } from '../cards/input-fields.ts';
import { MAX_MOBILE_INPUT } from '../cards/mobile-number.ts';
import { codeMinutes } from '../cards/one-time-code.ts';
import { requestContactChange } from '../cards/request-contact-change.ts';
import { setLanguage } from '../cards/set-language.ts';
import { findAccount } from '../db/cards.ts';
import { findOpenContactChange } from '../db/contact-changes.ts';
import { NotFoundError } from '../errors.ts';
import { csrfToken } from '../http/csrf.ts';
import { attemptSource } from '../http/device-cookie.ts';
import { formPages, type FormPage } from '../http/form-page.ts';
import type { Renderer } from '../http/render.ts';
import { jsonBody, parseWith } from '../http/validate.ts';
import { formatMobile } from '../lib/format-mobile.ts';
import { LOCALE_NAMES, LOCALES, type Locale } from '../lib/i18n.ts';
import { maskContact } from '../lib/mask-contact.ts';
import type { ThrottleDeps } from '../throttles/guard-attempt.ts';
import { guardCode } from '../throttles/guard-proof.ts';
import { holderNav, withHolderPassword, type HolderState } from './session.ts';

export interface ContactsRouteDeps {
  parseBody: Middleware;
  /** A closed card's holder keeps their contacts current too: statements still go there. */
  requireHolderOrFormer: Middleware;
  render: Renderer;
  contacts: ContactChangeDeps;
  /** The password typed again counts like every password proof; wrong codes count against the source. */
  throttle: ThrottleDeps;
}

const contactFields = {
  email: plainText(MAX_EMAIL_LENGTH).optional(),
  mobile: plainText(MAX_MOBILE_INPUT).optional(),
  password: passwordField,
};
const codeFields = { email_code: codeField.optional(), mobile_code: codeField.optional(), current_code: codeField.optional() };

/** POST /api/holder/contacts: a new email, a new mobile or both, and the card password; unknown keys are refused. */
export const contactsApiInput = z.strictObject(contactFields);
/** POST /api/holder/contacts/confirm: the code sent to each new address, and the one sent to the contact kept. */
export const confirmApiInput = z.strictObject(codeFields);
const contactsFormInput = z.object(contactFields);
const confirmFormInput = z.object(codeFields);

const LANGUAGE_CHOICE = `Choose a language from the list (${LOCALES.join(', ')}).`;
const languageField = z.enum(LOCALES, { error: LANGUAGE_CHOICE });
/** PUT /api/holder/contacts/language: the language of the holder's messages, nothing else (unknown keys are refused). */
export const languageApiInput = z.strictObject({ language: languageField });
const languageFormInput = z.object({ language: languageField });
const LANGUAGE_SET = 'Your messages will be in {language} from the next one on.';

const CHANGED = 'Your contact details are changed. We told your old ones too.';
const SENT = 'We sent a code to the new address and one to the contact you keep. Enter both here to make the change.';

const FORM: FormPage<typeof contactsFormInput> = {
  view: 'holder/contacts',
  title: 'Contact details',
  purpose: 'holder:contacts',
  fields: ['email', 'mobile', 'password'],
  keep: ['email', 'mobile'],
  schema: contactsFormInput,
};

const LANGUAGE: FormPage<typeof languageFormInput> = {
  view: 'holder/contacts',
  title: 'Contact details',
  purpose: 'holder:contacts:language',
  fields: ['language'],
  keep: ['language'],
  schema: languageFormInput,
  onlyItsFields: 'This form takes only the language.',
};

const CONFIRM: FormPage<typeof confirmFormInput> = {
  view: 'holder/contacts-confirm',
  title: 'Confirm your new contact details',
  purpose: 'holder:contacts:confirm',
  fields: ['email_code', 'mobile_code', 'current_code'],
  keep: [],
  schema: confirmFormInput,
};

/**
 * The signed-in holder changes their email and/or mobile: a page (/card/contacts: form → codes → done) and a JSON
 * API (/api/holder/contacts). The card password again, then a code to each new address; see cards/request-contact-change.ts.
 * The same page and API set the language the holder's messages are written in (/card/contacts/language, PUT
 * /api/holder/contacts/language): no password, as it opens nothing and every message still goes to the same contacts.
 */
export function contactsRoutes(deps: ContactsRouteDeps): Router {
  const router = new Router();
  router.use(['/card/contacts', '/api/holder/contacts'], deps.parseBody, deps.requireHolderOrFormer);
  const { show, submit } = formPages(deps.render);
  const { contacts, throttle } = deps;
  // The code page says how long the codes live, as the messages carrying them do.
  const minutes = codeMinutes(contacts.codes);

  async function current(ctx: Context) {
    const { accountId } = ctx.state.holder as HolderState;
    const account = await findAccount(contacts.db, accountId);
    if (!account) throw new NotFoundError('There is no such account.');
    const open = await findOpenContactChange(contacts.db, accountId);
    const kept = open?.proofChannel === 'email' ? maskContact('email', account.email) : maskContact('mobile', account.mobile);
    const pending =
      open && !open.expired
        ? { email: maskContact('email', open.newEmail), mobile: maskContact('mobile', open.newMobile), current: kept, expiresAt: open.expiresAt }
        : null;
    // The page writes the mobile for reading (+82 10-2222-3333); the API keeps it as stored (E.164).
    return {
      email: account.email,
      mobile: account.mobile,
      mobileShown: account.mobile ? formatMobile(account.mobile) : null,
      language: account.locale,
      pending,
    };
  }

  /** The page's locals: it carries two forms (contacts, language), each with its own csrf token. */
  async function pageLocals(ctx: Context) {
    return {
      nav: await holderNav(ctx, contacts.db),
      current: await current(ctx),
      languages: LOCALES.map((code) => ({ code, name: LOCALE_NAMES[code] })),
      tokens: { contacts: csrfToken(ctx, FORM.purpose), language: csrfToken(ctx, LANGUAGE.purpose) },
    };
  }

  async function formPage(ctx: Context): Promise<FormPage<typeof contactsFormInput>> {
    return { ...FORM, locals: await pageLocals(ctx) };
  }

  async function languagePage(ctx: Context): Promise<FormPage<typeof languageFormInput>> {
    return { ...LANGUAGE, locals: await pageLocals(ctx) };
  }

  /** Sets the language of the signed-in holder's messages. */
  async function chooseLanguage(ctx: Context, locale: Locale) {
    const { accountId, cardId } = ctx.state.holder as HolderState;
    return setLanguage(contacts.db, { accountId, locale, actor: `card:${cardId}`, requestId: ctx.state.requestId });
  }

  async function confirmPage(ctx: Context): Promise<FormPage<typeof confirmFormInput> | undefined> {
    const { pending } = await current(ctx);
    return pending ? { ...CONFIRM, locals: { nav: await holderNav(ctx, contacts.db), pending, minutes } } : undefined;
  }

  /** Asks for the change: the password proof counted against the source and the card, like the login page's. */
  async function request(ctx: Context, input: { email?: string | undefined; mobile?: string | undefined; password: string }) {
    const { accountId, cardId } = ctx.state.holder as HolderState;
    return withHolderPassword(ctx, { throttle, db: contacts.db }, () =>
      requestContactChange(contacts, { accountId, cardId, ...input, requestId: ctx.state.requestId }),
    );
  }

  /** Confirms with the codes: wrong codes count against the source (never the card: guardCode). */
  async function confirm(ctx: Context, input: { email_code?: string | undefined; mobile_code?: string | undefined; current_code?: string | undefined }) {
    const { accountId, cardId } = ctx.state.holder as HolderState;
    return guardCode(throttle, attemptSource(ctx), () =>
      confirmContactChange(contacts, {
        accountId,
        cardId,
        emailCode: input.email_code,
        mobileCode: input.mobile_code,
        currentCode: input.current_code,
        requestId: ctx.state.requestId,
      }),
    );
  }

  router.get('/card/contacts', async function showContacts(ctx) {
    await show(ctx, await formPage(ctx));
  });

  router.post('/card/contacts', async function askForContactChange(ctx) {
    await submit(ctx, await formPage(ctx), async (input) => {
      await request(ctx, input);
      const page = await confirmPage(ctx);
      if (page) await show(ctx, page, { notice: SENT });
    });
  });

  router.post('/card/contacts/language', async function chooseMessageLanguage(ctx) {
    await submit(ctx, await languagePage(ctx), async (input) => {
      const set = await chooseLanguage(ctx, input.language);
      await show(ctx, await languagePage(ctx), { notice: LANGUAGE_SET.replace('{language}', LOCALE_NAMES[set.to]), values: { language: set.to } });
    });
  });

  router.get('/card/contacts/confirm', async function showContactCodes(ctx) {
    const page = await confirmPage(ctx);
    if (page) return show(ctx, page);
    ctx.status = 303;
    ctx.redirect('/card/contacts');
  });

  router.post('/card/contacts/confirm', async function confirmContactsByForm(ctx) {
    // No change pending (expired, used, replaced): the form still reads and checks the post, then says so.
    const page = (await confirmPage(ctx)) ?? { ...CONFIRM, locals: { nav: await holderNav(ctx, contacts.db), pending: null, minutes } };
    await submit(ctx, page, async (input) => {
      await confirm(ctx, input);
      await show(ctx, await formPage(ctx), { notice: CHANGED });
    });
  });

  router.get('/api/holder/contacts', async function readContacts(ctx) {
    const c = await current(ctx);
    ctx.body = {
      email: c.email,
      mobile: c.mobile,
      language: c.language,
      pending: c.pending && { email: c.pending.email, mobile: c.pending.mobile, current: c.pending.current, expires_at: c.pending.expiresAt.toISOString() },
    };
  });

  router.post('/api/holder/contacts', async function askForContactChangeApi(ctx) {
    const input = parseWith(contactsApiInput, jsonBody(ctx));
    const sent = await request(ctx, input);
    ctx.status = 202;
    ctx.body = { status: 'pending', sent_to: { email: sent.email, mobile: sent.mobile, current: sent.current.address }, expires_in: sent.expiresInSeconds };
  });

  router.put('/api/holder/contacts/language', async function setMessageLanguage(ctx) {
    const input = parseWith(languageApiInput, jsonBody(ctx));
    const set = await chooseLanguage(ctx, input.language);
    ctx.body = { language: set.to, changed: set.changed };
  });

  router.post('/api/holder/contacts/confirm', async function confirmContactsApi(ctx) {
    const input = parseWith(confirmApiInput, jsonBody(ctx));
    const account = await confirm(ctx, input);
    ctx.body = { status: 'changed', email: account.email, mobile: account.mobile };
  });

  return router;
}
