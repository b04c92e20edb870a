import { parseArgs, type ParseArgsOptionsConfig } from 'node:util';
import { AppError, ValidationError } from '../errors.ts';
import { SOME_FIELDS } from './operator-input.ts';

/**
 * The CLI speaks the operator API's language (operator-input.ts): the same sentence, each field under the option an
 * operator types for it. Most options are the field's name in kebab case (transaction_id → --transaction-id); these
 * are not. A positional argument is named as the usage names it.
 */
const OPTIONS: Record<string, string> = {
  card_id: '--card',
  credit_limit: '--amount',
  payment_reference: '--reference',
  received_on: '--date',
  redirect_uris: '--redirect-uri',
  post_logout_redirect_uris: '--post-logout-uri',
  resource_servers: '--resource',
  content_rating: '--rating',
  homepage_uri: '--homepage',
  client_uri: '--homepage',
  logo_uri: '--logo',
  allowed_claims: '--claims',
  require_pushed_authorization_requests: '--require-par',
  token_endpoint_auth_method: '--auth-method',
  jwks: '--jwks-file',
  overlap_seconds: '--overlap',
  statement_day: '--day',
  client_name: '--name',
  application_id: 'ID',
  dispute_id: 'ID',
  id: 'ID',
  kid: 'KID',
};

/** The option an operator types for a field of the operator API: credit_limit → --amount, transaction_id → --transaction-id. */
export function optionFor(field: string): string {
  // An option already, or a positional argument as the usage writes it (KIND, KIND ID).
  if (field.startsWith('-') || /^[A-Z]+(?: [A-Z]+)*$/.test(field)) return field;
  return OPTIONS[field] ?? `--${field.replace(/_/g, '-')}`;
}

/** A refusal as the CLI prints it: the API's sentence, then each field under its option (on the first line when the sentence is the field's own). */
export function refusalLines(err: AppError): string[] {
  let first = `error: ${err.message}`;
  const rest: string[] = [];
  for (const [field, message] of Object.entries(err.fields ?? {})) {
    if (message === err.message) first += ` (${optionFor(field)})`;
    else rest.push(`  ${optionFor(field)}: ${message}`);
  }
  return [first, ...rest];
}

/** node's refusal of the command line (code ERR_PARSE_ARGS_*) in the operator's words; anything else as it is. */
function commandLineRefusal(err: unknown): unknown {
  const code = (err as { code?: unknown } | null)?.code;
  const message = err instanceof Error ? err.message : '';
  const quoted = /'([^' ]+)/.exec(message)?.[1] ?? '';
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') return new ValidationError(SOME_FIELDS, { [quoted]: 'Unknown option.' });
  if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
    const why = /argument missing/.test(message)
      ? 'Give it a value.'
      : /ambiguous/.test(message)
        ? `A value starting with a dash is given as ${quoted}=VALUE.`
        : 'Takes no value.';
    return new ValidationError(SOME_FIELDS, { [quoted]: why });
  }
  if (code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') return new ValidationError(`Unexpected argument ${quoted}: this command takes options only.`);
  return err;
}

/** parseArgs for an operator command (strict: every option known, no positional argument unless allowed), refusing in the operator's words. */
export function cliArgs<T extends ParseArgsOptionsConfig>(args: string[], options: T, { positionals = false }: { positionals?: boolean } = {}) {
  try {
    return parseArgs({ args, options, allowPositionals: positionals, strict: true });
  } catch (err) {
    throw commandLineRefusal(err);
  }
}

/** A whole number typed as an option, as the JSON number the API takes; anything else is left as typed, for the schema to refuse. */
export function wholeNumber(v: string | undefined): number | string | undefined {
  if (v === undefined) return undefined;
  return /^[0-9]{1,15}$/.test(v) ? Number(v) : v;
}
