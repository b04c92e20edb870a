import type { Config } from '../config/schema.ts';
import type { Db } from '../db/knex.ts';
import type { Delivery } from '../db/site-deliveries.ts';
import { deliveryOverview } from '../deliveries/list-deliveries.ts';
import { retryDelivery } from '../deliveries/retry-delivery.ts';
import { ValidationError } from '../errors.ts';
import { cliActor } from './cli-actor.ts';
import { cliArgs } from './cli-options.ts';
import { DELIVERY_KINDS, deliveryListQuery, deliveryParam, retryInput } from './delivery-inputs.ts';
import { parseInput, SOME_FIELDS } from './operator-input.ts';

type Handler = (ctx: { config: Config; db: Db; args: string[] }) => Promise<void>;

export const DELIVERY_COMMANDS_USAGE = `  deliveries list [--kind logout|event] [--site CLIENT_ID] [--state failing|given_up|pending|delivered|all] [--limit N]
                                            Logout Tokens and approval events posted to member sites, newest first
                                            (failing by default: given up, or tried and not delivered yet), after the last 7 days' counts
  deliveries retry KIND ID --reason TEXT    send a given-up one again, KIND logout or event (due now, attempts reset;
                                            an event keeps its jti)
`;

/** One delivery on one line: never the token, the holder or the event's payload. */
function line(d: Delivery): string {
  const state = d.status === 'sent' ? 'delivered' : d.status === 'failed' ? 'given up' : `pending, next ${d.nextAttemptAt.toISOString().slice(0, 16)}Z`;
  const what = d.kind === 'logout' ? 'logout' : (d.event ?? '');
  return `${d.kind}/${d.id}  ${d.createdAt.toISOString().slice(0, 16)}Z  ${d.clientId}  ${what}  ${d.attempts} attempts  ${state}${d.lastError ? `  (${d.lastError})` : ''}`;
}

/**
 * The delivery `deliveries retry` names by its two positional arguments, checked as the API checks its path; a refusal
 * names them as the usage does, KIND and ID (the schema's `kind` would print as --kind, an option only `list` has).
 */
function theDelivery(positionals: string[]): { kind: (typeof DELIVERY_KINDS)[number]; id: number } {
  if (positionals.length !== 2) throw new ValidationError(SOME_FIELDS, { 'KIND ID': 'Give the kind (logout or event) and the id.' });
  try {
    return parseInput(deliveryParam, { kind: positionals[0], id: positionals[1] });
  } catch (err) {
    if (!(err instanceof ValidationError)) throw err;
    const { kind, ...rest } = err.fields ?? {};
    throw new ValidationError(err.message, { ...(kind ? { KIND: kind } : {}), ...rest });
  }
}

/** The operator's commands for the deliveries to member sites, for src/cli.ts. */
export const deliveryCommands: Record<string, Handler> = {
  async 'deliveries list'({ db, args }) {
    const { values } = cliArgs(args, { kind: { type: 'string' }, site: { type: 'string' }, state: { type: 'string' }, limit: { type: 'string' } });
    const q = parseInput(deliveryListQuery, values);
    const o = await deliveryOverview(db, { kind: q.kind, clientId: q.site, state: q.state, limit: q.limit });
    for (const c of o.counts) console.log(`${c.clientId}  ${c.kind}  last 7 days: ${c.pending} pending, ${c.delivered} delivered, ${c.givenUp} given up`);
    if (o.deliveries.length === 0) console.log(`no ${q.state === 'all' ? '' : `${q.state.replace('_', ' ')} `}deliveries`);
    for (const d of o.deliveries) console.log(line(d));
  },

  async 'deliveries retry'({ db, args }) {
    const { values, positionals } = cliArgs(args, { reason: { type: 'string' } }, { positionals: true });
    const { kind, id } = theDelivery(positionals);
    const { reason } = parseInput(retryInput, values);
    const { delivery, changed } = await retryDelivery(db, kind, id, reason, cliActor());
    console.log(`${line(delivery)}${changed ? '' : '  (waiting to be sent already: nothing changed)'}`);
  },
};
