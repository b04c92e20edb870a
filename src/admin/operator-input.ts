import type { z } from 'zod';
import { ValidationError } from '../errors.ts';
import { describeIssue } from '../lib/zod-issues.ts';

/**
 * The operator's inputs are refused in one language, by the API and the CLI alike: `error_description` a sentence,
 * `fields` keyed by the request's own (snake_case) names, each a sentence, an unknown field named as one. The CLI
 * prints the same, each field under the option typed (cli-options.ts).
 */

/** What a refusal of one or more fields says as a whole. */
export const SOME_FIELDS = 'Some fields need attention.';

/** What an operator is told of a field the request has no use for. */
export const UNKNOWN_FIELD = 'Unknown field.';

/** A message as a sentence: a capital first letter and a full stop ("must be given" → "Must be given."). */
export function sentence(text: string): string {
  const t = text.trim();
  if (!t) return t;
  return `${t[0]!.toUpperCase()}${t.slice(1)}${/[.!?]$/.test(t) ? '' : '.'}`;
}

/** Field → the first message for it, as a sentence; each unknown field under its own name. */
export function operatorFields(error: z.ZodError): Record<string, string> {
  const out: Record<string, string> = {};
  for (const issue of error.issues) {
    if (issue.code === 'unrecognized_keys' && issue.path.length === 0) {
      for (const key of issue.keys) out[key] ??= UNKNOWN_FIELD;
      continue;
    }
    out[String(issue.path[0] ?? 'body')] ??= sentence(issue.message);
  }
  return out;
}

/** Parses an operator's input with its schema (the API's body or query, the CLI's options under the same names), or refuses it. */
export function parseInput<S extends z.ZodType>(schema: S, raw: unknown): z.output<S> {
  const parsed = schema.safeParse(raw, { error: describeIssue });
  if (!parsed.success) throw new ValidationError(SOME_FIELDS, operatorFields(parsed.error));
  return parsed.data;
}

/** Refuses the fields of `body` that are not among `known`, each named. */
export function refuseUnknownFields(body: Record<string, unknown>, known: ReadonlySet<string>): void {
  const unknown = Object.keys(body).filter((k) => !known.has(k));
  if (unknown.length) throw new ValidationError(SOME_FIELDS, Object.fromEntries(unknown.map((k) => [k, UNKNOWN_FIELD])));
}
