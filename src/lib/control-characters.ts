/**
 * Any C0 or C1 control character (tab and line breaks too), DEL, and U+FFFD (what bytes that were not UTF-8 became):
 * none belongs in one line of text the card manager shows on a page, sends in a message or prints in a terminal
 * (U+009B is an 8-bit CSI to many terminals).
 */
const CONTROL = /[\u0000-\u001F\u007F-\u009F\uFFFD]/;

/** Whether one line of text holds a character that `CONTROL` above refuses. */
export function hasControlCharacters(s: string): boolean {
  return CONTROL.test(s);
}
