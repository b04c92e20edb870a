import type { Knex } from 'knex';

/**
 * Member-site and resource-server names stored before registration refused control and bidirectional characters
 * (src/lib/control-characters.ts) may still hold them, and holders read those names on the consent and approval pages
 * beside the amount, in messages and on statements to come; the operator reads them in the console and the terminal.
 * HTML escaping keeps markup out but not a right-to-left override, and every new name is refused with one, so the
 * stored ones are cleaned once here rather than each place that shows a name escaping them: a line break or tab becomes
 * a space, every other such character goes, and a name left empty becomes the site's client id (the resource
 * server's identifier). Each renamed row gets an audit entry with the name it had, its characters written as \uXXXX.
 * Statements already issued keep the name they were issued with: they are records.
 *
 * The characters are those of control-characters.ts as it is now, written out: a migration must not change with it.
 */
const CONTROL = /[\u0000-\u001F\u007F-\u009F\uFFFD\u202A-\u202E\u2066-\u2069]/g;
/** CONTROL for PostgreSQL, which stores no NUL and refuses one in a pattern. */
const CONTROL_SQL = '[\\u0001-\\u001F\\u007F-\\u009F\\uFFFD\\u202A-\\u202E\\u2066-\\u2069]';
/** The controls that separate words: a space keeps them apart. */
const BREAK = /[\t\n\u000B\u000C\r\u0085]/g;

/** The name without the characters, or undefined if it has none (the row is left as it is). */
export function cleanName(name: string): string | undefined {
  if (!name.match(CONTROL)) return undefined;
  return name.replace(BREAK, ' ').replace(CONTROL, '').replace(/ {2,}/g, ' ').trim();
}

/** The name as it was, each removed character written as \uXXXX so the audit trail holds none of them. */
function visible(name: string): string {
  return name.replace(CONTROL, (c) => `\\u${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`);
}

const REASON = 'control or bidirectional characters removed from a name stored before they were refused';

export async function up(knex: Knex): Promise<void> {
  const tables = [
    { table: 'member_sites', key: 'client_id', subjectType: 'member_site', touched: true },
    { table: 'resource_servers', key: 'identifier', subjectType: 'resource_server', touched: false },
  ] as const;
  for (const { table, key, subjectType, touched } of tables) {
    // Only the rows that hold one: PostgreSQL's regular expressions read \uXXXX as JavaScript's do.
    const rows = (await knex(table).whereRaw('name ~ ?', [CONTROL_SQL]).select(key, 'name')) as Array<Record<string, string>>;
    for (const row of rows) {
      const from = row.name!;
      const id = row[key]!;
      const to = cleanName(from);
      if (to === undefined) continue;
      const name = to === '' ? id : to;
      await knex(table)
        .where({ [key]: id })
        .update({ name, ...(touched ? { updated_at: knex.fn.now() } : {}) });
      await knex('audit_log').insert({
        actor: 'system',
        action: `${subjectType}.name_cleaned`,
        subject_type: subjectType,
        subject_id: id,
        details: JSON.stringify({ from: visible(from), to: name, reason: REASON }),
      });
    }
  }
}

/** Nothing to undo: the names as they were are in the audit trail, and no code wants them back. */
export async function down(): Promise<void> {}
