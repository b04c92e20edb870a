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

/** Time zones by the name a language's readers use, where it has one; any other zone is shown by its tz id. */
const ZONE_NAMES: Readonly<Record<'en' | 'ko', Readonly<Record<string, string>>>> = { en: {}, ko: { 'Asia/Seoul': '한국 시간' } };

/** A time zone as `locale`'s readers call it: Asia/Seoul is 한국 시간 in Korean; any other zone its tz id. */
export function zoneName(timeZone: string, locale: 'en' | 'ko' = 'en'): string {
  return ZONE_NAMES[locale][timeZone] ?? timeZone;
}

/**
 * "2026-12-06 15:43 Asia/Seoul": an instant as holders read it on pages and in notices, in the deployment's time zone
 * (config billing.timeZone, the zone its statements and monthly caps count in), named so nobody has to guess it.
 * The same digits in every language, the zone by its name in `locale` ("2026-12-06 15:43 한국 시간"); UTC reads
 * "2026-12-06 06:43 UTC".
 */
export function formatLocalTime(at: Date, timeZone: string, locale: 'en' | 'ko' = 'en'): string {
  const parts = Object.fromEntries(formatterFor(timeZone).formatToParts(at).map((p) => [p.type, p.value]));
  return `${parts.year}-${parts.month}-${parts.day} ${parts.hour}:${parts.minute} ${zoneName(timeZone, locale)}`;
}

/**
 * An instant as data with the zone it is read in, for a text or a notification written before its reader's language
 * is known: formatted (formatLocalTime) by the text (lib/i18n.ts) or the notification renderer in the reader's
 * language. Plain JSON (the instant as ISO 8601), so it is stored in a queued notification's data as it is.
 */
export interface LocalTime {
  at: string;
  timeZone: string;
}

/** `at` read in `timeZone`, as data (LocalTime), to be formatted where the reader's language is known. */
export function localTime(at: Date, timeZone: string): LocalTime {
  return { at: at.toISOString(), timeZone };
}

/** Whether `v` is a LocalTime: exactly an ISO instant `at` and a `timeZone` (as JSON keeps it). */
export function isLocalTime(v: unknown): v is LocalTime {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const t = v as Record<string, unknown>;
  return (
    Object.keys(t).length === 2 &&
    typeof t.at === 'string' &&
    /^\d{4}-\d\d-\d\dT/.test(t.at) &&
    !Number.isNaN(Date.parse(t.at)) &&
    typeof t.timeZone === 'string' &&
    t.timeZone.length > 0
  );
}

/** A LocalTime as `locale` writes it (formatLocalTime). */
export function formatTime(t: LocalTime, locale: 'en' | 'ko' = 'en'): string {
  return formatLocalTime(new Date(t.at), t.timeZone, locale);
}

/** What formatLocalTime writes in English: the digits, then the zone's tz id. */
const ENGLISH_LOCAL_TIME = /^(\d{4}-\d\d-\d\d \d\d:\d\d) ([A-Za-z][A-Za-z0-9_+\-/]*)$/;

/**
 * A time formatLocalTime wrote in English ("2026-12-06 15:43 Asia/Seoul") as `locale` writes it ("… 한국 시간");
 * undefined for any other text. Only for text known to be English that was written before its reader's language was
 * known: a notification queued before times were data, and a domain's English sentence recognised by i18n's patterns.
 */
export function localizeEnglishTime(text: string, locale: 'en' | 'ko'): string | undefined {
  const m = ENGLISH_LOCAL_TIME.exec(text);
  return m ? `${m[1]} ${zoneName(m[2]!, locale)}` : undefined;
}
