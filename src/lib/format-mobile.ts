/**
 * A mobile number as stored (E.164, "+821022223333") written for reading, the way Koreans write numbers:
 * "+82 10-2222-3333" (Seoul's area code 2 is one digit: "+82 2-123-4567"). The number stays whole, so a holder can
 * check every digit. Other countries' numbers, and anything not E.164, come back as they are.
 */
export function formatMobile(number: string): string {
  const m = /^\+82([1-9][0-9]{7,9})$/.exec(number);
  if (!m) return number;
  const national = m[1]!;
  const prefix = national.startsWith('2') ? 1 : 2;
  const middle = national.slice(prefix, -4);
  if (middle.length < 3 || middle.length > 4) return number;
  return `+82 ${national.slice(0, prefix)}-${middle}-${national.slice(-4)}`;
}
