import { expect } from 'chai';
import { formatLocalTime, formatTime, isLocalTime, localizeEnglishTime, localTime } from '../../src/lib/local-time.ts';

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

  it('names the zone as Korean readers do in Korean (한국 시간), any other zone by its id, and English as before', () => {
    expect(formatLocalTime(at, 'Asia/Seoul', 'ko')).to.equal('2026-12-06 15:43 한국 시간');
    expect(formatLocalTime(at, 'UTC', 'ko')).to.equal('2026-12-06 06:43 UTC');
    expect(formatLocalTime(at, 'Asia/Seoul', 'en')).to.equal('2026-12-06 15:43 Asia/Seoul');
  });

  it('keeps a time as data (the instant and its zone) that survives JSON, formatted in the language asked for', () => {
    const t = JSON.parse(JSON.stringify(localTime(at, 'Asia/Seoul'))) as unknown;
    expect(isLocalTime(t)).to.equal(true);
    if (!isLocalTime(t)) return;
    expect(formatTime(t, 'ko')).to.equal('2026-12-06 15:43 한국 시간');
    expect(formatTime(t, 'en')).to.equal('2026-12-06 15:43 Asia/Seoul');
    for (const other of ['2026-12-06 15:43 Asia/Seoul', null, { at: 'yesterday', timeZone: 'Asia/Seoul' }, { at: at.toISOString() }, { at: at.toISOString(), timeZone: 'UTC', x: 1 }]) {
      expect(isLocalTime(other), JSON.stringify(other)).to.equal(false);
    }
  });

  it('renames the zone of a time formatLocalTime wrote in English (stored legacy text only), and reads nothing else', () => {
    expect(localizeEnglishTime('2026-12-06 15:43 Asia/Seoul', 'ko')).to.equal('2026-12-06 15:43 한국 시간');
    expect(localizeEnglishTime('2026-12-06 15:43 America/Argentina/ComodRivadavia', 'ko')).to.equal('2026-12-06 15:43 America/Argentina/ComodRivadavia');
    expect(localizeEnglishTime('2026-12-06 15:43 Asia/Seoul', 'en')).to.equal('2026-12-06 15:43 Asia/Seoul');
    for (const other of ['Asia/Seoul', '2026-12-06 Asia/Seoul', 'at 2026-12-06 15:43 Asia/Seoul', '']) expect(localizeEnglishTime(other, 'ko'), other).to.equal(undefined);
  });
});
