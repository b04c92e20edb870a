import { formatMoney } from '../lib/money.ts';

type Data = Record<string, unknown>;

interface Template {
  subject: string;
  text(d: Data, links: Links): string;
  /** Data fields that must not outlive the sending (one-time codes). */
  secrets?: readonly string[];
}

interface Links {
  lost: string;
  reissue: string;
  children: string;
}

const s = (d: Data, key: string): string => (d[key] === undefined || d[key] === null ? '' : String(d[key]));
const money = (d: Data, key: string): string => formatMoney(Number(d[key] ?? 0), s(d, 'currency'));
const notYou = (l: Links) => `If this was not you, block your card at once: ${l.lost}`;
const code = (what: string) => (d: Data) =>
  `Your code to ${what} the cyber card ending in ${s(d, 'last4')}: ${s(d, 'code')}\n` +
  `It expires in ${s(d, 'minutes')} minutes and works once. Nobody from cybercard will ever ask you for it.`;

/**
 * Every message the card manager sends, rendered to plain text (the same words by email and by SMS).
 * Data never holds a card number or password; codes are listed in `secrets` and dropped once sent.
 */
export const TEMPLATES: Readonly<Record<string, Template>> = {
  application_received: {
    subject: 'We received your cyber card application',
    text: () => 'We received your application for a cyber card. We will tell you as soon as it has been checked.',
  },
  application_approved: {
    subject: 'Your cyber card application was approved',
    text: (d) => `Your application was approved${d.last4 ? `: your card ends in ${s(d, 'last4')}` : ''}.`,
  },
  application_rejected: {
    subject: 'Your cyber card application was not approved',
    text: (d) => `Your application was not approved${d.reason ? `: ${s(d, 'reason')}` : '.'}`,
  },
  card_issued: {
    subject: 'Your cyber card was issued',
    text: (d, l) => `Your cyber card ending in ${s(d, 'last4')} has been issued. ${notYou(l)}`,
  },
  card_blocked: {
    subject: 'Your cyber card is blocked',
    text: (d, l) =>
      d.why === 'suspended'
        ? `Your cyber card ending in ${s(d, 'last4')} has been blocked by cybercard and every member site has been signed out. ` +
          'We will tell you when it is unblocked.'
        : `Your cyber card ending in ${s(d, 'last4')} was reported lost and is blocked. Every member site has been signed out. ` +
          `Get a new card number, with your balance and history, at ${l.reissue}`,
  },
  card_closed: {
    subject: 'Your cyber card was closed',
    text: (d, l) =>
      `Your cyber card ending in ${s(d, 'last4')} was closed by cybercard and no longer works; every member site has been signed out. ` +
      `What is on your statement is still due. ${notYou(l)}`,
  },
  card_unblocked: {
    subject: 'Your cyber card works again',
    text: (d, l) => `Your cyber card ending in ${s(d, 'last4')} is unblocked and works again. ${notYou(l)}`,
  },
  card_reissued: {
    subject: 'Your new cyber card number',
    text: (d, l) =>
      `Your new cyber card ends in ${s(d, 'last4')} and replaces the card ending in ${s(d, 'oldLast4')}, which no longer works. ` +
      `Your limit, balance and history carry over. ${notYou(l)}`,
  },
  second_factor_set: {
    subject: 'An authenticator app was set up for your cyber card',
    text: (d, l) =>
      `An authenticator app was ${d.replaced ? 'set up in place of the one you had' : 'set up'} for your cyber card ending in ${s(d, 'last4')}: ` +
      `large payments now ask for its codes. ${notYou(l)}`,
  },
  second_factor_removed: {
    subject: 'The authenticator app of your cyber card was removed',
    text: (d, l) =>
      `At your request, cybercard removed the authenticator app of your cyber card ending in ${s(d, 'last4')}. ` +
      `Set up a new one on your card's Second factor page before your next large payment. ${notYou(l)}`,
  },
  password_changed: {
    subject: 'Your cyber card password was changed',
    text: (d, l) =>
      `The password of your cyber card ending in ${s(d, 'last4')} was ${d.method === 'reset' ? 'reset' : 'changed'}. ${notYou(l)}`,
  },
  password_reset_code: { subject: 'Your password reset code', text: code('reset the password of'), secrets: ['code'] },
  lost_card_code: { subject: 'Your code to block your card', text: code('block'), secrets: ['code'] },
  reissue_code: { subject: 'Your code for a new card number', text: code('get a new number for'), secrets: ['code'] },
  contacts_change_code: {
    subject: 'Your code to confirm your new contact details',
    text: (d) =>
      `Your code to make this ${d.channel === 'sms' ? 'mobile number' : 'email address'} the new one of the cyber card ending in ${s(d, 'last4')}: ${s(d, 'code')}\n` +
      `It expires in ${s(d, 'minutes')} minutes and works once. Nobody from cybercard will ever ask you for it. If you did not ask for this, ignore it.`,
    secrets: ['code'],
  },
  contacts_change_proof: {
    subject: 'Someone asked to change the contact details of your cyber card',
    text: (d, l) =>
      `Someone signed in with your cyber card ending in ${s(d, 'last4')} asked to make ${d.newEmail ? `${s(d, 'newEmail')} its email address` : `${s(d, 'newMobile')} its mobile number`}. ` +
      `If that was you, your code to allow it: ${s(d, 'code')} (it expires in ${s(d, 'minutes')} minutes and works once; nobody from cybercard will ever ask you for it).\n` +
      `If it was not you, do not give the code to anyone: someone knows your card password. Block your card at once: ${l.lost}`,
    secrets: ['code'],
  },
  contacts_changed: {
    subject: 'The contact details of your cyber card were changed',
    text: (d, l) =>
      `${d.by === 'operator' ? 'cybercard changed' : 'You changed'} the contact details of your cyber card ending in ${s(d, 'last4')}: ` +
      [d.newEmail ? `email address now ${s(d, 'newEmail')}` : '', d.newMobile ? `mobile number now ${s(d, 'newMobile')}` : ''].filter(Boolean).join(', ') +
      `. Codes and notices now go there. If this was not you, block your card at once (${l.lost}) and contact cybercard.`,
  },
  contacts_confirmed: {
    subject: 'Your new contact details are confirmed',
    text: (d, l) => `This is now the ${d.channel === 'sms' ? 'mobile number' : 'email address'} of your cyber card ending in ${s(d, 'last4')}. ${notYou(l)}`,
  },
  new_device_login: {
    subject: 'New sign-in with your cyber card',
    text: (d, l) => `Your cyber card was used to log in to ${s(d, 'site')} from a new device (${s(d, 'at')}). ${notYou(l)}`,
  },
  limit_set_by_guardian: {
    subject: 'Your guardian changed the limit of your cyber card',
    text: (d) =>
      Number(d.amount) === 0
        ? `Your guardian set the limit of your cyber card ending in ${s(d, 'last4')} to ${money(d, 'amount')}: its payments are paused ` +
          'until they raise it. Signing in still works.'
        : `Your guardian set the limit of your cyber card ending in ${s(d, 'last4')} to ${money(d, 'amount')} (it was ${money(d, 'previous')}).`,
  },
  statement_day_changed: {
    subject: 'The statement day of your cyber card changed',
    text: (d, l) =>
      `${d.by === 'operator' ? 'cybercard changed' : d.by === 'guardian' ? 'Your guardian changed' : 'You changed'} the statement day of your cyber card ` +
      `from day ${s(d, 'previous')} to day ${s(d, 'day')} of each month. Your current statement period closes on ${s(d, 'closes')}, ` +
      `with payment due on ${s(d, 'due')}` +
      (s(d, 'first') !== s(d, 'closes') ? `; the statement of ${s(d, 'first')} is the first on day ${s(d, 'day')}.` : '.') +
      (d.by === 'holder' ? ` If this was not you, block your card at once: ${l.lost}` : ''),
  },
  payment_approved: {
    subject: 'Payment approved with your cyber card',
    text: (d, l) =>
      `Approval ${s(d, 'approvalNo')}: ${s(d, 'amount')} at ${s(d, 'site')} with your cyber card ending in ${s(d, 'last4')}. ${notYou(l)}`,
  },
  child_payment_approved: {
    subject: "A payment with your child's cyber card",
    text: (d, l) =>
      `Approval ${s(d, 'approvalNo')}: ${s(d, 'amount')} at ${s(d, 'site')} with the cyber card of ${s(d, 'name')}, ending in ` +
      `${s(d, 'last4')}, which is linked to yours. You can see its spending and set its limit on your card's page of children's cards (${l.children}).`,
  },
  card_locked: {
    subject: 'Your cyber card is locked for a while',
    text: (d, l) =>
      `Your cyber card ending in ${s(d, 'last4')} was locked after too many wrong passwords or codes, until ${s(d, 'until')}. ` +
      `If this was not you, someone may be guessing: reset your password (which also unlocks the card) or block the card at ${l.lost}`,
  },
  hold_released: {
    subject: 'A payment hold was released',
    text: (d) =>
      `The hold of ${s(d, 'amount')} for approval ${s(d, 'approvalNo')} at ${s(d, 'site')} (card ending in ${s(d, 'last4')}) ` +
      `was released${d.why === 'expired' ? ' because it was not charged in time' : ' by the member site'}. The credit is available again.`,
  },
  payment_refunded: {
    subject: 'A payment was refunded',
    text: (d) =>
      `${s(d, 'site')} refunded ${s(d, 'amount')} of approval ${s(d, 'approvalNo')} (card ending in ${s(d, 'last4')}). ` +
      'It will show on your next statement.',
  },
  dispute_opened: {
    subject: 'We received your report of a payment',
    text: (d) =>
      `We received your report of approval ${s(d, 'approvalNo')}: ${s(d, 'amount')} at ${s(d, 'site')} (card ending in ${s(d, 'last4')}). ` +
      'cybercard will look into it and tell you the outcome.',
  },
  dispute_decided: {
    subject: 'Your report of a payment was decided',
    text: (d) =>
      `Your report of approval ${s(d, 'approvalNo')} at ${s(d, 'site')} (card ending in ${s(d, 'last4')}) ` +
      (d.decision === 'refunded'
        ? `was upheld: ${[d.refunded ? `${s(d, 'refunded')} refunded` : '', d.released ? `${s(d, 'released')} held released` : ''].filter(Boolean).join(' and ')}. ` +
          'It will show on your next statement.'
        : 'was not upheld.') +
      (d.note ? ` ${s(d, 'note')}` : ''),
  },
  statement_ready: {
    subject: 'Your cyber card statement',
    text: (d) =>
      `Your statement of ${s(d, 'statementDate')} is ready: ${money(d, 'closing')} ${Number(d.closing) > 0 ? `to pay by ${s(d, 'dueDate')}` : 'owed'}. ` +
      `Pay by bank transfer with the payment reference ${s(d, 'reference')}.`,
  },
  repayment_received: {
    subject: 'We received your payment',
    text: (d) => `We received your payment of ${s(d, 'amount')}. Thank you.`,
  },
  payment_overdue: {
    subject: 'Payment overdue: new charges are paused',
    text: (d) =>
      `${d.ward ? `The statement of ${s(d, 'ward')}, whose card you are responsible for,` : 'Your statement'} of ${s(d, 'statementDate')} ` +
      `was due on ${s(d, 'dueDate')} and ${s(d, 'amount')} is still unpaid. New charges are refused until it is paid; free content stays open.`,
  },
  payment_restored: {
    subject: 'Your cyber card can pay again',
    text: (d) => `${d.ward ? `The card of ${s(d, 'ward')}` : 'Your card'} is in good standing again: new charges are accepted.`,
  },
};

export interface RenderedMessage {
  subject: string;
  text: string;
}

export class UnknownTemplateError extends Error {
  constructor(name: string) {
    super(`unknown notification template "${name}"`);
  }
}

/** The data fields of a template that must be dropped once its message is settled. */
export function templateSecrets(template: string): readonly string[] {
  return (Object.hasOwn(TEMPLATES, template) ? TEMPLATES[template]?.secrets : undefined) ?? [];
}

/** Renders a queued message; `baseUrl` is the card manager's public address, for links. */
export function renderMessage(template: string, data: Data, baseUrl: string): RenderedMessage {
  const t = Object.hasOwn(TEMPLATES, template) ? TEMPLATES[template] : undefined;
  if (!t) throw new UnknownTemplateError(template);
  const links = { lost: `${baseUrl}/card/lost`, reissue: `${baseUrl}/card/reissue`, children: `${baseUrl}/card/wards` };
  return { subject: t.subject, text: t.text(data, links) };
}
