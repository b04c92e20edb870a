import { expect } from 'chai';
import { formatMoney, isMoney, MAX_AMOUNT, money, parseTypedAmount, readEnglishMoney, typedAmount } from '../../src/lib/money.ts';

describe('typed amounts (lib/money.ts)', () => {
  it('reads what a holder types in the currency\'s own unit, grouped or not, as minor units', () => {
    expect(['1', '1000', '1,000', '1,000,000'].map((s) => parseTypedAmount(s, 'KRW'))).to.deep.equal([1, 1000, 1000, 1_000_000]);
    expect(['12', '12.5', '12.50', '0.01', '1,000.25'].map((s) => parseTypedAmount(s, 'USD'))).to.deep.equal([1200, 1250, 1250, 1, 100_025]);
    expect(parseTypedAmount('0', 'KRW')).to.equal(0);
  });

  it('refuses more decimals than the currency has, signs, odd groups, and more than the largest amount', () => {
    for (const [typed, currency] of [
      ['12.5', 'KRW'],
      ['12.505', 'USD'],
      ['-1', 'KRW'],
      ['+1', 'KRW'],
      ['1,00', 'KRW'],
      ['10,000,0', 'KRW'],
      ['1 000', 'KRW'],
      ['1e3', 'KRW'],
      ['.5', 'USD'],
      ['5.', 'USD'],
      ['', 'KRW'],
      [String(MAX_AMOUNT + 1), 'KRW'],
      ['10000000000.01', 'USD'],
    ] as const) {
      expect(parseTypedAmount(typed, currency), `${typed} ${currency}`).to.equal(undefined);
    }
    expect(parseTypedAmount(String(MAX_AMOUNT), 'KRW')).to.equal(MAX_AMOUNT);
  });

  it('writes minor units back the way they are read, and as the pages show them', () => {
    for (const [amount, currency] of [[0, 'USD'], [1, 'USD'], [1250, 'USD'], [100_025, 'USD'], [1000, 'KRW'], [0, 'KRW']] as const) {
      expect(parseTypedAmount(typedAmount(amount, currency), currency)).to.equal(amount);
    }
    expect([typedAmount(1250, 'USD'), typedAmount(5, 'USD'), typedAmount(1000, 'KRW')]).to.deep.equal(['12.50', '0.05', '1000']);
    expect(formatMoney(1250, 'USD')).to.equal('12.50 USD');
  });
});

describe('amounts in Korean (lib/money.ts)', () => {
  it('writes won as 원 after the figure, other currencies as Korean pages write them, and English as before', () => {
    expect(formatMoney(4000, 'KRW', 'ko')).to.equal('4,000원');
    expect(formatMoney(1250, 'USD', 'ko')).to.equal('US$12.50');
    expect(formatMoney(1000, 'JPY', 'ko')).to.equal('JP¥1,000');
    expect(formatMoney(1234, 'BHD', 'ko')).to.match(/^BHD\s?1\.234$/);
    expect(formatMoney(4000, 'KRW')).to.equal('4,000 KRW');
    expect(formatMoney(4000, 'KRW', 'en')).to.equal('4,000 KRW');
    expect(formatMoney(1250, 'USD')).to.equal('12.50 USD');
  });

  it('keeps an amount as data (minor units and currency) that survives JSON, and knows it from anything else', () => {
    const a = money(1250, 'USD');
    expect(a).to.deep.equal({ amount: 1250, currency: 'USD' });
    expect(isMoney(JSON.parse(JSON.stringify(a)))).to.equal(true);
    for (const other of ['12.50 USD', 1250, null, [1250, 'USD'], { amount: 12.5, currency: 'USD' }, { amount: 1250, currency: 'usd' }, { amount: 1250 }, { amount: 1250, currency: 'USD', note: 'x' }]) {
      expect(isMoney(other), JSON.stringify(other)).to.equal(false);
    }
  });

  it('reads an amount formatMoney wrote in English back as data (stored legacy text only), and nothing else', () => {
    expect(readEnglishMoney('4,000 KRW')).to.deep.equal({ amount: 4000, currency: 'KRW' });
    expect(readEnglishMoney('1,000,000,000,000 KRW')).to.deep.equal({ amount: 1_000_000_000_000, currency: 'KRW' });
    expect(readEnglishMoney('12.50 USD')).to.deep.equal({ amount: 1250, currency: 'USD' });
    for (const other of ['Site 4,000 KRW', '4,000 krw', '4000 KRW!', '12.5 USD', '4,000원', '—', '']) expect(readEnglishMoney(other), other).to.equal(undefined);
  });
});
