/** One formatter per time zone: building an Intl.DateTimeFormat is far dearer than using one. */
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-CA', {
      timeZone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/**
 * "2026-12-06 15:43 Asia/Seoul": an instant as holders read it on pages and in notices, in the deployment's time zone
 * (config billing.timeZone, the zone its statements and monthly caps count in), named so nobody has to guess it.
 * The same digits in every language; UTC reads "2026-12-06 06:43 UTC".
 */
export function formatLocalTime(at: Date, timeZone: string): string {
  const parts = Object.fromEntries(formatterFor(timeZone).formatToParts(at).map((p) => [p.type, p.value]));
  return `${parts.year}-${parts.month}-${parts.day} ${parts.hour}:${parts.minute} ${timeZone}`;
}
