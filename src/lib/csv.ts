/** A small RFC 4180 reader: comma-separated, "quoted" fields with "" for a quote, LF or CRLF line ends. */

export interface CsvRecord {
  /** 1-based line number where the record starts. */
  line: number;
  fields: string[];
}

export class CsvSyntaxError extends Error {
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Splits CSV text into records; blank lines are skipped. A quote left open, or text straight after a
 * closing quote, throws CsvSyntaxError naming the line (the rest of the file cannot be read safely).
 */
export function parseCsv(text: string): CsvRecord[] {
  const src = text.startsWith('\uFEFF') ? text.slice(1) : text;
  const records: CsvRecord[] = [];
  let line = 1;
  let i = 0;
  while (i < src.length) {
    const start = line;
    const fields: string[] = [];
    let field = '';
    let quotedField = false;
    for (;;) {
      const c = src[i];
      if (c === undefined || c === '\n' || (c === '\r' && src[i + 1] === '\n')) {
        fields.push(field);
        i += c === '\r' ? 2 : c === '\n' ? 1 : 0;
        if (c !== undefined) line++;
        break;
      }
      if (c === ',') {
        fields.push(field);
        field = '';
        quotedField = false;
        i++;
      } else if (c === '"' && field === '' && !quotedField) {
        quotedField = true;
        i++;
        for (;;) {
          const q = src[i];
          if (q === undefined) throw new CsvSyntaxError(start, `line ${start}: a quoted field is never closed`);
          if (q === '"') {
            if (src[i + 1] === '"') {
              field += '"';
              i += 2;
              continue;
            }
            i++;
            break;
          }
          if (q === '\n') line++;
          field += q;
          i++;
        }
        const next = src[i];
        if (next !== undefined && next !== ',' && next !== '\n' && !(next === '\r' && src[i + 1] === '\n')) {
          throw new CsvSyntaxError(start, `line ${start}: text after a closing quote`);
        }
      } else {
        if (quotedField) throw new CsvSyntaxError(start, `line ${start}: text after a closing quote`);
        field += c;
        i++;
      }
    }
    if (!(fields.length === 1 && fields[0]!.trim() === '')) records.push({ line: start, fields });
  }
  return records;
}
