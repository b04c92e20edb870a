import { bad, ok, type Checked } from './checked.ts';

export const MAX_NAME_LENGTH = 100;

// Letters with their combining marks, separated by single spaces, hyphens, apostrophes or periods.
const SHAPE = /^[\p{L}\p{M}]+(?:[ '’.-]{1,2}[\p{L}\p{M}]+)*\.?$/u;
// Letters and marks that show nothing (a Hangul filler, a combining grapheme joiner, variation selectors): a name
// with one reads as another yet compares unlike it, past the deny list and the same-person check.
const INVISIBLE = /\p{Default_Ignorable_Code_Point}/u;
// Scripts that legitimately share one name: Japanese (kanji + kana) and Korean (hangul + hanja).
const SCRIPT_FAMILIES: readonly (readonly string[])[] = [
  ['Han', 'Hiragana', 'Katakana'],
  ['Hangul', 'Han'],
];
const SCRIPTS = ['Latin', 'Hangul', 'Han', 'Hiragana', 'Katakana', 'Cyrillic', 'Greek', 'Arabic', 'Hebrew', 'Thai', 'Devanagari'];
const SCRIPT_RE = new Map(SCRIPTS.map((s) => [s, new RegExp(`\\p{Script=${s}}`, 'u')]));

function scriptOf(ch: string): string {
  for (const [name, re] of SCRIPT_RE) if (re.test(ch)) return name;
  return 'Other';
}

/** True when every letter is of one script, or of one family that is written together. */
function oneScript(name: string): boolean {
  const scripts = new Set([...name].filter((c) => /\p{L}/u.test(c)).map(scriptOf));
  if (scripts.size <= 1) return true;
  return SCRIPT_FAMILIES.some((family) => [...scripts].every((s) => family.includes(s)));
}

/**
 * The typographic apostrophe (’) as the typewriter one ('): a name takes either, and O’Brien is O'Brien, to the
 * deny list and the same-person check as on the card (NFKC leaves the two apart).
 */
export function plainApostrophes(name: string): string {
  return name.replace(/’/g, "'");
}

/**
 * A legal name: NFC, trimmed, inner spaces collapsed, apostrophes plain (plainApostrophes); letters in one script (homoglyph mixes such as
 * a Cyrillic "а" inside a Latin name are refused), none invisible (default ignorable), joined by spaces, hyphens,
 * apostrophes or periods.
 */
export function checkLegalName(input: string): Checked {
  const name = plainApostrophes(input.normalize('NFC').trim().replace(/\s+/g, ' '));
  if (!name) return bad('Enter your full legal name.', 'required');
  if ([...name].length > MAX_NAME_LENGTH) return bad(`Use at most ${MAX_NAME_LENGTH} characters.`, 'too_long');
  if (!SHAPE.test(name) || INVISIBLE.test(name)) return bad('Use letters only, with spaces, hyphens or apostrophes between words.', 'invalid_characters');
  if (!oneScript(name)) return bad('Write your name in one alphabet; it mixes letters from different scripts.', 'mixed_scripts');
  return ok(name);
}
