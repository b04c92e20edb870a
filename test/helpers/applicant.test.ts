import { expect } from 'chai';
import { loadConfig } from '../../src/config/load.ts';
import { ageIn } from '../../src/lib/clock.ts';
import { birthdateForAge } from './applicant.ts';

/**
 * The helper's holders are the age asked on the calendar the test servers count ages on (billing.timeZone, Asia/Seoul
 * in config/): late on 31 December in UTC it is already 1 January there, and a birth year from the UTC date made
 * every holder a year older than asked for those nine hours.
 */
describe('test helper birthdateForAge', () => {
  const { timeZone } = loadConfig({ env: { NODE_ENV: 'test' } }).billing;

  it("is the age asked on billing.timeZone's calendar, at any hour of New Year's Eve in UTC", () => {
    for (const at of ['2026-12-31T00:00:00Z', '2026-12-31T14:59:59Z', '2026-12-31T15:00:00Z', '2026-12-31T23:59:59Z', '2027-01-01T00:00:00Z', '2026-06-15T12:00:00Z']) {
      const now = new Date(at);
      for (const age of [13, 14, 15, 18, 19, 40]) {
        expect(ageIn(birthdateForAge(age, now), timeZone, now), `${age} at ${at}`).to.equal(age);
      }
    }
  });

  it('follows another time zone when given one (a server with billing.timeZone overridden)', () => {
    const now = new Date('2026-12-31T20:00:00Z');
    expect(ageIn(birthdateForAge(15, now, 'America/Los_Angeles'), 'America/Los_Angeles', now)).to.equal(15);
    expect(ageIn(birthdateForAge(15, now, 'Pacific/Kiritimati'), 'Pacific/Kiritimati', now)).to.equal(15);
  });
});
