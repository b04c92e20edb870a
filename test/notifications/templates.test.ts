import { expect } from 'chai';
import { LOCALES } from '../../src/lib/i18n.ts';
import { formatTime, isLocalTime } from '../../src/lib/local-time.ts';
import { formatMoney, isMoney } from '../../src/lib/money.ts';
import { renderMessage, TEMPLATES } from '../../src/notifications/templates.ts';
import { LEGACY_SAMPLES, LONG_SAMPLES, SAMPLES } from './samples.ts';

const BASE = 'https://cybercard.example';
/** A card manager's public address as long as a real one gets. */
const LONG_BASE = 'https://cards.cybercard.example';
/** The longest SMS form a template may have: 160 characters, links included (one GSM-7 message; Korean text goes as LMS or in parts). */
const SMS_MAX = 160;

/** The text with the data's values and the links taken out: only the template's own words are left. */
function ownWords(text: string, data: Record<string, unknown>): string {
  let rest = text.replace(/https:\/\/cybercard\.example\/card\/[a-z]+/g, '');
  for (const v of Object.values(data)) {
    if (typeof v === 'string' && v) rest = rest.replaceAll(v, '');
    for (const locale of LOCALES) {
      if (isMoney(v)) rest = rest.replaceAll(formatMoney(v.amount, v.currency, locale), '');
      if (isLocalTime(v)) rest = rest.replaceAll(formatTime(v, locale), '');
    }
  }
  return rest.replace(/\b(KRW|cybercard)\b/g, '');
}

describe('notification templates (notifications/templates.ts)', () => {
  it('has sample data for every template, so the walks below cover them all', () => {
    expect(Object.keys(SAMPLES).sort()).to.deep.equal(Object.keys(TEMPLATES).sort());
  });

  for (const [name, samples] of Object.entries(SAMPLES)) {
    it(`${name}: a subject and text in Korean with no English words left, in English with no Korean, on both channels`, () => {
      for (const data of samples) {
        for (const channel of ['email', 'sms'] as const) {
          const ko = renderMessage(name, data, BASE, 'ko', channel);
          const en = renderMessage(name, data, BASE, 'en', channel);
          const where = `${name} ${channel} ${JSON.stringify(data)}`;
          for (const m of [ko, en]) {
            expect(m.subject, where).to.not.equal('');
            expect(m.text, where).to.not.match(/undefined|NaN|\[object|\{\w+\}/);
          }
          expect(ownWords(`${ko.subject} ${ko.text}`, data), where).to.not.match(/[A-Za-z]{2,}/);
          expect(`${ko.subject} ${ko.text}`, where).to.match(/[가-힣]/);
          expect(`${en.subject} ${en.text}`, where).to.not.match(/[가-힣]/);
        }
      }
    });
  }

  it('writes Korean amounts in won, the service as 사이버카드, and no both-ways particle such as 을(를) after a value', () => {
    for (const [name, samples] of Object.entries({ ...SAMPLES, ...LONG_SAMPLES })) {
      for (const data of samples) {
        for (const channel of ['email', 'sms'] as const) {
          const ko = renderMessage(name, data, BASE, 'ko', channel);
          const where = `${name} ${channel} ${JSON.stringify(data)}`;
          expect(`${ko.subject} ${ko.text}`.replace(/https:\/\/\S+/g, ''), where).to.not.match(/KRW|cybercard|\((?:을|를|이|가|은|는|와|과|으)\)/);
        }
      }
    }
    const refunded = renderMessage('payment_refunded', SAMPLES.payment_refunded![0]!, BASE, 'ko', 'email').text;
    expect(refunded).to.include('12,000원');
    const due = renderMessage('statement_ready', SAMPLES.statement_ready![0]!, BASE, 'ko', 'email').text;
    expect(due).to.include('120,000원');
    const code = renderMessage('password_reset_code', SAMPLES.password_reset_code?.[0] ?? {}, BASE, 'ko', 'email').text;
    expect(code).to.include('사이버카드는 절대 이 코드를 묻지 않습니다');
  });

  it('formats amounts and times queued as data in the reader\'s language: 12,000원 / US$12.50 / 한국 시간 in Korean, English as before', () => {
    const paid = { approvalNo: '12345678', last4: '4242', site: 'Zzz', amount: { amount: 12000, currency: 'KRW' } };
    expect(renderMessage('payment_approved', paid, BASE, 'ko', 'email').text).to.include('Zzz에서 12,000원 결제');
    expect(renderMessage('payment_approved', paid, BASE, 'en', 'email').text).to.include('Approval 12345678: 12,000 KRW at Zzz');
    const dollars = { ...paid, amount: { amount: 1250, currency: 'USD' } };
    expect(renderMessage('payment_approved', dollars, BASE, 'ko', 'email').text).to.include('Zzz에서 US$12.50 결제');
    expect(renderMessage('payment_approved', dollars, BASE, 'en', 'email').text).to.include('Approval 12345678: 12.50 USD at Zzz');
    const locked = { last4: '4242', until: { at: '2026-12-06T06:43:00.000Z', timeZone: 'Asia/Seoul' } };
    for (const channel of ['email', 'sms'] as const) {
      expect(renderMessage('card_locked', locked, BASE, 'ko', channel).text).to.include('2026-12-06 15:43 한국 시간까지 잠겼습니다').and.not.include('Asia/Seoul');
      expect(renderMessage('card_locked', locked, BASE, 'en', channel).text).to.include('until 2026-12-06 15:43 Asia/Seoul.');
    }
    for (const [name, samples] of Object.entries(SAMPLES)) {
      for (const data of samples) {
        for (const channel of ['email', 'sms'] as const) expect(renderMessage(name, data, BASE, 'ko', channel).text, `${name} ${channel}`).not.to.match(/Asia\/Seoul|KRW/);
      }
    }
  });

  it('still shows rows queued before amounts and times were data (English strings) in the reader\'s language, and as they were in English', () => {
    const ko = (name: string) => renderMessage(name, LEGACY_SAMPLES[name]!, BASE, 'ko', 'email').text;
    const en = (name: string) => renderMessage(name, LEGACY_SAMPLES[name]!, BASE, 'en', 'email').text;
    expect(ko('payment_approved')).to.include('Zzz에서 12,000원 결제').and.not.include('KRW');
    expect(ko('dispute_decided')).to.include('받아들여졌습니다: US$8.00 환불, 보류 중이던 4,000원 해제.');
    expect(ko('payment_overdue')).to.include('미납액(120,000원)');
    expect(ko('card_locked')).to.include('2026-12-06 10:17 한국 시간까지 잠겼습니다').and.not.include('Asia/Seoul');
    expect(ko('new_device_login')).to.include('(2026-12-06 10:17 한국 시간)');
    expect(en('payment_approved')).to.include('Approval 12345678: 12,000 KRW at Zzz');
    expect(en('dispute_decided')).to.include('was upheld: 8.00 USD refunded and 4,000 KRW held released.');
    expect(en('card_locked')).to.include('until 2026-12-06 10:17 Asia/Seoul.');
    // Only the fields that held an amount or a time are read so: a site's name is its own.
    expect(renderMessage('payment_approved', { ...LEGACY_SAMPLES.payment_approved, site: '1,000 KRW' }, BASE, 'ko', 'email').text).to.include('1,000 KRW에서 12,000원 결제');
    // The same message queued as data reads the same.
    expect(renderMessage('card_locked', SAMPLES.card_locked![0]!, BASE, 'ko', 'email').text).to.equal(ko('card_locked'));
    expect(renderMessage('payment_approved', SAMPLES.payment_approved![0]!, BASE, 'ko', 'email').text).to.equal(ko('payment_approved'));
  });

  it('gives the SMS the short form where a template has one: no longer than the email, at most 160 characters, in every language', () => {
    const withSms = Object.keys(TEMPLATES).filter((name) => TEMPLATES[name]!.sms);
    expect(withSms).to.include('statement_day_changed');
    for (const name of withSms) {
      for (const data of SAMPLES[name]!) {
        for (const locale of LOCALES) {
          const sms = renderMessage(name, data, BASE, locale, 'sms').text;
          const email = renderMessage(name, data, BASE, locale, 'email').text;
          expect(sms.length, `${name} ${locale} ${sms}`).to.be.at.most(SMS_MAX).and.at.most(email.length);
        }
      }
    }
  });

  it('keeps every SMS of every template to 160 characters, in every language, with values as long as real ones', () => {
    expect(Object.keys(LONG_SAMPLES).sort()).to.deep.equal(Object.keys(TEMPLATES).sort());
    const over: string[] = [];
    for (const [name, samples] of Object.entries(LONG_SAMPLES)) {
      for (const data of samples) {
        for (const locale of LOCALES) {
          const sms = renderMessage(name, data, LONG_BASE, locale, 'sms').text;
          if (sms.length > SMS_MAX) over.push(`${name} ${locale} (${sms.length}): ${sms}`);
        }
      }
    }
    expect(over).to.deep.equal([]);
  });

  describe("the operator's own words", () => {
    const FRAMES = { en: /Note from cybercard staff: “([^”]*)”/, ko: /담당자 메모: “([^”]*)”/ } as const;
    const NOTED: Array<[string, string]> = [
      ['application_rejected', 'reason'],
      ['dispute_decided', 'note'],
    ];

    it('are quoted as theirs, in the holder’s language, and never translated or cut', () => {
      for (const [name, key] of NOTED) {
        for (const samples of [SAMPLES, LONG_SAMPLES]) {
          for (const data of samples[name]!.filter((d) => d[key])) {
            for (const locale of LOCALES) {
              const email = renderMessage(name, data, BASE, locale, 'email').text;
              expect(FRAMES[locale].exec(email)?.[1], `${name} ${locale}: ${email}`).to.equal(data[key]);
              // An SMS quotes the words whole, or says where to read them: never a part of them.
              const sms = renderMessage(name, data, BASE, locale, 'sms').text;
              const quoted = FRAMES[locale].exec(sms)?.[1];
              if (quoted !== undefined) expect(quoted, `${name} ${locale} sms`).to.equal(data[key]);
              else expect(sms, `${name} ${locale} sms`).not.to.include(String(data[key]).slice(0, 12));
            }
          }
        }
      }
    });

    it('say nothing of a note when there is none', () => {
      for (const [name, key] of NOTED) {
        for (const data of SAMPLES[name]!.filter((d) => !d[key])) {
          for (const locale of LOCALES) {
            for (const channel of ['email', 'sms'] as const) {
              const text = renderMessage(name, data, BASE, locale, channel).text;
              expect(text, `${name} ${locale} ${channel}`).not.to.match(/Note from|담당자 메모|“/);
            }
          }
        }
      }
    });

    it('tells by SMS where to read a note too long for it: the email of a refused application, the reports page of a dispute', () => {
      const rejected = LONG_SAMPLES.application_rejected!.find((d) => d.reason)!;
      expect(renderMessage('application_rejected', rejected, LONG_BASE, 'en', 'sms').text).to.match(/email/);
      expect(renderMessage('application_rejected', rejected, LONG_BASE, 'ko', 'sms').text).to.match(/이메일/);
      for (const data of LONG_SAMPLES.dispute_decided!.filter((d) => d.note)) {
        for (const locale of LOCALES) expect(renderMessage('dispute_decided', data, LONG_BASE, locale, 'sms').text).to.include(`${LONG_BASE}/card/disputes`);
      }
    });
  });

  it('keeps the facts of a statement-day change in its short SMS: the new day, when the period closes, when payment is due', () => {
    for (const data of SAMPLES.statement_day_changed!) {
      const email = renderMessage('statement_day_changed', data, BASE, 'en', 'email').text;
      expect(email.length, 'the email keeps the full text').to.be.above(170);
      for (const locale of LOCALES) {
        const sms = renderMessage('statement_day_changed', data, BASE, locale, 'sms').text;
        expect(sms.length).to.be.at.most(SMS_MAX);
        for (const fact of [String(data.day), String(data.closes), String(data.due)]) expect(sms, `${locale}: ${fact}`).to.include(fact);
        // The holder's own change still says what to do if it was not them.
        expect(sms.includes(`${BASE}/card/lost`), locale).to.equal(data.by === 'holder');
      }
    }
    expect(renderMessage('statement_day_changed', SAMPLES.statement_day_changed![0]!, BASE, 'ko', 'sms').text).to.equal(
      `사이버 카드 명세서 작성일이 매월 15일로 바뀌었습니다. 이번 기간은 2027-01-01 마감, 납부 기한은 2027-01-15입니다. 본인이 아니라면 카드를 정지하세요: ${BASE}/card/lost`,
    );
  });
});
