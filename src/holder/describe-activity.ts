import type { ActivityItem, ControlChange } from '../cards/holder-activity.ts';
import { t as inRequestLanguage } from '../http/locale.ts';
import { DEFAULT_LOCALE, LOCALE_NAMES, translate } from '../lib/i18n.ts';
import { money } from '../lib/money.ts';
import { localTime } from '../lib/local-time.ts';

type Translate = (text: string, vars?: Readonly<Record<string, unknown>>) => string;

/** English whatever the request's language: the words of the JSON APIs (README, Languages). */
export const inEnglish: Translate = (text, vars) => translate(DEFAULT_LOCALE, text, vars);

/**
 * One activity entry as a sentence, in the request's language unless `t` says otherwise: the site by name,
 * amounts with their currency, times in `timeZone` (config billing.timeZone), both handed to `t` as data (Money,
 * LocalTime) for it to write in its language.
 */
export function describeActivity(item: ActivityItem, timeZone: string, t: Translate = inRequestLanguage): string {
  const site = item.site || t('a member site');
  const amount = item.amount !== null && item.currency ? money(item.amount, item.currency) : undefined;
  switch (item.kind) {
    case 'signed_in_at_site':
      return t('Signed in at {site}.', { site });
    case 'birthdate_shared':
      return t('Let {site} see your date of birth.', { site });
    case 'signed_in_to_card_pages':
      return t('Signed in to these card pages.');
    case 'wrong_password':
      return wrongPassword(item, site, t);
    case 'wrong_code_lost_card':
      return t('Wrong code when reporting the card lost.');
    case 'wrong_code_reissue':
      return t('Wrong code when asking for a new card number.');
    case 'wrong_code_password_reset':
      return t('Wrong code when resetting the password.');
    case 'codes_stopped_lost_card':
      return t('Codes to report the card lost were asked for too many times in a day: no more were sent that day.');
    case 'codes_stopped_reissue':
      return t('Codes for a new card number were asked for too many times in a day: no more were sent that day.');
    case 'codes_stopped_password_reset':
      return t('Codes to reset the password were asked for too many times in a day: no more were sent that day.');
    case 'wrong_second_factor':
      return t('Wrong authenticator code when approving a payment at {site}.', { site });
    case 'refused_card_not_active':
      return item.page === 'site_login'
        ? t('Refused at the login page of {site}: this card can no longer be used.', { site })
        : t('Refused: this card can no longer be used.');
    case 'card_locked':
      return item.until
        ? t('Card locked after too many wrong passwords or codes, until {until}.', { until: localTime(item.until, timeZone) })
        : t('Card locked after too many wrong passwords or codes.');
    case 'password_changed':
      return t('Password changed.');
    case 'password_reset':
      return t('Password reset with a code.');
    case 'card_issued':
      return t('Card issued.');
    case 'card_replaced':
      return item.newLast4 ? t('Card replaced by a new card ending {last4}.', { last4: item.newLast4 }) : t('Card replaced by a new card.');
    case 'card_suspended':
      return t('Card suspended by cybercard.');
    case 'card_unblocked':
      return t('Card unblocked.');
    case 'card_reported_lost':
      return t('Card reported lost and blocked.');
    case 'card_closed':
      return t('Card closed.');
    case 'data_exported':
      return t('You downloaded a copy of your data.');
    case 'data_given_by_cybercard':
      return t('cybercard gave out a copy of your data on a request.');
    case 'contacts_changed':
      return t('Email address or mobile number changed.');
    case 'language_changed':
      return item.language ? t('Messages are now written in {language}.', { language: LOCALE_NAMES[item.language] }) : t('Language of messages changed.');
    case 'contacts_corrected':
      return t('Email address or mobile number changed by cybercard.');
    case 'second_factor_set_up':
      return t('Authenticator app set up.');
    case 'second_factor_replaced':
      return t('Authenticator app replaced.');
    case 'second_factor_removed':
      return t('Authenticator app removed.');
    case 'spending_controls_changed':
      return controlsChanged(item, t);
    case 'credit_limit_changed':
      return amount && item.previousAmount !== null
        ? t('Credit limit changed from {from} to {to}.', { from: money(item.previousAmount, item.currency!), to: amount })
        : t('Credit limit changed.');
    case 'credit_limit_set_by_guardian':
      return amount && item.previousAmount !== null
        ? t('Your guardian changed the credit limit from {from} to {to}.', { from: money(item.previousAmount, item.currency!), to: amount })
        : t('Your guardian changed the credit limit.');
    case 'statement_day_changed':
    case 'statement_day_changed_by_guardian':
    case 'statement_day_changed_by_cybercard':
      return statementDayChanged(item, t);
    case 'guardian_released':
      return t("You came of age: your card is no longer linked to your guardian's.");
    case 'account_opened':
      return t('Account opened.');
    case 'repayment_received':
      return amount ? t('Repayment of {amount} received.', { amount }) : t('Repayment received.');
    case 'payout_sent':
      return amount ? t('{amount} of your credit balance sent back to you.', { amount }) : t('Your credit balance sent back to you.');
    case 'payment_approved':
      return amount ? t('Payment of {amount} approved at {site}.', { amount, site }) : t('Payment approved at {site}.', { site });
    case 'payment_charged':
      return amount ? t('{amount} charged by {site}.', { amount, site }) : t('Payment charged by {site}.', { site });
    case 'payment_refunded':
      return amount ? t('{amount} refunded by {site}.', { amount, site }) : t('Payment refunded by {site}.', { site });
    case 'payment_voided':
      return amount ? t('{site} cancelled a payment; {amount} held for it is free again.', { site, amount }) : t('{site} cancelled a payment.', { site });
    case 'payment_expired':
      return amount ? t('A payment at {site} was not charged in time; {amount} held for it is free again.', { site, amount }) : t('A payment hold at {site} expired.', { site });
    case 'payment_cancelled':
      return amount
        ? t('A payment at {site} was cancelled when the card was stopped; {amount} held for it is free again.', { site, amount })
        : t('A payment at {site} was cancelled when the card was stopped.', { site });
    case 'payment_reported':
      return amount ? t('You reported a payment of {amount} at {site}.', { amount, site }) : t('You reported a payment at {site}.', { site });
    case 'payment_reported_by_guardian':
      return amount
        ? t('Your guardian reported a payment of {amount} at {site}.', { amount, site })
        : t('Your guardian reported a payment at {site}.', { site });
    case 'report_upheld':
      return amount
        ? t('Your report of a payment at {site} was upheld: {amount} back to your account.', { amount, site })
        : t('Your report of a payment at {site} was upheld.', { site });
    case 'report_not_upheld':
      return t('Your report of a payment at {site} was not upheld.', { site });
  }
}

function wrongPassword(item: ActivityItem, site: string, t: Translate): string {
  switch (item.page) {
    case 'site_login':
      return t('Wrong password at the login page of {site}.', { site });
    case 'holder_signin':
      return t('Wrong password at the sign-in to these card pages.');
    case 'lost_card':
      return t('Wrong password when reporting the card lost.');
    case 'password_change':
      return t('Wrong password when changing the password.');
    case 'guardian_consent':
      return t("Wrong password as a guardian's consent to a card application.");
    case 'contact_change':
      return t('Wrong password when changing the email or mobile number.');
    case 'child_limit':
      return t("Wrong password when setting a child's credit limit.");
    case 'close_card':
      return t('Wrong password when closing the card.');
    case 'data_export':
      return t('Wrong password when downloading a copy of your data.');
    case 'spending_controls':
      return t('Wrong password when changing the spending controls.');
    case null:
      return t('Wrong password.');
  }
}

/** A change of statement day: from which day to which, and the first statement on the new one. */
function statementDayChanged(item: ActivityItem, t: Translate): string {
  const c = item.statementDay;
  const by = item.kind === 'statement_day_changed_by_guardian' ? 'guardian' : item.kind === 'statement_day_changed_by_cybercard' ? 'cybercard' : 'you';
  if (!c) {
    return by === 'guardian' ? t('Your guardian changed the statement day.') : by === 'cybercard' ? t('Statement day changed by cybercard.') : t('Statement day changed.');
  }
  const vars = { from: c.from, to: c.to, date: c.firstStatementDate };
  return by === 'guardian'
    ? t('Your guardian changed the statement day from day {from} to day {to}, from the statement of {date} on.', vars)
    : by === 'cybercard'
      ? t('Statement day changed by cybercard from day {from} to day {to}, from the statement of {date} on.', vars)
      : t('Statement day changed from day {from} to day {to}, from the statement of {date} on.', vars);
}

/** What a change of spending controls changed, when it was recorded (older entries: the plain sentence). */
function controlsChanged(item: ActivityItem, t: Translate): string {
  if (!item.controlChanges || !item.currency) return t('Spending controls changed.');
  if (item.controlChanges.length === 0) return t('Spending controls saved, nothing changed.');
  const currency = item.currency;
  const limit = (v: number | null) => (v === null ? t('no limit') : money(v, currency));
  const words = (c: ControlChange): string => {
    switch (c.control) {
      case 'max_per_approval':
        return t('maximum per payment {from} → {to}', { from: limit(c.from), to: limit(c.to) });
      case 'monthly_cap':
        return t('monthly cap {from} → {to}', { from: limit(c.from), to: limit(c.to) });
      case 'adult_content_off':
        return c.to ? t('adult content off') : t('adult content on again');
      case 'blocked_sites':
        return c.blocked ? t('{site} blocked', { site: c.site || t('a member site') }) : t('{site} unblocked', { site: c.site || t('a member site') });
    }
  };
  return t('Spending controls changed: {changes}.', { changes: item.controlChanges.map(words).join('; ') });
}
