import type { Conn } from './knex.ts';

/**
 * Guesses count against a card and its sources (ip, device); data_export counts an account's downloads of its data
 * and an operator's copies of holders' data (operatorExportKey); code_request the one-time codes asked for a number,
 * per purpose (codeRequestKey).
 */
export type ThrottleScope = 'card' | 'ip' | 'device' | 'data_export' | 'code_request';

export interface ThrottleKey {
  scope: ThrottleScope;
  key: string;
}

export interface ThrottleRow extends ThrottleKey {
  count: number;
  blockedUntil: Date | null;
  strikes: number;
  /** True when this very attempt was refused (the row was blocked, or the card had no attempt left). */
  refused: boolean;
}

/** Per-card lockout settings (config `lockout`). */
export interface CardLimits {
  maxFailures: number;
  windowSeconds: number;
  coolDownSeconds: number;
  maxCoolDownSeconds: number;
  strikeMemorySeconds: number;
}

/** Per-source progressive delay settings (config `sourceThrottle`). */
export interface SourceLimits {
  freeFailures: number;
  windowSeconds: number;
  baseDelaySeconds: number;
  maxDelaySeconds: number;
}

type Row = Record<string, unknown>;

function toRow(r: Row): ThrottleRow {
  return {
    scope: r.scope as ThrottleScope,
    key: r.key as string,
    count: Number(r.count),
    blockedUntil: r.blocked_until ? new Date(r.blocked_until as string) : null,
    strikes: Number(r.strikes),
    refused: Boolean(r.last_refused),
  };
}

/** Attempts in flight one card may have beyond maxFailures before more are refused outright. */
export const CARD_IN_FLIGHT = 16;

/** The order every statement here locks throttle rows in: the sources (ip, then device), then the card. */
const LOCK_ORDER = "CASE scope WHEN 'ip' THEN 1 WHEN 'device' THEN 2 ELSE 3 END";

const RETURNING = 'RETURNING t.scope, t.key, t.count, t.blocked_until, t.strikes, t.last_refused';

/**
 * Reserves one attempt, in ONE statement, on each source row (ip, device) and then, unless a source
 * refused it, on the card row. A reservation counts as a failure until releaseAttempt() gives it back,
 * so concurrent guesses cannot race past a limit.
 * - A source row is refused while blocked_until lies ahead; past `freeFailures` each reservation pushes
 *   blocked_until out by baseDelay·2^(n−free−1) (capped): a progressive delay, never a hard lock.
 * - The card row is refused while locked, or (a flood guard) while failures and attempts in flight reach
 *   maxFailures + CARD_IN_FLIGHT: a holder's own browsers may log in at once without tripping it, while a
 *   burst of parallel guesses at one card still stops within a bounded number of checks.
 * Counts start again after `windowSeconds` without an attempt. Refused attempts change no count,
 * and a card row is never touched by an attempt its source refused.
 */
export async function reserveAttempt(
  conn: Conn,
  sources: readonly ThrottleKey[],
  cardKey: string | undefined,
  limits: { card: CardLimits; source: SourceLimits },
): Promise<ThrottleRow[]> {
  const s = limits.source;
  const c = limits.card;
  const values = sources.map(() => '(?, ?, 1, now(), now(), false)').join(', ');
  const srcQuiet = 't.updated_at < now() - make_interval(secs => ?::float8)';
  const srcBlocked = 'COALESCE(t.blocked_until > now(), false)';
  const srcNext = `CASE WHEN ${srcQuiet} THEN 1 ELSE t.count + 1 END`;
  const srcSql = `INSERT INTO throttles AS t (scope, key, count, window_start, updated_at, last_refused) VALUES ${values}
    ON CONFLICT (scope, key) DO UPDATE SET
      last_refused = ${srcBlocked},
      count = CASE WHEN ${srcBlocked} THEN t.count ELSE ${srcNext} END,
      window_start = CASE WHEN NOT ${srcBlocked} AND ${srcQuiet} THEN now() ELSE t.window_start END,
      blocked_until = CASE
        WHEN ${srcBlocked} THEN t.blocked_until
        WHEN ${srcNext} > ?::int THEN now() + make_interval(secs => LEAST(?::float8, ?::float8 * power(2, ${srcNext} - ?::int - 1)))
        ELSE t.blocked_until END,
      updated_at = now()
    ${RETURNING}`;
  // The CASE expressions above repeat placeholders; list them in the order they appear in the SQL.
  const ordered = [
    ...sources.flatMap((k) => [k.scope, k.key]),
    s.windowSeconds, // count: srcNext's srcQuiet
    s.windowSeconds, // window_start: srcQuiet
    s.windowSeconds, // blocked_until WHEN: srcNext's srcQuiet
    s.freeFailures,
    s.maxDelaySeconds,
    s.baseDelaySeconds,
    s.windowSeconds, // power(): srcNext's srcQuiet
    s.freeFailures,
  ];
  if (!cardKey) {
    const res = await conn.raw(srcSql, ordered);
    return (res.rows as Row[]).map(toRow);
  }
  const cardFresh = 'CASE WHEN t.updated_at < now() - make_interval(secs => ?::float8) THEN 0 ELSE t.count END';
  const cardRefused = `(COALESCE(t.blocked_until > now(), false) OR ${cardFresh} >= ?::int)`;
  const cardSql = `INSERT INTO throttles AS t (scope, key, count, window_start, updated_at, last_refused)
      SELECT 'card', ?, 1, now(), now(), false WHERE NOT EXISTS (SELECT 1 FROM src WHERE src.last_refused)
    ON CONFLICT (scope, key) DO UPDATE SET
      last_refused = ${cardRefused},
      count = CASE WHEN ${cardRefused} THEN t.count ELSE ${cardFresh} + 1 END,
      window_start = CASE WHEN t.updated_at < now() - make_interval(secs => ?::float8) THEN now() ELSE t.window_start END,
      updated_at = now()
    ${RETURNING}`;
  const cardBindings = [
    cardKey,
    c.windowSeconds,
    c.maxFailures + CARD_IN_FLIGHT, // last_refused
    c.windowSeconds,
    c.maxFailures + CARD_IN_FLIGHT, // count: cardRefused
    c.windowSeconds, // count: cardFresh
    c.windowSeconds, // window_start
  ];
  const sql = `WITH src AS (${srcSql}), card AS (${cardSql})
    SELECT scope, key, count, blocked_until, strikes, last_refused FROM src
    UNION ALL SELECT scope, key, count, blocked_until, strikes, last_refused FROM card`;
  const res = await conn.raw(sql, [...ordered, ...cardBindings]);
  return (res.rows as Row[]).map(toRow);
}

/**
 * Gives back a reserved attempt that succeeded: each row's count drops by one, so earlier failures stay
 * counted. A right password therefore does not wipe wrong second-factor codes (or the reverse): whoever
 * holds the password still reaches the lockout after maxFailures wrong codes. Counts fade after the
 * quiet window, and a password reset clears the card.
 */
export async function releaseAttempt(conn: Conn, keys: readonly ThrottleKey[]): Promise<void> {
  if (keys.length === 0) return;
  // Rows are locked in reserveAttempt's order (ip, device, then card): a release locking them in another
  // order (an UPDATE's scan order) deadlocked with a reservation for the same card from the same address.
  await conn.raw(
    `WITH locked AS (
       SELECT scope, key FROM throttles WHERE (scope, key) IN (${keys.map(() => '(?, ?)').join(', ')})
        ORDER BY ${LOCK_ORDER}, key FOR UPDATE
     )
     UPDATE throttles t SET count = GREATEST(t.count - 1, 0), updated_at = now()
       FROM locked WHERE t.scope = locked.scope AND t.key = locked.key`,
    keys.flatMap((k) => [k.scope, k.key]),
  );
}

/** The window an account's downloads of its data are counted in (config holderData.downloadsPerHour). */
export const DATA_EXPORT_WINDOW_SECONDS = 3600;

/**
 * The data_export row of the copies of holders' data an operator gave out (config holderData.operatorExportsPerHour),
 * by the audit actor (`operator:<name>` for the API and console alike, `cli:<login>`): it shares the scope (and its
 * hour, and its sweep) with the accounts' own downloads, whose keys are account ids and never start with `by:`.
 */
export function operatorExportKey(actor: string): ThrottleKey {
  return { scope: 'data_export', key: `by:${actor}` };
}

/** The day one-time codes asked for a number are counted in (config oneTimeCodes.maxPerDay). */
export const CODE_REQUEST_WINDOW_SECONDS = 24 * 3600;

/** The code_request row of a purpose and a card number's HMAC (hex): the same for a number no card has. */
export function codeRequestKey(purpose: string, numberHmacHex: string): ThrottleKey {
  return { scope: 'code_request', key: `${purpose}:${numberHmacHex}` };
}

/**
 * The code_request row of the codes a purpose kept for the holder's known devices (config
 * oneTimeCodes.knownDeviceMaxPerDay), by card number HMAC (hex): only a request from a device known to the card's
 * account counts here, so whoever knows the number alone never touches it. Its own key in the same scope (and day, and sweep).
 */
export function knownDeviceCodeRequestKey(purpose: string, numberHmacHex: string): ThrottleKey {
  return { scope: 'code_request', key: `known:${purpose}:${numberHmacHex}` };
}

/** Whether takeQuota took a use, and when the window it counts in ends. */
export interface QuotaUse {
  taken: boolean;
  windowEnds: Date;
  /** The uses refused in this window, this one included (1: the first refusal, when a holder is told). */
  refusals: number;
}

/**
 * Takes one of `max` uses of the row `k` in a window of `windowSeconds` that begins with its first use, in ONE
 * statement, so parallel requests on any instance cannot take more than `max`: refused (nothing counted) while the
 * window's uses are spent, each refusal counted (in strikes, which no quota row otherwise uses). releaseAttempt gives a
 * use back.
 */
export async function takeQuota(conn: Conn, k: ThrottleKey, max: number, windowSeconds: number): Promise<QuotaUse> {
  const over = 't.window_start <= now() - make_interval(secs => ?::float8)';
  const res = await conn.raw(
    `INSERT INTO throttles AS t (scope, key, count, window_start, updated_at, last_refused) VALUES (?, ?, 1, now(), now(), false)
     ON CONFLICT (scope, key) DO UPDATE SET
       last_refused = NOT ${over} AND t.count >= ?::int,
       count = CASE WHEN ${over} THEN 1 WHEN t.count >= ?::int THEN t.count ELSE t.count + 1 END,
       strikes = CASE WHEN ${over} THEN 0 WHEN t.count >= ?::int THEN t.strikes + 1 ELSE t.strikes END,
       window_start = CASE WHEN ${over} THEN now() ELSE t.window_start END,
       updated_at = now()
     RETURNING t.last_refused, t.strikes, t.window_start + make_interval(secs => ?::float8) AS window_ends`,
    [k.scope, k.key, windowSeconds, max, windowSeconds, max, windowSeconds, max, windowSeconds, windowSeconds],
  );
  const r = (res.rows as Row[])[0]!;
  return { taken: !r.last_refused, windowEnds: new Date(r.window_ends as string), refusals: r.last_refused ? Number(r.strikes) : 0 };
}

export interface CardFailure {
  /** True when this failure locked the card. */
  locked: boolean;
  blockedUntil: Date | null;
  strikes: number;
}

/**
 * Keeps a failed attempt's reservation on the card as a failure; at maxFailures the card is locked
 * for coolDown·2^strikes (capped), strikes being the lockouts within strikeMemorySeconds.
 */
export async function recordCardFailure(conn: Conn, cardKey: string, c: CardLimits): Promise<CardFailure | undefined> {
  const full = 'count >= ?::int';
  const strikes = 'CASE WHEN struck_at IS NULL OR struck_at < now() - make_interval(secs => ?::float8) THEN 0 ELSE strikes END';
  const res = await conn.raw(
    `UPDATE throttles SET
       strikes = CASE WHEN ${full} THEN ${strikes} + 1 ELSE strikes END,
       blocked_until = CASE WHEN ${full}
         THEN now() + make_interval(secs => LEAST(?::float8, ?::float8 * power(2, ${strikes}))) ELSE blocked_until END,
       struck_at = CASE WHEN ${full} THEN now() ELSE struck_at END,
       count = CASE WHEN ${full} THEN 0 ELSE count END,
       updated_at = now()
     WHERE scope = 'card' AND key = ?
     RETURNING COALESCE(struck_at = now(), false) AS locked, blocked_until, strikes`,
    [
      c.maxFailures,
      c.strikeMemorySeconds,
      c.maxFailures,
      c.maxCoolDownSeconds,
      c.coolDownSeconds,
      c.strikeMemorySeconds,
      c.maxFailures,
      c.maxFailures,
      cardKey,
    ],
  );
  const r = (res.rows as Row[])[0];
  if (!r) return undefined;
  return { locked: Boolean(r.locked), blockedUntil: r.blocked_until ? new Date(r.blocked_until as string) : null, strikes: Number(r.strikes) };
}

/** Forgets a card's failures, lock and strikes (a password reset proves the holder). */
export async function clearCardThrottle(conn: Conn, cardKey: string): Promise<void> {
  await conn('throttles').where({ scope: 'card', key: cardKey }).delete();
}

/** The card's throttle row, if any (the holder's page, tests). */
export async function findThrottle(conn: Conn, k: ThrottleKey): Promise<ThrottleRow | undefined> {
  const r = (await conn('throttles').where({ scope: k.scope, key: k.key }).first()) as Row | undefined;
  return r ? toRow(r) : undefined;
}

/** The throttle key of a card by id: its number HMAC in hex, the same key a typed number gives. */
export async function cardThrottleKeyById(conn: Conn, cardId: string): Promise<string | undefined> {
  const r = (await conn('cards').select('number_hmac').where({ id: cardId }).first()) as { number_hmac: Buffer } | undefined;
  return r ? Buffer.from(r.number_hmac).toString('hex') : undefined;
}

/**
 * Deletes rows that no longer decide anything: no attempt for `idleSeconds`, no lock ahead, (cards) no lockout
 * recent enough to lengthen the next one, and (code_request) a day of codes over. Returns how many went.
 */
export async function deleteStaleThrottles(conn: Conn, idleSeconds: number, strikeMemorySeconds: number): Promise<number> {
  // Rows an attempt holds right now are skipped (SKIP LOCKED), so the sweep never waits on a login nor
  // deadlocks with one; the others are locked in LOCK_ORDER like everywhere here.
  const stale = conn('throttles')
    .select('scope', 'key')
    .where('updated_at', '<', conn.raw('now() - make_interval(secs => ?::float8)', [idleSeconds]))
    .andWhere((q) => q.whereNull('blocked_until').orWhere('blocked_until', '<', conn.fn.now()))
    .andWhere((q) => q.whereNull('struck_at').orWhere('struck_at', '<', conn.raw('now() - make_interval(secs => ?::float8)', [strikeMemorySeconds])))
    // A day's count of codes asked for decides until its day is over, however long since the last request.
    .andWhere((q) =>
      q.whereNot('scope', 'code_request').orWhere('window_start', '<=', conn.raw('now() - make_interval(secs => ?::float8)', [CODE_REQUEST_WINDOW_SECONDS])),
    )
    .orderByRaw(`${LOCK_ORDER}, key`)
    .forUpdate()
    .skipLocked();
  return conn('throttles').whereIn(['scope', 'key'], stale).delete();
}
