import { expect } from 'chai';
import { formatMoney, MAX_AMOUNT, parseTypedAmount, typedAmount } from '../../src/lib/money.ts';

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
