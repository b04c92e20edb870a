import { expect } from 'chai';
import { LOCALES } from '../../src/lib/i18n.ts';
import { renderMessage, TEMPLATES } from '../../src/notifications/templates.ts';
import { SAMPLES } from './samples.ts';

const BASE = 'https://cybercard.example';
/** The longest SMS form a template may have: one 160-character message, links included. */
const SMS_MAX = 160;

/** The text with the data's values and the links taken out: only the template's own words are left. */
function ownWords(text: string, data: Record<string, unknown>): string {
  let rest = text.replace(/https:\/\/cybercard\.example\/card\/[a-z]+/g, '');
  for (const v of Object.values(data)) if (typeof v === 'string' && v) rest = rest.replaceAll(v, '');
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

  it('gives the SMS the short form where a template has one: shorter than the email, at most 160 characters, in every language', () => {
    const withSms = Object.keys(TEMPLATES).filter((name) => TEMPLATES[name]!.sms);
    expect(withSms).to.include('statement_day_changed');
    for (const name of withSms) {
      for (const data of SAMPLES[name]!) {
        for (const locale of LOCALES) {
          const sms = renderMessage(name, data, BASE, locale, 'sms').text;
          const email = renderMessage(name, data, BASE, locale, 'email').text;
          expect(sms.length, `${name} ${locale} ${sms}`).to.be.at.most(SMS_MAX).and.below(email.length);
        }
      }
    }
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
