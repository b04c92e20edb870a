import type { Channel } from '../db/outbox.ts';
import { formatData, type Locale } from '../lib/i18n.ts';
import { localizeEnglishTime } from '../lib/local-time.ts';
import { formatMoney, readEnglishMoney } from '../lib/money.ts';

type Data = Record<string, unknown>;
type Words = (d: Data, links: Links) => string;
/** One text per language: a language without its own words is a type error, never English in its place. */
type InEach<T> = Readonly<Record<Locale, T>>;

interface Template {
  subject: InEach<string>;
  /** The full text: the email's, and the SMS's too unless `sms` gives a shorter one. */
  text: InEach<Words>;
  /**
   * The SMS of a message whose full text can run past one SMS (SMS_MAX) with real values (a member site's full name, a
   * large amount, a staff note): the essential facts in a sentence or two.
   */
  sms?: InEach<Words>;
  /** Data fields that must not outlive the sending (one-time codes). */
  secrets?: readonly string[];
}

interface Links {
  lost: string;
  reissue: string;
  children: string;
  disputes: string;
  account: string;
}

/** One SMS: 160 characters. A longer text is split and billed as several, and arrives in pieces or cut. */
export const SMS_MAX = 160;

/** The first of `texts`, most complete first, that fits in one SMS; the last (the shortest) when none does. */
const fitting = (...texts: string[]): string => texts.find((t) => t.length <= SMS_MAX) ?? texts[texts.length - 1]!;

const s = (d: Data, key: string): string => (d[key] === undefined || d[key] === null ? '' : String(d[key]));
/** An amount given in minor units (with `currency`), as the text's language writes it: 4,000 KRW, 4,000원. */
const money = (d: Data, key: string, locale: Locale = 'en'): string => formatMoney(Number(d[key] ?? 0), s(d, 'currency'), locale);
const notYou: InEach<(l: Links) => string> = {
  en: (l) => `If this was not you, block your card at once: ${l.lost}`,
  ko: (l) => `본인이 한 일이 아니라면 즉시 카드를 정지하세요: ${l.lost}`,
};
const shortNotYou: InEach<(l: Links) => string> = {
  en: (l) => `Not you? Block your card: ${l.lost}`,
  ko: (l) => `본인이 아니라면 카드를 정지하세요: ${l.lost}`,
};
/** A closed card's holder may still sign in with it to see and pay what is owed (the account page). */
const stillSignIn: InEach<(l: Links) => string> = {
  en: (l) => `You can still sign in with its number and password at ${l.account} to see and pay what you owe.`,
  ko: (l) => `이 카드 번호와 비밀번호로 ${l.account} 에 로그인하시면 남은 금액을 확인하고 납부하실 수 있습니다.`,
};
/**
 * An operator's free text (a refused application's reason, a dispute's decision note), quoted whole and untranslated,
 * after words in the holder's language that say whose words they are.
 */
const staffNote: InEach<(note: string) => string> = {
  en: (note) => `Note from cybercard staff: “${note}”`,
  ko: (note) => `담당자 메모: “${note}”`,
};
/** A refused application's message, with the operator's reason if they gave one. */
const notApproved: InEach<(d: Data) => string> = {
  en: (d) => `Your application was not approved.${d.reason ? ` ${staffNote.en(s(d, 'reason'))}` : ''}`,
  ko: (d) => `신청이 승인되지 않았습니다.${d.reason ? ` ${staffNote.ko(s(d, 'reason'))}` : ''}`,
};
/** A one-time code's message, `what` the code does in each language: the full text and the SMS. */
const code = (what: InEach<string>): Pick<Template, 'text' | 'sms'> => ({
  text: {
    en: (d) =>
      `Your code to ${what.en} the cyber card ending in ${s(d, 'last4')}: ${s(d, 'code')}\n` +
      `It expires in ${s(d, 'minutes')} minutes and works once. Nobody from cybercard will ever ask you for it.`,
    ko: (d) =>
      `끝자리 ${s(d, 'last4')} 사이버 카드의 ${what.ko} 인증 코드: ${s(d, 'code')}\n` +
      `${s(d, 'minutes')}분 안에 한 번만 쓸 수 있습니다. 사이버카드는 절대 이 코드를 묻지 않습니다.`,
  },
  sms: {
    en: (d) => `Your code to ${what.en} the cyber card ending in ${s(d, 'last4')}: ${s(d, 'code')} (${s(d, 'minutes')} min, once). Never share it.`,
    ko: (d) => `끝자리 ${s(d, 'last4')} 사이버 카드의 ${what.ko} 인증 코드: ${s(d, 'code')} (${s(d, 'minutes')}분, 1회). 누구에게도 알려 주지 마세요.`,
  },
});
/** What a code of each purpose (cards/one-time-code.ts CODE_PURPOSES) is for, as the code messages word it. */
const CODE_FOR: Readonly<Record<string, InEach<string>>> = {
  password_reset: { en: 'reset the password of', ko: '비밀번호 재설정' },
  lost_card: { en: 'block', ko: '분실 신고(카드 정지)' },
  reissue: { en: 'get a new number for', ko: '새 카드 번호 발급' },
};
const codeFor = (d: Data): InEach<string> => CODE_FOR[s(d, 'purpose')] ?? { en: 'use', ko: '' };
const contactKind = (d: Data) => (d.channel === 'sms' ? { en: 'mobile number', ko: '휴대폰 번호' } : { en: 'email address', ko: '이메일 주소' });

/**
 * Every message the card manager sends, in every language of the hosted pages (lib/i18n.ts LOCALES), rendered to
 * plain text. Whole texts per language rather than catalogue keys: the messages branch on their data, and Korean
 * orders a sentence's parts differently, so pieces translated one by one would not read. Data never holds a card
 * number or password; codes are listed in `secrets` and dropped once sent.
 */
export const TEMPLATES: Readonly<Record<string, Template>> = {
  application_received: {
    subject: { en: 'We received your cyber card application', ko: '사이버 카드 신청이 접수되었습니다' },
    text: {
      en: () => 'We received your application for a cyber card. We will tell you as soon as it has been checked.',
      ko: () => '사이버 카드 신청이 접수되었습니다. 심사가 끝나는 대로 알려 드리겠습니다.',
    },
  },
  application_approved: {
    subject: { en: 'Your cyber card application was approved', ko: '사이버 카드 신청이 승인되었습니다' },
    text: {
      en: (d) => `Your application was approved${d.last4 ? `: your card ends in ${s(d, 'last4')}` : ''}.`,
      ko: (d) => `신청이 승인되었습니다.${d.last4 ? ` 카드 번호 끝자리는 ${s(d, 'last4')}입니다.` : ''}`,
    },
  },
  application_rejected: {
    subject: { en: 'Your cyber card application was not approved', ko: '사이버 카드 신청이 승인되지 않았습니다' },
    text: notApproved,
    // An applicant gives an email address as well: a note too long for one SMS is read there.
    sms: {
      en: (d) => fitting(notApproved.en(d), "Your cyber card application was not approved. Our staff's note is in the email we sent you."),
      ko: (d) => fitting(notApproved.ko(d), '사이버 카드 신청이 승인되지 않았습니다. 담당자 메모는 이메일로 보내 드렸습니다.'),
    },
  },
  card_issued: {
    subject: { en: 'Your cyber card was issued', ko: '사이버 카드가 발급되었습니다' },
    text: {
      en: (d, l) => `Your cyber card ending in ${s(d, 'last4')} has been issued. ${notYou.en(l)}`,
      ko: (d, l) => `끝자리 ${s(d, 'last4')} 사이버 카드가 발급되었습니다. ${notYou.ko(l)}`,
    },
  },
  card_blocked: {
    subject: { en: 'Your cyber card is blocked', ko: '사이버 카드가 정지되었습니다' },
    text: {
      en: (d, l) =>
        d.why === 'suspended'
          ? `Your cyber card ending in ${s(d, 'last4')} has been blocked by cybercard and every member site has been signed out. ` +
            'We will tell you when it is unblocked.'
          : `Your cyber card ending in ${s(d, 'last4')} was reported lost and is blocked. Every member site has been signed out. ` +
            `Get a new card number, with your balance and history, at ${l.reissue}`,
      ko: (d, l) =>
        d.why === 'suspended'
          ? `사이버카드에서 끝자리 ${s(d, 'last4')} 사이버 카드를 정지했으며, 모든 가맹 사이트에서 로그아웃되었습니다. ` +
            '정지가 풀리면 알려 드리겠습니다.'
          : `끝자리 ${s(d, 'last4')} 사이버 카드가 분실 신고되어 정지되었습니다. 모든 가맹 사이트에서 로그아웃되었습니다. ` +
            `잔액과 이용 내역이 그대로 옮겨지는 새 카드 번호는 여기에서 받으세요: ${l.reissue}`,
    },
    sms: {
      en: (d, l) =>
        d.why === 'suspended'
          ? `Your cyber card ending in ${s(d, 'last4')} is blocked by cybercard; we will tell you when it is unblocked.`
          : `Your cyber card ending in ${s(d, 'last4')} is blocked as lost. New number: ${l.reissue}`,
      ko: (d, l) =>
        d.why === 'suspended'
          ? `사이버카드에서 끝자리 ${s(d, 'last4')} 사이버 카드를 정지했습니다. 정지가 풀리면 알려 드리겠습니다.`
          : `끝자리 ${s(d, 'last4')} 사이버 카드가 분실 신고로 정지되었습니다. 새 번호 받기: ${l.reissue}`,
    },
  },
  card_closed: {
    subject: { en: 'Your cyber card was closed', ko: '사이버 카드가 해지되었습니다' },
    // by: 'holder' when the holder closed it on /card/close (no "block your card" then: a closed card cannot be blocked).
    // signIn: the closed card still signs in to the account page, to see and pay what is owed (cards/former-holder.ts).
    text: {
      en: (d, l) =>
        (d.by === 'holder'
          ? `You closed your cyber card ending in ${s(d, 'last4')}: it no longer works and every member site has been signed out. ` +
            'What is on your statement is still due, and payments you approved before may still be charged. ' +
            'If you did not close it, someone knows your card password: contact cybercard at once.'
          : `Your cyber card ending in ${s(d, 'last4')} was closed by cybercard and no longer works; every member site has been signed out. ` +
            `What is on your statement is still due. ${notYou.en(l)}`) + (d.signIn ? ` ${stillSignIn.en(l)}` : ''),
      ko: (d, l) =>
        (d.by === 'holder'
          ? `끝자리 ${s(d, 'last4')} 사이버 카드를 해지하셨습니다. 더 이상 사용할 수 없으며 모든 가맹 사이트에서 로그아웃되었습니다. ` +
            '명세서에 있는 금액은 그대로 납부하셔야 하며, 이전에 승인하신 결제는 청구될 수 있습니다. ' +
            '직접 해지하지 않으셨다면 누군가 카드 비밀번호를 알고 있습니다. 즉시 사이버카드에 연락하세요.'
          : `사이버카드에서 끝자리 ${s(d, 'last4')} 사이버 카드를 해지하여 더 이상 사용할 수 없으며, 모든 가맹 사이트에서 로그아웃되었습니다. ` +
            `명세서에 있는 금액은 그대로 납부하셔야 합니다. ${notYou.ko(l)}`) + (d.signIn ? ` ${stillSignIn.ko(l)}` : ''),
    },
    sms: {
      en: (d, l) =>
        d.by === 'holder'
          ? `You closed your cyber card ending in ${s(d, 'last4')}; your statement is still due. Not you? Contact cybercard at once.`
          : `Your cyber card ending in ${s(d, 'last4')} was closed by cybercard; your statement is still due. ${shortNotYou.en(l)}`,
      ko: (d, l) =>
        d.by === 'holder'
          ? `끝자리 ${s(d, 'last4')} 사이버 카드를 해지하셨습니다. 명세서 금액은 납부하셔야 합니다. 본인이 아니라면 즉시 사이버카드에 연락하세요.`
          : `사이버카드에서 끝자리 ${s(d, 'last4')} 사이버 카드를 해지했습니다. 명세서 금액은 납부하셔야 합니다. ${shortNotYou.ko(l)}`,
    },
  },
  card_unblocked: {
    subject: { en: 'Your cyber card works again', ko: '사이버 카드를 다시 사용할 수 있습니다' },
    text: {
      en: (d, l) => `Your cyber card ending in ${s(d, 'last4')} is unblocked and works again. ${notYou.en(l)}`,
      ko: (d, l) => `끝자리 ${s(d, 'last4')} 사이버 카드의 정지가 풀려 다시 사용할 수 있습니다. ${notYou.ko(l)}`,
    },
  },
  card_reissued: {
    subject: { en: 'Your new cyber card number', ko: '새 사이버 카드 번호가 발급되었습니다' },
    text: {
      en: (d, l) =>
        `Your new cyber card ends in ${s(d, 'last4')} and replaces the card ending in ${s(d, 'oldLast4')}, which no longer works. ` +
        `Your limit, balance and history carry over. ${notYou.en(l)}`,
      ko: (d, l) =>
        `새 사이버 카드의 끝자리는 ${s(d, 'last4')}이며, 이제 사용할 수 없는 끝자리 ${s(d, 'oldLast4')} 카드를 대신합니다. ` +
        `한도와 잔액, 이용 내역은 그대로 옮겨집니다. ${notYou.ko(l)}`,
    },
    sms: {
      en: (d, l) => `Your new cyber card ends in ${s(d, 'last4')}; the card ending in ${s(d, 'oldLast4')} no longer works. ${shortNotYou.en(l)}`,
      ko: (d, l) => `새 사이버 카드 끝자리는 ${s(d, 'last4')}이며 끝자리 ${s(d, 'oldLast4')} 카드는 더 이상 쓸 수 없습니다. ${shortNotYou.ko(l)}`,
    },
  },
  second_factor_set: {
    subject: { en: 'An authenticator app was set up for your cyber card', ko: '사이버 카드에 인증 앱이 설정되었습니다' },
    text: {
      en: (d, l) =>
        `An authenticator app was ${d.replaced ? 'set up in place of the one you had' : 'set up'} for your cyber card ending in ${s(d, 'last4')}: ` +
        `large payments now ask for its codes. ${notYou.en(l)}`,
      ko: (d, l) =>
        `끝자리 ${s(d, 'last4')} 사이버 카드에 ${d.replaced ? '기존 인증 앱 대신 새 인증 앱이' : '인증 앱이'} 설정되었습니다. ` +
        `이제 큰 금액의 결제에는 인증 앱 코드가 필요합니다. ${notYou.ko(l)}`,
    },
    sms: {
      en: (d, l) => `An authenticator app was set up for your cyber card ending in ${s(d, 'last4')}. ${shortNotYou.en(l)}`,
      ko: (d, l) => `끝자리 ${s(d, 'last4')} 사이버 카드에 인증 앱이 설정되었습니다. ${shortNotYou.ko(l)}`,
    },
  },
  second_factor_removed: {
    subject: { en: 'The authenticator app of your cyber card was removed', ko: '사이버 카드의 인증 앱이 삭제되었습니다' },
    text: {
      en: (d, l) =>
        `At your request, cybercard removed the authenticator app of your cyber card ending in ${s(d, 'last4')}. ` +
        `Set up a new one on your card's Second factor page before your next large payment. ${notYou.en(l)}`,
      ko: (d, l) =>
        `요청하신 대로 사이버카드에서 끝자리 ${s(d, 'last4')} 사이버 카드의 인증 앱을 삭제했습니다. ` +
        `다음에 큰 금액을 결제하기 전에 카드의 2단계 인증 페이지에서 새 인증 앱을 설정하세요. ${notYou.ko(l)}`,
    },
    sms: {
      en: (d, l) => `cybercard removed the authenticator app of your cyber card ending in ${s(d, 'last4')}, as you asked. ${shortNotYou.en(l)}`,
      ko: (d, l) => `요청하신 대로 끝자리 ${s(d, 'last4')} 사이버 카드의 인증 앱을 삭제했습니다. ${shortNotYou.ko(l)}`,
    },
  },
  codes_stopped: {
    subject: { en: 'We stopped sending codes for your cyber card today', ko: '오늘은 사이버 카드 인증 코드를 더 보내지 않습니다' },
    text: {
      en: (d) =>
        `Codes to ${codeFor(d).en} your cyber card ending in ${s(d, 'last4')} were asked for more than ${s(d, 'count')} times today, ` +
        'more than we send in a day, so until tomorrow we will send them only when asked for from a browser you have logged in with at a ' +
        'member site or on your cybercard pages. If that was you, ask from one, or try again tomorrow.\n' +
        'If it was not you, someone knows your card number and is trying to guess a code. Your card is safe as long as nobody has its ' +
        'password or a code we sent you: never share them. If it keeps happening, contact cybercard.',
      ko: (d) =>
        `끝자리 ${s(d, 'last4')} 사이버 카드의 ${codeFor(d).ko} 인증 코드가 오늘 ${s(d, 'count')}번 넘게 요청되어 하루에 보내는 한도를 넘었습니다. ` +
        '내일까지는 가맹 사이트나 사이버카드 페이지에 로그인한 적이 있는 브라우저에서 요청하실 때만 이 인증 코드를 보냅니다. 직접 요청하셨다면 그런 브라우저에서 요청하시거나 내일 다시 시도하세요.\n' +
        '요청하지 않으셨다면 누군가 카드 번호를 알고 인증 코드를 추측하려는 것입니다. 비밀번호와 저희가 보낸 인증 코드를 아무도 모르면 카드는 안전합니다. ' +
        '누구에게도 알려 주지 마세요. 이런 일이 계속되면 사이버카드에 문의하세요.',
    },
    sms: {
      en: (d) => `cybercard: too many codes asked for your card ending in ${s(d, 'last4')}; till tomorrow, only to a browser you logged in with. Not you? Never share codes; tell cybercard.`,
      ko: (d) => `사이버카드: 끝자리 ${s(d, 'last4')} 카드의 인증 코드 요청이 너무 많아 내일까지는 로그인한 적이 있는 브라우저에만 보냅니다. 본인이 아니라면 코드를 알려 주지 말고 문의하세요.`,
    },
  },
  password_changed: {
    subject: { en: 'Your cyber card password was changed', ko: '사이버 카드 비밀번호가 변경되었습니다' },
    text: {
      en: (d, l) => `The password of your cyber card ending in ${s(d, 'last4')} was ${d.method === 'reset' ? 'reset' : 'changed'}. ${notYou.en(l)}`,
      ko: (d, l) => `끝자리 ${s(d, 'last4')} 사이버 카드의 비밀번호가 ${d.method === 'reset' ? '재설정' : '변경'}되었습니다. ${notYou.ko(l)}`,
    },
  },
  password_reset_code: {
    subject: { en: 'Your password reset code', ko: '비밀번호 재설정 인증 코드' },
    ...code({ en: 'reset the password of', ko: '비밀번호 재설정' }),
    secrets: ['code'],
  },
  lost_card_code: {
    subject: { en: 'Your code to block your card', ko: '카드 정지 인증 코드' },
    ...code({ en: 'block', ko: '분실 신고(카드 정지)' }),
    secrets: ['code'],
  },
  reissue_code: {
    subject: { en: 'Your code for a new card number', ko: '새 카드 번호 발급 인증 코드' },
    ...code({ en: 'get a new number for', ko: '새 카드 번호 발급' }),
    secrets: ['code'],
  },
  contacts_change_code: {
    subject: { en: 'Your code to confirm your new contact details', ko: '새 연락처 확인 인증 코드' },
    text: {
      en: (d) =>
        `Your code to make this ${contactKind(d).en} the new one of the cyber card ending in ${s(d, 'last4')}: ${s(d, 'code')}\n` +
        `It expires in ${s(d, 'minutes')} minutes and works once. Nobody from cybercard will ever ask you for it. If you did not ask for this, ignore it.`,
      ko: (d) =>
        `이 ${contactKind(d).ko}를 끝자리 ${s(d, 'last4')} 사이버 카드의 새 연락처로 등록하는 인증 코드: ${s(d, 'code')}\n` +
        `${s(d, 'minutes')}분 안에 한 번만 쓸 수 있습니다. 사이버카드는 절대 이 코드를 묻지 않습니다. 요청하지 않으셨다면 이 메시지를 무시하세요.`,
    },
    sms: {
      en: (d) =>
        `cybercard code to make this your card's new ${contactKind(d).en}: ${s(d, 'code')} (${s(d, 'minutes')} min, once). Never share it; not asked? Ignore it.`,
      ko: (d) =>
        `사이버 카드 새 ${contactKind(d).ko} 등록 인증 코드: ${s(d, 'code')} (${s(d, 'minutes')}분, 1회). 누구에게도 알려 주지 마세요. 요청하지 않았다면 무시하세요.`,
    },
    secrets: ['code'],
  },
  contacts_change_proof: {
    subject: { en: 'Someone asked to change the contact details of your cyber card', ko: '사이버 카드의 연락처 변경 요청이 있었습니다' },
    text: {
      en: (d, l) =>
        `Someone signed in with your cyber card ending in ${s(d, 'last4')} asked to make ${d.newEmail ? `${s(d, 'newEmail')} its email address` : `${s(d, 'newMobile')} its mobile number`}. ` +
        `If that was you, your code to allow it: ${s(d, 'code')} (it expires in ${s(d, 'minutes')} minutes and works once; nobody from cybercard will ever ask you for it).\n` +
        `If it was not you, do not give the code to anyone: someone knows your card password. Block your card at once: ${l.lost}`,
      ko: (d, l) =>
        `끝자리 ${s(d, 'last4')} 사이버 카드로 로그인한 누군가가 ${d.newEmail ? `이메일 주소를 새 주소(${s(d, 'newEmail')})로` : `휴대폰 번호를 새 번호(${s(d, 'newMobile')})로`} 바꾸도록 요청했습니다. ` +
        `본인이 요청했다면 허용하는 인증 코드는 ${s(d, 'code')}입니다(${s(d, 'minutes')}분 안에 한 번만 쓸 수 있으며, 사이버카드는 절대 이 코드를 묻지 않습니다).\n` +
        `본인이 아니라면 누구에게도 코드를 알려 주지 마세요. 누군가 카드 비밀번호를 알고 있습니다. 즉시 카드를 정지하세요: ${l.lost}`,
    },
    // The new address itself where it fits, else only which of the contacts it is (a long email address).
    sms: {
      en: (d, l) =>
        fitting(
          `Code to allow ${d.newEmail ? s(d, 'newEmail') : s(d, 'newMobile')} on your cyber card: ${s(d, 'code')} (${s(d, 'minutes')} min). Not you? Share it with no one; block: ${l.lost}`,
          `Code to allow a new ${d.newEmail ? 'email address' : 'mobile number'} on your cyber card: ${s(d, 'code')} (${s(d, 'minutes')} min). Not you? Never share it; block: ${l.lost}`,
        ),
      ko: (d, l) =>
        fitting(
          `사이버 카드 연락처를 새 연락처(${d.newEmail ? s(d, 'newEmail') : s(d, 'newMobile')})로 바꾸는 허용 코드: ${s(d, 'code')} (${s(d, 'minutes')}분). 본인이 아니라면 알려 주지 말고 카드를 정지하세요: ${l.lost}`,
          `사이버 카드 새 ${d.newEmail ? '이메일 주소' : '휴대폰 번호'} 허용 코드: ${s(d, 'code')} (${s(d, 'minutes')}분). 본인이 아니라면 알려 주지 말고 카드를 정지하세요: ${l.lost}`,
        ),
    },
    secrets: ['code'],
  },
  contacts_changed: {
    subject: { en: 'The contact details of your cyber card were changed', ko: '사이버 카드의 연락처가 변경되었습니다' },
    text: {
      en: (d, l) =>
        `${d.by === 'operator' ? 'cybercard changed' : 'You changed'} the contact details of your cyber card ending in ${s(d, 'last4')}: ` +
        [d.newEmail ? `email address now ${s(d, 'newEmail')}` : '', d.newMobile ? `mobile number now ${s(d, 'newMobile')}` : ''].filter(Boolean).join(', ') +
        `. Codes and notices now go there. If this was not you, block your card at once (${l.lost}) and contact cybercard.`,
      ko: (d, l) =>
        `${d.by === 'operator' ? '사이버카드에서 ' : ''}끝자리 ${s(d, 'last4')} 사이버 카드의 연락처를 변경${d.by === 'operator' ? '했습니다' : '하셨습니다'}: ` +
        [d.newEmail ? `이메일 주소 ${s(d, 'newEmail')}` : '', d.newMobile ? `휴대폰 번호 ${s(d, 'newMobile')}` : ''].filter(Boolean).join(', ') +
        `. 이제 인증 코드와 안내는 이 연락처로 보내 드립니다. 본인이 한 일이 아니라면 즉시 카드를 정지하고(${l.lost}) 사이버카드에 연락하세요.`,
    },
    sms: {
      en: (d, l) => `The contact details of your cyber card ending in ${s(d, 'last4')} were changed. ${shortNotYou.en(l)}`,
      ko: (d, l) => `끝자리 ${s(d, 'last4')} 사이버 카드의 연락처가 변경되었습니다. ${shortNotYou.ko(l)}`,
    },
  },
  contacts_confirmed: {
    subject: { en: 'Your new contact details are confirmed', ko: '새 연락처가 확인되었습니다' },
    text: {
      en: (d, l) => `This is now the ${contactKind(d).en} of your cyber card ending in ${s(d, 'last4')}. ${notYou.en(l)}`,
      ko: (d, l) => `이제 이 ${contactKind(d).ko}가 끝자리 ${s(d, 'last4')} 사이버 카드의 연락처입니다. ${notYou.ko(l)}`,
    },
  },
  new_device_login: {
    subject: { en: 'New sign-in with your cyber card', ko: '사이버 카드로 새 기기에서 로그인했습니다' },
    text: {
      en: (d, l) => `Your cyber card was used to log in to ${s(d, 'site')} from a new device (${s(d, 'at')}). ${notYou.en(l)}`,
      ko: (d, l) => `사이버 카드로 새 기기에서 ${s(d, 'site')}에 로그인했습니다(${s(d, 'at')}). ${notYou.ko(l)}`,
    },
    // The SMS arrives as it happens: the time goes first when the site's name is long.
    sms: {
      en: (d, l) =>
        fitting(
          `Your cyber card signed in to ${s(d, 'site')} from a new device (${s(d, 'at')}). ${shortNotYou.en(l)}`,
          `Your cyber card signed in to ${s(d, 'site')} from a new device. ${shortNotYou.en(l)}`,
        ),
      ko: (d, l) =>
        fitting(
          `사이버 카드로 새 기기에서 ${s(d, 'site')}에 로그인했습니다(${s(d, 'at')}). ${shortNotYou.ko(l)}`,
          `사이버 카드로 새 기기에서 ${s(d, 'site')}에 로그인했습니다. ${shortNotYou.ko(l)}`,
        ),
    },
  },
  limit_set_by_guardian: {
    subject: { en: 'Your guardian changed the limit of your cyber card', ko: '보호자가 사이버 카드 한도를 변경했습니다' },
    text: {
      en: (d) =>
        Number(d.amount) === 0
          ? `Your guardian set the limit of your cyber card ending in ${s(d, 'last4')} to ${money(d, 'amount')}: its payments are paused ` +
            'until they raise it. Signing in still works.'
          : `Your guardian set the limit of your cyber card ending in ${s(d, 'last4')} to ${money(d, 'amount')} (it was ${money(d, 'previous')}).`,
      ko: (d) =>
        Number(d.amount) === 0
          ? `보호자가 끝자리 ${s(d, 'last4')} 사이버 카드의 한도를 0으로 정해, 보호자가 한도를 올릴 때까지 결제가 중지됩니다. ` +
            '로그인은 계속 할 수 있습니다.'
          : `보호자가 끝자리 ${s(d, 'last4')} 사이버 카드의 한도를 변경했습니다(${money(d, 'previous', 'ko')} → ${money(d, 'amount', 'ko')}).`,
    },
  },
  statement_day_changed: {
    subject: { en: 'The statement day of your cyber card changed', ko: '사이버 카드의 명세서 작성일이 변경되었습니다' },
    text: {
      en: (d, l) =>
        `${d.by === 'operator' ? 'cybercard changed' : d.by === 'guardian' ? 'Your guardian changed' : 'You changed'} the statement day of your cyber card ` +
        `from day ${s(d, 'previous')} to day ${s(d, 'day')} of each month. Your current statement period closes on ${s(d, 'closes')}, ` +
        `with payment due on ${s(d, 'due')}` +
        (s(d, 'first') !== s(d, 'closes') ? `; the statement of ${s(d, 'first')} is the first on day ${s(d, 'day')}.` : '.') +
        (d.by === 'holder' ? ` ${notYou.en(l)}` : ''),
      ko: (d, l) =>
        `${d.by === 'operator' ? '사이버카드에서 ' : d.by === 'guardian' ? '보호자가 ' : ''}사이버 카드의 명세서 작성일을 ` +
        `매월 ${s(d, 'previous')}일에서 ${s(d, 'day')}일로 ${d.by === 'holder' ? '변경하셨습니다' : '변경했습니다'}. 현재 명세서 기간은 ${s(d, 'closes')}에 마감되며, 납부 기한은 ${s(d, 'due')}입니다.` +
        (s(d, 'first') !== s(d, 'closes') ? ` ${s(d, 'first')} 명세서부터 매월 ${s(d, 'day')}일에 작성됩니다.` : '') +
        (d.by === 'holder' ? ` ${notYou.ko(l)}` : ''),
    },
    // The email's ~300 characters would be two or three SMS: the new day and the next dates are what matter.
    sms: {
      en: (d, l) =>
        `Cyber card statement day now day ${s(d, 'day')}: this period closes ${s(d, 'closes')}, payment due ${s(d, 'due')}.` +
        (d.by === 'holder' ? ` ${shortNotYou.en(l)}` : ''),
      ko: (d, l) =>
        `사이버 카드 명세서 작성일이 매월 ${s(d, 'day')}일로 바뀌었습니다. 이번 기간은 ${s(d, 'closes')} 마감, 납부 기한은 ${s(d, 'due')}입니다.` +
        (d.by === 'holder' ? ` ${shortNotYou.ko(l)}` : ''),
    },
  },
  payment_approved: {
    subject: { en: 'Payment approved with your cyber card', ko: '사이버 카드 결제가 승인되었습니다' },
    text: {
      en: (d, l) =>
        `Approval ${s(d, 'approvalNo')}: ${s(d, 'amount')} at ${s(d, 'site')} with your cyber card ending in ${s(d, 'last4')}. ${notYou.en(l)}`,
      ko: (d, l) => `승인 번호 ${s(d, 'approvalNo')}: 끝자리 ${s(d, 'last4')} 사이버 카드로 ${s(d, 'site')}에서 ${s(d, 'amount')} 결제. ${notYou.ko(l)}`,
    },
    sms: {
      en: (d, l) =>
        fitting(
          `Approval ${s(d, 'approvalNo')}: ${s(d, 'amount')} at ${s(d, 'site')}, card ending in ${s(d, 'last4')}. ${shortNotYou.en(l)}`,
          `Approval ${s(d, 'approvalNo')}: ${s(d, 'amount')} at ${s(d, 'site')}. ${shortNotYou.en(l)}`,
        ),
      ko: (d, l) =>
        fitting(
          `승인 ${s(d, 'approvalNo')}: ${s(d, 'site')} ${s(d, 'amount')}, 끝자리 ${s(d, 'last4')} 카드. ${shortNotYou.ko(l)}`,
          `승인 ${s(d, 'approvalNo')}: ${s(d, 'site')} ${s(d, 'amount')}. ${shortNotYou.ko(l)}`,
        ),
    },
  },
  child_payment_approved: {
    subject: { en: "A payment with your child's cyber card", ko: '자녀의 사이버 카드로 결제했습니다' },
    text: {
      en: (d, l) =>
        `Approval ${s(d, 'approvalNo')}: ${s(d, 'amount')} at ${s(d, 'site')} with the cyber card of ${s(d, 'name')}, ending in ` +
        `${s(d, 'last4')}, which is linked to yours. You can see its spending and set its limit on your card's page of children's cards (${l.children}).`,
      ko: (d, l) =>
        `승인 번호 ${s(d, 'approvalNo')}: 고객님의 카드에 연결된 ${s(d, 'name')} 님의 사이버 카드(끝자리 ${s(d, 'last4')})로 ${s(d, 'site')}에서 ` +
        `${s(d, 'amount')} 결제. 이 카드의 이용 내역과 한도는 자녀 카드 페이지(${l.children})에서 확인하고 정할 수 있습니다.`,
    },
    sms: {
      en: (d, l) =>
        fitting(
          `Approval ${s(d, 'approvalNo')}: ${s(d, 'amount')} at ${s(d, 'site')} with the cyber card of ${s(d, 'name')}. See ${l.children}`,
          `${s(d, 'amount')} at ${s(d, 'site')} with the cyber card of ${s(d, 'name')}. See ${l.children}`,
        ),
      ko: (d, l) =>
        fitting(
          `승인 ${s(d, 'approvalNo')}: ${s(d, 'name')} 님의 사이버 카드로 ${s(d, 'site')} ${s(d, 'amount')}. 자세히 보기: ${l.children}`,
          `${s(d, 'name')} 님의 사이버 카드로 ${s(d, 'site')} ${s(d, 'amount')}. 자세히 보기: ${l.children}`,
        ),
    },
  },
  card_locked: {
    subject: { en: 'Your cyber card is locked for a while', ko: '사이버 카드가 잠시 잠겼습니다' },
    text: {
      en: (d, l) =>
        `Your cyber card ending in ${s(d, 'last4')} was locked after too many wrong passwords or codes, until ${s(d, 'until')}. ` +
        `If this was not you, someone may be guessing: reset your password (which also unlocks the card) or block the card at ${l.lost}`,
      ko: (d, l) =>
        `비밀번호나 인증 코드를 여러 번 잘못 입력해 끝자리 ${s(d, 'last4')} 사이버 카드가 ${s(d, 'until')}까지 잠겼습니다. ` +
        `본인이 아니라면 누군가 비밀번호를 추측하고 있을 수 있습니다. 비밀번호를 재설정하거나(카드 잠금도 풀립니다) 여기에서 카드를 정지하세요: ${l.lost}`,
    },
    sms: {
      en: (d, l) =>
        fitting(
          `Too many wrong tries: your cyber card ending in ${s(d, 'last4')} is locked until ${s(d, 'until')}. ${shortNotYou.en(l)}`,
          `Wrong tries: your card ending in ${s(d, 'last4')} is locked until ${s(d, 'until')}. ${shortNotYou.en(l)}`,
        ),
      ko: (d, l) => `잘못된 비밀번호나 코드로 끝자리 ${s(d, 'last4')} 사이버 카드가 ${s(d, 'until')}까지 잠겼습니다. ${shortNotYou.ko(l)}`,
    },
  },
  hold_released: {
    subject: { en: 'A payment hold was released', ko: '결제 보류가 해제되었습니다' },
    text: {
      en: (d) =>
        `The hold of ${s(d, 'amount')} for approval ${s(d, 'approvalNo')} at ${s(d, 'site')} (card ending in ${s(d, 'last4')}) ` +
        `was released${d.why === 'expired' ? ' because it was not charged in time' : ' by the member site'}. The credit is available again.`,
      ko: (d) =>
        `${s(d, 'site')}의 승인 번호 ${s(d, 'approvalNo')}(끝자리 ${s(d, 'last4')} 카드)에 대한 ${s(d, 'amount')} 보류가 ` +
        `${d.why === 'expired' ? '기한 안에 청구되지 않아' : '가맹 사이트의 취소로'} 해제되었습니다. 그만큼의 한도를 다시 쓸 수 있습니다.`,
    },
    sms: {
      en: (d) =>
        `Hold of ${s(d, 'amount')} for approval ${s(d, 'approvalNo')} at ${s(d, 'site')} released${d.why === 'expired' ? ' (not charged in time)' : ''}; the credit is free again.`,
      ko: (d) =>
        `${s(d, 'site')} 승인 ${s(d, 'approvalNo')}의 ${s(d, 'amount')} 보류가 ${d.why === 'expired' ? '기한이 지나 ' : ''}해제되어 한도를 다시 쓸 수 있습니다.`,
    },
  },
  payment_refunded: {
    subject: { en: 'A payment was refunded', ko: '결제가 환불되었습니다' },
    text: {
      en: (d) =>
        `${s(d, 'site')} refunded ${s(d, 'amount')} of approval ${s(d, 'approvalNo')} (card ending in ${s(d, 'last4')}). ` +
        'It will show on your next statement.',
      ko: (d) =>
        `${s(d, 'site')}에서 승인 번호 ${s(d, 'approvalNo')}(끝자리 ${s(d, 'last4')} 카드) 결제를 환불했습니다(환불 금액 ${s(d, 'amount')}). ` +
        '다음 명세서에 반영됩니다.',
    },
  },
  dispute_opened: {
    subject: { en: 'We received your report of a payment', ko: '결제 신고가 접수되었습니다' },
    text: {
      en: (d) =>
        `We received your report of approval ${s(d, 'approvalNo')}: ${s(d, 'amount')} at ${s(d, 'site')} (card ending in ${s(d, 'last4')}). ` +
        'cybercard will look into it and tell you the outcome.',
      ko: (d) =>
        `승인 번호 ${s(d, 'approvalNo')} 결제(${s(d, 'site')}, ${s(d, 'amount')}, 끝자리 ${s(d, 'last4')} 카드)에 대한 신고가 접수되었습니다. ` +
        '사이버카드가 살펴보고 결과를 알려 드리겠습니다.',
    },
    sms: {
      en: (d) => `We received your report of approval ${s(d, 'approvalNo')} at ${s(d, 'site')} (${s(d, 'amount')}); we will tell you the outcome.`,
      ko: (d) => `${s(d, 'site')} 승인 ${s(d, 'approvalNo')}(${s(d, 'amount')}) 결제 신고가 접수되었습니다. 결과를 알려 드리겠습니다.`,
    },
  },
  dispute_decided: {
    subject: { en: 'Your report of a payment was decided', ko: '결제 신고의 처리 결과를 알려 드립니다' },
    text: {
      en: (d) =>
        `Your report of approval ${s(d, 'approvalNo')} at ${s(d, 'site')} (card ending in ${s(d, 'last4')}) ` +
        (d.decision === 'refunded'
          ? d.refunded || d.released
            ? `was upheld: ${[d.refunded ? `${s(d, 'refunded')} refunded` : '', d.released ? `${s(d, 'released')} held released` : ''].filter(Boolean).join(' and ')}.` +
              // A released hold was never charged: only a refund is a statement line.
              (d.refunded ? ' It will show on your next statement.' : '')
            : 'was upheld; nothing of the payment is charged or held any more.'
          : 'was not upheld.') +
        (d.note ? ` ${staffNote.en(s(d, 'note'))}` : ''),
      ko: (d) =>
        `${s(d, 'site')}의 승인 번호 ${s(d, 'approvalNo')} 결제(끝자리 ${s(d, 'last4')} 카드)에 대한 신고가 ` +
        (d.decision === 'refunded'
          ? d.refunded || d.released
            ? `받아들여졌습니다: ${[d.refunded ? `${s(d, 'refunded')} 환불` : '', d.released ? `보류 중이던 ${s(d, 'released')} 해제` : ''].filter(Boolean).join(', ')}.` +
              (d.refunded ? ' 다음 명세서에 반영됩니다.' : '')
            : '받아들여졌습니다. 이 결제로 청구되거나 보류된 금액은 더 이상 없습니다.'
          : '받아들여지지 않았습니다.') +
        (d.note ? ` ${staffNote.ko(s(d, 'note'))}` : ''),
    },
    // The outcome always; the amounts and the note whole where they fit, else where to read them (the reports page).
    sms: {
      en: (d, l) => {
        const outcome = d.decision === 'refunded' ? 'was upheld' : 'was not upheld';
        const moved = [d.refunded ? `${s(d, 'refunded')} refunded` : '', d.released ? `${s(d, 'released')} held released` : ''].filter(Boolean).join(' and ');
        const said = `Your report of approval ${s(d, 'approvalNo')} ${outcome}${moved ? `: ${moved}` : ''}.`;
        return fitting(
          `Your report of approval ${s(d, 'approvalNo')} at ${s(d, 'site')} ${outcome}${moved ? `: ${moved}` : ''}.${d.note ? ` ${staffNote.en(s(d, 'note'))}` : ''}`,
          `${said}${d.note ? ` ${staffNote.en(s(d, 'note'))}` : ''}`,
          `${said} ${d.note ? "Read our staff's note" : 'Details'}: ${l.disputes}`,
          `Your report of approval ${s(d, 'approvalNo')} ${outcome}. ${d.note ? "Read our staff's note" : 'Details'}: ${l.disputes}`,
        );
      },
      ko: (d, l) => {
        const outcome = d.decision === 'refunded' ? '받아들여졌습니다' : '받아들여지지 않았습니다';
        const moved = [d.refunded ? `${s(d, 'refunded')} 환불` : '', d.released ? `보류 중이던 ${s(d, 'released')} 해제` : ''].filter(Boolean).join(', ');
        const said = `승인 ${s(d, 'approvalNo')} 결제 신고가 ${outcome}${moved ? `: ${moved}` : ''}.`;
        return fitting(
          `${s(d, 'site')} 승인 ${s(d, 'approvalNo')} 결제 신고가 ${outcome}${moved ? `: ${moved}` : ''}.${d.note ? ` ${staffNote.ko(s(d, 'note'))}` : ''}`,
          `${said}${d.note ? ` ${staffNote.ko(s(d, 'note'))}` : ''}`,
          `${said} ${d.note ? '담당자 메모 보기' : '자세히 보기'}: ${l.disputes}`,
          `승인 ${s(d, 'approvalNo')} 결제 신고가 ${outcome}. ${d.note ? '담당자 메모 보기' : '자세히 보기'}: ${l.disputes}`,
        );
      },
    },
  },
  statement_ready: {
    subject: { en: 'Your cyber card statement', ko: '사이버 카드 명세서가 나왔습니다' },
    text: {
      en: (d) =>
        `Your statement of ${s(d, 'statementDate')} is ready: ${money(d, 'closing')} ${Number(d.closing) > 0 ? `to pay by ${s(d, 'dueDate')}` : 'owed'}. ` +
        `Pay by bank transfer with the payment reference ${s(d, 'reference')}.`,
      ko: (d) =>
        `${s(d, 'statementDate')} 명세서가 나왔습니다. ` +
        (Number(d.closing) > 0 ? `청구 금액은 ${money(d, 'closing', 'ko')}이며, 납부 기한은 ${s(d, 'dueDate')}입니다. ` : `청구 금액은 ${money(d, 'closing', 'ko')}입니다. `) +
        `계좌 이체로 납부하실 때 납부 참조 번호(${s(d, 'reference')})를 적어 주세요.`,
    },
  },
  repayment_received: {
    subject: { en: 'We received your payment', ko: '납부하신 금액을 받았습니다' },
    text: {
      en: (d) => `We received your payment of ${s(d, 'amount')}. Thank you.`,
      ko: (d) => `납부하신 금액(${s(d, 'amount')})을 받았습니다. 감사합니다.`,
    },
  },
  payout_sent: {
    subject: { en: 'We sent your credit balance back', ko: '남은 금액을 돌려드렸습니다' },
    text: {
      en: (d) => `We sent ${s(d, 'amount')} of your credit balance back to you by bank transfer. It may take a day or two to arrive.`,
      ko: (d) => `사이버 카드에 남아 있던 금액(${s(d, 'amount')})을 계좌 이체로 돌려드렸습니다. 입금까지 하루이틀 걸릴 수 있습니다.`,
    },
  },
  payment_overdue: {
    subject: { en: 'Payment overdue: new charges are paused', ko: '납부 기한이 지나 새 결제가 중지되었습니다' },
    // `also`: another statement the card answers for is overdue too (ledger/delinquency.ts tellOverdue), so paying this
    // one alone does not restore the card: a minor's own beside the guardian's, a guardian's own beside a child's.
    text: {
      en: (d) =>
        d.sibling
          ? // A minor whose card another linked child's statement stops (the guardian is in arrears): its dates, who pays it.
            `A statement your guardian answers for, of ${s(d, 'statementDate')}, was due on ${s(d, 'dueDate')} and is still unpaid. ` +
            'New charges on your card are refused until your guardian pays it; free content stays open.' +
            (d.also ? ' Another overdue statement your card answers for stops it too: your account page says which.' : '')
          : d.guardian
          ? // A minor whose card the guardian's overdue statement stops (guardianResponsible): whose, and who pays it.
            d.also
            ? `Your guardian's statement of ${s(d, 'statementDate')} was due on ${s(d, 'dueDate')} and is still unpaid too: ` +
              'new charges on your card stay refused until your guardian pays it, even once yours is paid.'
            : `Your guardian's statement of ${s(d, 'statementDate')} was due on ${s(d, 'dueDate')} and is still unpaid. ` +
              'New charges on your card are refused until your guardian pays it; free content stays open.'
          : `${d.ward ? `The statement of ${s(d, 'ward')}, whose card you are responsible for,` : 'Your statement'} of ${s(d, 'statementDate')} ` +
            `was due on ${s(d, 'dueDate')} and ${s(d, 'amount')} is still unpaid. ` +
            // The guardian's card answers for the ward's (delinquency.guardianResponsible, the only setting that tells the guardian).
            `${d.ward ? (d.siblings ? "New charges on that card, on yours and on your other children's cards are refused" : 'New charges on that card and on yours are refused') : 'New charges are refused'} until it is paid; free content stays open.` +
            (d.also ? ' Another overdue statement your card answers for stops it too: your account page says which.' : ''),
      ko: (d) =>
        d.sibling
          ? `보호자님이 책임지는 ${s(d, 'statementDate')} 명세서의 납부 기한(${s(d, 'dueDate')})이 지났으며 아직 납부되지 않았습니다. ` +
            '보호자님이 납부할 때까지 회원님 카드의 새 결제가 거절되며, 무료 콘텐츠는 계속 이용할 수 있습니다.' +
            (d.also ? ' 카드가 책임지는 다른 미납 명세서도 있어 그 명세서가 납부될 때까지 새 결제가 계속 거절됩니다. 어떤 명세서인지는 계정 페이지에서 확인할 수 있습니다.' : '')
          : d.guardian
          ? d.also
            ? `보호자님의 ${s(d, 'statementDate')} 명세서도 납부 기한(${s(d, 'dueDate')})이 지났으며 아직 미납입니다. ` +
              '회원님의 명세서를 납부하더라도 보호자님이 납부할 때까지 회원님 카드의 새 결제는 거절됩니다.'
            : `보호자님의 ${s(d, 'statementDate')} 명세서는 납부 기한(${s(d, 'dueDate')})이 지났으며 아직 미납입니다. ` +
              '보호자님이 납부할 때까지 회원님 카드의 새 결제가 거절되며, 무료 콘텐츠는 계속 이용할 수 있습니다.'
          : `${d.ward ? `보호자로서 책임지고 계신 ${s(d, 'ward')} 님의 ` : ''}${s(d, 'statementDate')} 명세서는 납부 기한(${s(d, 'dueDate')})이 지났으며 ` +
            `미납액(${s(d, 'amount')})이 아직 남아 있습니다. ` +
            `${d.ward ? (d.siblings ? '납부할 때까지 그 카드와 보호자님의 카드, 다른 자녀 카드 모두 새 결제가 거절되며' : '납부할 때까지 그 카드와 보호자님의 카드 모두 새 결제가 거절되며') : '납부할 때까지 새 결제는 거절되며'}, 무료 콘텐츠는 계속 이용할 수 있습니다.` +
            (d.also ? ' 카드가 책임지는 다른 미납 명세서도 있어 그 명세서가 납부될 때까지 새 결제가 계속 거절됩니다. 어떤 명세서인지는 계정 페이지에서 확인할 수 있습니다.' : ''),
    },
    sms: {
      en: (d) =>
        d.sibling
          ? `A cyber card statement your guardian answers for (${s(d, 'statementDate')}) is unpaid since ${s(d, 'dueDate')}. ` +
            'New charges on your card are paused until your guardian pays it.'
          : d.guardian
          ? `Your guardian's cyber card statement of ${s(d, 'statementDate')} is unpaid since ${s(d, 'dueDate')}. ` +
            (d.also ? 'New charges stay paused until your guardian pays it, even if you pay yours.' : 'New charges on your card are paused until your guardian pays it.')
          : `${d.ward ? `The cyber card statement of ${s(d, 'ward')}` : 'Your cyber card statement'} of ${s(d, 'statementDate')}: ` +
            `${s(d, 'amount')} unpaid since ${s(d, 'dueDate')}. ` +
            (d.also ? 'Charges stay paused until all overdue ones are paid.' : 'New charges are paused until it is paid.'),
      ko: (d) =>
        d.sibling
          ? `보호자님이 책임지는 ${s(d, 'statementDate')} 사이버 카드 명세서가 납부 기한(${s(d, 'dueDate')})이 지나 미납입니다. ` +
            '보호자님이 납부할 때까지 회원님 카드의 새 결제가 중지됩니다.'
          : d.guardian
          ? `보호자님의 ${s(d, 'statementDate')} 사이버 카드 명세서가 납부 기한(${s(d, 'dueDate')})이 지나 미납입니다. ` +
            (d.also ? '회원님 명세서를 납부해도 보호자님이 납부할 때까지 새 결제가 중지됩니다.' : '보호자님이 납부할 때까지 회원님 카드의 새 결제가 중지됩니다.')
          : `${d.ward ? `${s(d, 'ward')} 님의 ` : ''}${s(d, 'statementDate')} 사이버 카드 명세서가 납부 기한(${s(d, 'dueDate')})이 지나 ${s(d, 'amount')} 미납입니다. ` +
            (d.also ? '이 명세서와 카드가 책임지는 다른 미납 명세서가 모두 납부될 때까지 새 결제가 중지됩니다.' : '납부할 때까지 새 결제가 중지됩니다.'),
    },
  },
  statement_paid_still_paused: {
    subject: { en: 'Your cyber card statement is paid', ko: '사이버 카드 명세서가 납부되었습니다' },
    text: {
      en: (d) =>
        `${d.sibling ? 'The overdue statement your guardian answers for' : d.guardian ? "Your guardian's overdue statement" : d.ward ? `The overdue statement of ${s(d, 'ward')}, whose card you are responsible for,` : 'Your overdue statement'} is paid. ` +
        'New charges on your card stay refused while another statement it answers for is overdue: your account page says which.',
      ko: (d) =>
        `${d.sibling ? '보호자님이 책임지는 ' : d.guardian ? '보호자님의 ' : d.ward ? `보호자로서 책임지고 계신 ${s(d, 'ward')} 님의 ` : ''}미납 명세서가 납부되었습니다. ` +
        '카드가 책임지는 다른 명세서가 미납인 동안에는 새 결제가 계속 거절됩니다. 어떤 명세서인지는 계정 페이지에서 확인할 수 있습니다.',
    },
    sms: {
      en: (d) =>
        `${d.sibling ? 'The cyber card statement your guardian answers for' : `${d.guardian ? "Your guardian's" : d.ward ? `${s(d, 'ward')}'s` : 'Your'} cyber card statement`} is paid. New charges stay paused while another statement your card answers for is overdue.`,
      ko: (d) =>
        `${d.sibling ? '보호자님이 책임지는 ' : d.guardian ? '보호자님의 ' : d.ward ? `${s(d, 'ward')} 님의 ` : ''}사이버 카드 명세서가 납부되었습니다. 카드가 책임지는 다른 명세서가 미납인 동안 새 결제는 계속 중지됩니다.`,
    },
  },
  payment_restored: {
    subject: { en: 'Your cyber card can pay again', ko: '사이버 카드로 다시 결제할 수 있습니다' },
    text: {
      en: (d) =>
        d.sibling
          ? 'The overdue statement your guardian answers for is paid: your card is in good standing again and new charges are accepted.'
          : d.guardian
          ? "Your guardian's overdue statement is paid: your card is in good standing again and new charges are accepted."
          : d.ward
            ? `The card of ${s(d, 'ward')} is in good standing again: new charges are accepted on it and on yours.`
            : 'Your card is in good standing again: new charges are accepted.',
      ko: (d) =>
        d.sibling
          ? '보호자님이 책임지는 미납 명세서가 납부되어 회원님의 카드가 다시 정상 상태가 되었습니다. 새 결제를 받을 수 있습니다.'
          : d.guardian
          ? '보호자님의 미납 명세서가 납부되어 회원님의 카드가 다시 정상 상태가 되었습니다. 새 결제를 받을 수 있습니다.'
          : d.ward
            ? `${s(d, 'ward')} 님의 카드가 다시 정상 상태가 되어 그 카드와 보호자님의 카드 모두 새 결제를 받을 수 있습니다.`
            : '카드가 다시 정상 상태가 되어 새 결제를 받을 수 있습니다.',
    },
  },
  // The signed-in holder downloaded a copy of their data (/card/data, /api/holder/data): someone who learnt the password
  // could otherwise take it unseen.
  holder_data_downloaded: {
    subject: { en: 'A copy of your cyber card data was downloaded', ko: '사이버 카드 개인정보 사본이 다운로드되었습니다' },
    text: {
      en: (d, l) => `A copy of your data (the account of the cyber card ending in ${s(d, 'last4')}) was downloaded from your card pages on ${s(d, 'at')}. ${notYou.en(l)}`,
      ko: (d, l) => `끝자리 ${s(d, 'last4')} 사이버 카드 계정의 개인정보 사본이 ${s(d, 'at')}에 카드 페이지에서 다운로드되었습니다. ${notYou.ko(l)}`,
    },
    sms: {
      en: (d, l) => `Your cyber card data was downloaded on ${s(d, 'at')}. ${shortNotYou.en(l)}`,
      ko: (d, l) => `사이버 카드 개인정보 사본이 ${s(d, 'at')}에 다운로드되었습니다. ${shortNotYou.ko(l)}`,
    },
  },
  // An operator gave out a copy of the holder's data (a data-subject request, cards/export-holder-data.ts): a request
  // made in the holder's name by someone else would otherwise go unseen but in the activity.
  holder_data_given_out: {
    subject: { en: 'A copy of your cyber card data was given out', ko: '사이버 카드 개인정보 사본이 제공되었습니다' },
    text: {
      en: (d) =>
        `A copy of your data (the account of the cyber card ending in ${s(d, 'last4')}) was given out on a request on ${s(d, 'at')}. ` +
        'If you did not ask for it, contact cybercard at once.',
      ko: (d) =>
        `끝자리 ${s(d, 'last4')} 사이버 카드 계정의 개인정보 사본이 ${s(d, 'at')}에 요청에 따라 제공되었습니다. ` +
        '본인이 요청하지 않으셨다면 즉시 사이버카드에 연락해 주세요.',
    },
    sms: {
      en: (d) => `A copy of your cyber card data was given out on a request on ${s(d, 'at')}. If you did not ask for it, contact cybercard.`,
      ko: (d) => `사이버 카드 개인정보 사본이 ${s(d, 'at')}에 요청에 따라 제공되었습니다. 요청하지 않으셨다면 사이버카드에 연락해 주세요.`,
    },
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

/**
 * Renders a queued message in the recipient's language, in the SMS's shorter words where the template has them;
 * `baseUrl` is the card manager's public address, for links.
 */
export function renderMessage(template: string, data: Data, baseUrl: string, locale: Locale, channel: Channel): RenderedMessage {
  const t = Object.hasOwn(TEMPLATES, template) ? TEMPLATES[template] : undefined;
  if (!t) throw new UnknownTemplateError(template);
  const links = { lost: `${baseUrl}/card/lost`, reissue: `${baseUrl}/card/reissue`, children: `${baseUrl}/card/wards`, disputes: `${baseUrl}/card/disputes`, account: `${baseUrl}/card/account` };
  const words = channel === 'sms' && t.sms ? t.sms : t.text;
  const shown = Object.fromEntries(Object.entries(data).map(([k, v]) => [k, inLanguage(k, v, locale)]));
  return { subject: t.subject[locale], text: words[locale](shown, links) };
}

/**
 * A data value as the reader's language writes it: an amount (lib/money.ts Money) and a time (lib/local-time.ts
 * LocalTime) formatted here, where the language is known; anything else as it is.
 */
function inLanguage(key: string, v: unknown, locale: Locale): unknown {
  const formatted = formatData(v, locale);
  if (formatted !== undefined) return formatted;
  if (typeof v === 'string' && locale !== 'en') return legacyInLanguage(key, v, locale);
  return v;
}

/** The data fields that held an amount or a time written in English before they were data. */
const LEGACY_AMOUNTS: ReadonlySet<string> = new Set(['amount', 'refunded', 'released']);
const LEGACY_TIMES: ReadonlySet<string> = new Set(['at', 'until']);

/**
 * Compatibility for rows queued before amounts and times were data, and only for them: their data holds an amount or
 * a time written in English ("4,000 KRW", "2026-12-06 15:43 Asia/Seoul") in one of the fields that carried one, shown
 * in the reader's form ("4,000원", "2026-12-06 15:43 한국 시간"). Nothing queues such a string any more: once no row
 * queued before then is still unsent, this can go.
 */
function legacyInLanguage(key: string, text: string, locale: Locale): string {
  const amount = LEGACY_AMOUNTS.has(key) ? readEnglishMoney(text) : undefined;
  if (amount) return formatMoney(amount.amount, amount.currency, locale);
  return (LEGACY_TIMES.has(key) ? localizeEnglishTime(text, locale) : undefined) ?? text;
}
