import { expect } from 'chai';
import { formatLocalTime } from '../../src/lib/local-time.ts';

describe('formatLocalTime', () => {
  const at = new Date('2026-12-06T06:43:59.826Z');

  it('writes an instant in the given time zone, to the minute, with the zone named', () => {
    expect(formatLocalTime(at, 'Asia/Seoul')).to.equal('2026-12-06 15:43 Asia/Seoul');
    expect(formatLocalTime(at, 'UTC')).to.equal('2026-12-06 06:43 UTC');
    expect(formatLocalTime(at, 'America/New_York')).to.equal('2026-12-06 01:43 America/New_York');
  });

  it('moves the date with the zone, and writes midnight as 00, never 24', () => {
    expect(formatLocalTime(new Date('2026-12-31T15:00:00Z'), 'Asia/Seoul')).to.equal('2027-01-01 00:00 Asia/Seoul');
    expect(formatLocalTime(new Date('2026-03-01T04:30:00Z'), 'America/Los_Angeles')).to.equal('2026-02-28 20:30 America/Los_Angeles');
  });
});
