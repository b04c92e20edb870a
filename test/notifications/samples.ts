/** An amount as callers queue it (lib/money.ts Money). */
const won = (amount: number) => ({ amount, currency: 'KRW' });
/** A time as callers queue it (lib/local-time.ts LocalTime): 10:17 on 6 December 2026 in Seoul. */
const SEOUL_TIME = { at: '2026-12-06T01:17:00.000Z', timeZone: 'Asia/Seoul' };

/**
 * Data for every notification template, one entry per branch its words take (what the callers in src/ queue). The
 * values are digits, dates or words in neither language, so a test can take them out and see only the template's own.
 */
export const SAMPLES: Readonly<Record<string, ReadonlyArray<Record<string, unknown>>>> = {
  application_received: [{ last4: '4242', applicationId: 'a1' }],
  application_approved: [{ last4: '4242', applicationId: 'a1' }, { applicationId: 'a1' }],
  application_rejected: [{ applicationId: 'a1', reason: 'Xyzzy' }, { applicationId: 'a1' }],
  card_issued: [{ last4: '4242' }],
  card_blocked: [{ last4: '4242', why: 'suspended' }, { last4: '4242' }],
  card_closed: [{ last4: '4242' }, { last4: '4242', by: 'holder' }, { last4: '4242', signIn: true }, { last4: '4242', by: 'holder', signIn: true }],
  card_unblocked: [{ last4: '4242' }],
  card_reissued: [{ last4: '4242', oldLast4: '1111' }],
  second_factor_set: [{ last4: '4242', replaced: false }, { last4: '4242', replaced: true }],
  second_factor_removed: [{ last4: '4242' }],
  password_changed: [{ last4: '4242', method: 'change' }, { last4: '4242', method: 'reset' }],
  password_reset_code: [{ last4: '4242', code: '123456', minutes: 10 }],
  lost_card_code: [{ last4: '4242', code: '123456', minutes: 10 }],
  reissue_code: [{ last4: '4242', code: '123456', minutes: 10 }],
  codes_stopped: [
    { purpose: 'password_reset', last4: '4242', count: 10 },
    { purpose: 'lost_card', last4: '4242', count: 10 },
    { purpose: 'reissue', last4: '4242', count: 10 },
  ],
  contacts_change_code: [
    { last4: '4242', code: '123456', minutes: 10, channel: 'email' },
    { last4: '4242', code: '123456', minutes: 10, channel: 'sms' },
  ],
  contacts_change_proof: [
    { last4: '4242', code: '123456', minutes: 10, newEmail: 'q@x.test' },
    { last4: '4242', code: '123456', minutes: 10, newMobile: '+821055551234' },
  ],
  contacts_changed: [
    { last4: '4242', by: 'holder', newEmail: 'q@x.test', newMobile: '+821055551234' },
    { last4: '4242', by: 'operator', newMobile: '+821055551234' },
  ],
  contacts_confirmed: [
    { last4: '4242', channel: 'email' },
    { last4: '4242', channel: 'sms' },
  ],
  new_device_login: [{ site: 'Zzz', at: SEOUL_TIME }],
  limit_set_by_guardian: [
    { last4: '4242', amount: 0, previous: 5000000, currency: 'KRW' },
    { last4: '4242', amount: 3000000, previous: 5000000, currency: 'KRW' },
  ],
  statement_day_changed: [
    { day: 15, previous: 1, closes: '2027-01-01', due: '2027-01-15', first: '2027-01-15', by: 'holder' },
    { day: 15, previous: 1, closes: '2026-12-15', due: '2026-12-29', first: '2026-12-15', by: 'guardian' },
    { day: 15, previous: 1, closes: '2026-12-15', due: '2026-12-29', first: '2026-12-15', by: 'operator' },
  ],
  payment_approved: [{ approvalNo: '12345678', last4: '4242', site: 'Zzz', amount: won(12000) }],
  child_payment_approved: [{ approvalNo: '12345678', last4: '4242', site: 'Zzz', amount: won(12000), name: 'Qqq' }],
  card_locked: [{ last4: '4242', until: SEOUL_TIME }],
  hold_released: [
    { approvalNo: '12345678', last4: '4242', site: 'Zzz', amount: won(12000), why: 'expired' },
    { approvalNo: '12345678', last4: '4242', site: 'Zzz', amount: won(12000), why: 'voided' },
  ],
  payment_refunded: [{ approvalNo: '12345678', last4: '4242', site: 'Zzz', amount: won(12000) }],
  dispute_opened: [{ approvalNo: '12345678', last4: '4242', site: 'Zzz', amount: won(12000) }],
  dispute_decided: [
    { approvalNo: '12345678', last4: '4242', site: 'Zzz', decision: 'refunded', refunded: won(8000), released: '', note: 'Xyzzy' },
    { approvalNo: '12345678', last4: '4242', site: 'Zzz', decision: 'refunded', refunded: won(8000), released: won(4000), note: '' },
    { approvalNo: '12345678', last4: '4242', site: 'Zzz', decision: 'refunded', refunded: '', released: '', note: '' },
    { approvalNo: '12345678', last4: '4242', site: 'Zzz', decision: 'rejected', refunded: '', released: '', note: 'Xyzzy' },
  ],
  statement_ready: [
    { statementDate: '2026-12-01', closing: 120000, currency: 'KRW', dueDate: '2026-12-15', reference: 'CC12345678' },
    { statementDate: '2026-12-01', closing: 0, currency: 'KRW', dueDate: '2026-12-15', reference: 'CC12345678' },
  ],
  repayment_received: [{ amount: won(120000) }],
  payout_sent: [{ amount: won(120000) }],
  payment_overdue: [
    { amount: won(120000), statementDate: '2026-11-01', dueDate: '2026-11-15' },
    { amount: won(120000), statementDate: '2026-11-01', dueDate: '2026-11-15', ward: 'Qqq' },
    { statementDate: '2026-11-01', dueDate: '2026-11-15', guardian: true },
    // Another statement the card answers for is overdue too.
    { amount: won(120000), statementDate: '2026-11-01', dueDate: '2026-11-15', also: true },
    { amount: won(120000), statementDate: '2026-11-01', dueDate: '2026-11-15', ward: 'Qqq', also: true },
    { statementDate: '2026-11-01', dueDate: '2026-11-15', guardian: true, also: true },
    { amount: won(120000), statementDate: '2026-11-01', dueDate: '2026-11-15', ward: 'Qqq', siblings: true },
    { statementDate: '2026-11-01', dueDate: '2026-11-15', sibling: true },
    { statementDate: '2026-11-01', dueDate: '2026-11-15', sibling: true, also: true },
  ],
  statement_paid_still_paused: [{}, { ward: 'Qqq' }, { guardian: true }, { sibling: true }],
  payment_restored: [{}, { ward: 'Qqq' }, { guardian: true }, { sibling: true }],
  holder_data_downloaded: [{ last4: '4242', at: SEOUL_TIME }],
  holder_data_given_out: [{ last4: '4242', at: SEOUL_TIME }],
};

/** Values as long as real ones run: a member site's full name, a child's full name, large amounts, a long email address. */
const LONGER_TEXT: Readonly<Record<string, string>> = {
  approvalNo: '1234-5678',
  site: 'Starlight Webtoons and Novels Premium',
  name: 'Alexander Minsu Kim-Park',
  ward: 'Alexander Minsu Kim-Park',
  newEmail: 'alexander.minsu.kim-park@example-mail.co.kr',
  // The operator's free text: as long as a careful note runs, never shortened by us.
  reason:
    'The birthdate on the application does not match the identity document you sent us. Please apply again with the birthdate exactly as it is written on the document.',
  note: 'The member site showed us the delivery record: the item was downloaded twice from your account on the day of the payment, so the charge stands.',
};
/** Amounts and times as long as they get: eight figures, a time zone with one of the longest names there are. */
const LONGER_DATA: Readonly<Record<string, unknown>> = {
  amount: won(12_345_678),
  refunded: won(12_345_678),
  released: won(1_234_567),
  at: { at: '2026-12-06T13:17:00.000Z', timeZone: 'America/Argentina/ComodRivadavia' },
};
const LONGER_NUMBER: Readonly<Record<string, number>> = { amount: 1_000_000_000, previous: 2_000_000_000, closing: 1_234_567_890 };

/** SAMPLES with every value as long as it realistically gets: what an SMS must still fit in one message with. */
export const LONG_SAMPLES: Readonly<Record<string, ReadonlyArray<Record<string, unknown>>>> = Object.fromEntries(
  Object.entries(SAMPLES).map(([name, samples]) => [
    name,
    samples.map((data) =>
      Object.fromEntries(
        Object.entries(data).map(([k, v]) => [
          k,
          typeof v === 'string' && v && k in LONGER_TEXT
            ? LONGER_TEXT[k]
            : typeof v === 'object' && v && k in LONGER_DATA
              ? LONGER_DATA[k]
              : typeof v === 'number' && v && k in LONGER_NUMBER && name !== 'statement_day_changed'
                ? LONGER_NUMBER[k]
                : v,
        ]),
      ),
    ),
  ]),
);

/**
 * Data as rows queued before amounts and times were data hold it: written in English ("12,000 KRW",
 * "2026-12-06 10:17 Asia/Seoul"). The renderer still shows them in the reader's language (templates.ts legacyInLanguage).
 */
export const LEGACY_SAMPLES: Readonly<Record<string, Record<string, unknown>>> = {
  payment_approved: { approvalNo: '12345678', last4: '4242', site: 'Zzz', amount: '12,000 KRW' },
  dispute_decided: { approvalNo: '12345678', last4: '4242', site: 'Zzz', decision: 'refunded', refunded: '8.00 USD', released: '4,000 KRW', note: '' },
  payment_overdue: { amount: '120,000 KRW', statementDate: '2026-11-01', dueDate: '2026-11-15' },
  card_locked: { last4: '4242', until: '2026-12-06 10:17 Asia/Seoul' },
  new_device_login: { site: 'Zzz', at: '2026-12-06 10:17 Asia/Seoul' },
};
