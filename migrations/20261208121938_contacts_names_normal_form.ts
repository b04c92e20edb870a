import type { Knex } from 'knex';

/**
 * Contacts and names stored before today's normal form, rewritten to it, so the duplicate and same-person checks
 * (which compare stored values as they are: mobiles exactly, names folded by NFKC, which leaves ’ apart from ') find
 * them. Contacts are stored plain (accounts.mobile, applications.mobile, contact_changes.new_mobile), not as hashes,
 * so they can be rewritten here:
 * - A Korean mobile stored with the trunk 0 kept after the calling code (+82 010-… as +82010…, before
 *   cards/mobile-number.ts dropped it) becomes +8210…, as 010-… is stored. Korean national numbers never begin with 0
 *   after +82 (the 0 is only dialled at home), so this is the number's only E.164 form whatever cards.mobileCallingCode
 *   says; numbers of other countries, some of which do keep a 0 (Italy's +39 0…), are left alone. Only a 0 followed by
 *   a digit 1-9 is dropped, so a second run finds nothing.
 * - A legal name with the typographic apostrophe (’), before cards/legal-name.ts stored every name with the typewriter
 *   one ('), is stored with it: O’Brien as O'Brien, as it is shown and compared since.
 * Nothing is lost: the same number and the same name, written as new ones are. The values are written out here, not
 * imported: a migration must not change with the code.
 */
const KOREAN_TRUNK_ZERO = '^\\+820[1-9][0-9]*$';

export async function up(knex: Knex): Promise<void> {
  const mobiles: Array<[string, string]> = [
    ['accounts', 'mobile'],
    ['applications', 'mobile'],
    ['contact_changes', 'new_mobile'],
  ];
  for (const [table, column] of mobiles) {
    await knex(table)
      .whereRaw('?? ~ ?', [column, KOREAN_TRUNK_ZERO])
      .update({ [column]: knex.raw("'+82' || substr(??, 5)", [column]) });
  }
  for (const table of ['accounts', 'applications']) {
    await knex(table)
      .whereRaw('strpos(legal_name, ?) > 0', ['\u2019'])
      .update({ legal_name: knex.raw('replace(legal_name, ?, ?)', ['\u2019', "'"]) });
  }
}

/** Nothing to undo: the rows hold the same numbers and names, in the form the code has written since. */
export async function down(): Promise<void> {}
