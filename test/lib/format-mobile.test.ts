import { expect } from 'chai';
import { formatMobile } from '../../src/lib/format-mobile.ts';

describe('formatMobile', () => {
  it('writes a Korean number as it is read: calling code, then the national number in groups', () => {
    expect(formatMobile('+821022223333')).to.equal('+82 10-2222-3333');
    expect(formatMobile('+82111234567')).to.equal('+82 11-123-4567');
    expect(formatMobile('+8221234567')).to.equal('+82 2-123-4567');
    expect(formatMobile('+82212345678')).to.equal('+82 2-1234-5678');
    expect(formatMobile('+823112345678')).to.equal('+82 31-1234-5678');
  });

  it('leaves other countries, odd lengths and anything not E.164 as they are', () => {
    for (const n of ['+14155550123', '+447700900123', '+8210222', '+8210222233334444', '010-2222-3333', '', '+82 10-2222-3333']) {
      expect(formatMobile(n), n).to.equal(n);
    }
  });
});
