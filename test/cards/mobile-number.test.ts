import { expect } from 'chai';
import { checkMobile } from '../../src/cards/mobile-number.ts';

/** The E.164 form checkMobile stores for `input`, or undefined when it refuses it. */
function stored(input: string, callingCode: string): string | undefined {
  const c = checkMobile(input, callingCode);
  return c.ok ? c.value : undefined;
}

describe('a mobile number in its one stored form', () => {
  it('national form takes the configured calling code, without its trunk 0', () => {
    expect(stored('010-1234-5678', '82')).to.equal('+821012345678');
    expect(stored('07700 900123', '44')).to.equal('+447700900123');
  });

  it('a trunk 0 written after the configured calling code is dropped', () => {
    expect(stored('+82 010-1234-5678', '82')).to.equal('+821012345678');
    expect(stored('+82 (0)10 1234 5678', '82')).to.equal('+821012345678');
    expect(stored('+44 (0)7700 900123', '44')).to.equal('+447700900123');
  });

  it('a Korean number keeps one form in a deployment configured for another country (the 2026-12 migration rewrote old rows so)', () => {
    expect(stored('+82 010-1234-5678', '1')).to.equal('+821012345678');
    expect(stored('+82 10-1234-5678', '1')).to.equal('+821012345678');
  });

  it("another country's leading 0 is kept where it is part of the number (Italy's landlines)", () => {
    expect(stored('+39 06 6982 1234', '82')).to.equal('+390669821234');
  });

  it('refuses what is not a number', () => {
    expect(stored('', '82')).to.equal(undefined);
    expect(stored('+82 010--1234-5678', '82')).to.equal(undefined);
    expect(stored('12345', '82')).to.equal(undefined);
  });
});
