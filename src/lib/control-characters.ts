/**
 * Any C0 or C1 control character (tab and line breaks too), DEL, U+FFFD (what bytes that were not UTF-8 became), and the
 * bidirectional embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069): none belongs in one line of text the
 * card manager shows on a page, sends in a message or prints in a terminal (U+009B is an 8-bit CSI to many terminals;
 * a right-to-left override shows a site's name or a payment's description in another order than it was written, beside
 * the amount the holder approves). The left-to-right and right-to-left marks, which only hint, stay allowed.
 */
const CONTROL = /[\u0000-\u001F\u007F-\u009F\uFFFD\u202A-\u202E\u2066-\u2069]/;

/** Whether one line of text holds a character that `CONTROL` above refuses. */
export function hasControlCharacters(s: string): boolean {
  return CONTROL.test(s);
}
