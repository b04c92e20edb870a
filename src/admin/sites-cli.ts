import { readFileSync } from 'node:fs';
import type { Config } from '../config/schema.ts';
import type { Db } from '../db/knex.ts';
import { AppError, ValidationError } from '../errors.ts';
import { closeSite } from '../member-sites/close.ts';
import { listSites, showSite } from '../member-sites/list.ts';
import { registerMemberSite, type RegisterInput } from '../member-sites/register.ts';
import { registryRules } from '../member-sites/registry-rules.ts';
import { reinstateSite } from '../member-sites/reinstate.ts';
import { rotateSecret } from '../member-sites/rotate-secret.ts';
import { suspendSite, type SiteStatusChanged } from '../member-sites/suspend.ts';
import { updateSite, type UpdateInput } from '../member-sites/update.ts';
import { presentSite } from './present-site.ts';
import { clientIdParam, listQuery, reasonInput, rotateInput, siteCall } from './sites-inputs.ts';
import { cliActor } from './cli-actor.ts';
import { cliArgs, wholeNumber } from './cli-options.ts';
import { parseInput, SOME_FIELDS } from './operator-input.ts';

type Handler = (ctx: { config: Config; db: Db; args: string[] }) => Promise<void>;

export const SITE_COMMANDS_USAGE = `  sites register --name NAME --redirect-uri URI [--redirect-uri URI …] [SITE OPTIONS]
                                            register a member site; prints the client secret once
  sites update --client-id ID [--name NAME] [--redirect-uri URI …] [SITE OPTIONS]
                                            change a member site (only the options given)
      SITE OPTIONS: [--post-logout-uri URI …] [--resource URI …] [--rating AGE] [--scope "openid profile"]
                    [--claims "name age_over_19" | --claims any (the claims it may be given; any: what its scopes give)]
                    [--max-amount MINOR_UNITS] [--homepage URI] [--logo URI] [--client-id ID (register)]
                    [--auth-method client_secret_basic|client_secret_post|private_key_jwt] [--jwks-file FILE | --jwks-uri URI]
                    [--access-token-ttl S] [--id-token-ttl S] [--refresh-token-ttl S]
                    [--auto-capture yes|no (capture each approval at once; the operator's choice only)]
                    [--backchannel-logout-uri URI] [--backchannel-logout-session-required yes|no]
                    [--approval-events-uri URI (where approval events are pushed, RFC 8935)]
                    [--require-par yes|no (every authorization request through PAR, RFC 9126)]
  sites suspend|reinstate|close --client-id ID --reason TEXT
                                            stop a site's flows (its approvals read suspended), lift that, or close it for good
  sites rotate-secret --client-id ID [--overlap SECONDS]
                                            new client secret, printed once; the old one works for the overlap (default 86400)
  sites show --client-id ID | sites list [--status active|suspended|closed]
`;

const SITE_OPTIONS = {
  'client-id': { type: 'string' },
  name: { type: 'string' },
  'redirect-uri': { type: 'string', multiple: true },
  'post-logout-uri': { type: 'string', multiple: true },
  'auth-method': { type: 'string' },
  'jwks-file': { type: 'string' },
  'jwks-uri': { type: 'string' },
  resource: { type: 'string', multiple: true },
  rating: { type: 'string' },
  scope: { type: 'string' },
  claims: { type: 'string' },
  'max-amount': { type: 'string' },
  homepage: { type: 'string' },
  logo: { type: 'string' },
  'access-token-ttl': { type: 'string' },
  'id-token-ttl': { type: 'string' },
  'refresh-token-ttl': { type: 'string' },
  'auto-capture': { type: 'string' },
  'backchannel-logout-uri': { type: 'string' },
  'backchannel-logout-session-required': { type: 'string' },
  'approval-events-uri': { type: 'string' },
  'require-par': { type: 'string' },
} as const;

/** yes/no (or true/false) typed as an option, as the JSON boolean the API takes; anything else left as typed, for the schema to refuse. */
function yesNo(v: string | undefined): boolean | string | undefined {
  if (v === undefined) return undefined;
  const t = v.toLowerCase();
  return t === 'yes' || t === 'true' ? true : t === 'no' || t === 'false' ? false : v;
}

/** The yes|no options, by the field the API refuses them under ("must be true or false", its JSON's words). */
const YES_NO_FIELDS = ['auto_capture', 'backchannel_logout_session_required', 'require_pushed_authorization_requests'];

/** siteCall, its refusal of a yes|no option in the words the usage gives it. */
async function siteCallAsTyped<T>(work: Promise<T>): Promise<T> {
  try {
    return await siteCall(work);
  } catch (err) {
    if (!(err instanceof AppError) || !err.fields || !YES_NO_FIELDS.some((f) => err.fields![f])) throw err;
    const fields = { ...err.fields };
    for (const f of YES_NO_FIELDS) if (fields[f]) fields[f] = 'Must be yes or no.';
    throw new AppError(err.code, err.message, { status: err.status, cause: err, fields });
  }
}

/** The key set in a --jwks-file, or a refusal naming it. */
function jwksFile(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new ValidationError(SOME_FIELDS, { jwks: `Cannot read ${file}.` });
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new ValidationError(SOME_FIELDS, { jwks: `${file} is not JSON.` });
  }
}

/** --claims "name age_over_19" as the list the API takes; `any` (no list: what the scopes give) as null. */
function claimList(v: string | undefined): string[] | null | undefined {
  if (v === undefined) return undefined;
  return v.trim().toLowerCase() === 'any' ? null : v.split(/[\s,]+/).filter(Boolean);
}

/** The site options given on the command line, in the domain's field names; absent options are left out. */
function siteFields(args: string[]): Record<string, unknown> {
  const { values: v } = cliArgs(args, SITE_OPTIONS);
  const fields: Record<string, unknown> = {
    clientId: v['client-id'],
    name: v.name,
    redirectUris: v['redirect-uri'],
    postLogoutRedirectUris: v['post-logout-uri'],
    tokenEndpointAuthMethod: v['auth-method'],
    jwks: v['jwks-file'] !== undefined ? jwksFile(v['jwks-file']) : undefined,
    jwksUri: v['jwks-uri'],
    resourceServers: v.resource,
    contentRating: wholeNumber(v.rating),
    scope: v.scope,
    allowedClaims: claimList(v.claims),
    maxAmount: wholeNumber(v['max-amount']),
    homepageUri: v.homepage,
    logoUri: v.logo,
    accessTokenTtl: wholeNumber(v['access-token-ttl']),
    idTokenTtl: wholeNumber(v['id-token-ttl']),
    refreshTokenTtl: wholeNumber(v['refresh-token-ttl']),
    autoCapture: yesNo(v['auto-capture']),
    backchannelLogoutUri: v['backchannel-logout-uri'],
    backchannelLogoutSessionRequired: yesNo(v['backchannel-logout-session-required']),
    approvalEventsUri: v['approval-events-uri'],
    requirePushedAuthorizationRequests: yesNo(v['require-par']),
  };
  return Object.fromEntries(Object.entries(fields).filter(([, x]) => x !== undefined));
}

/** The site a command is about, checked as the API checks its path. */
const theSite = (clientId: string | undefined) => parseInput(clientIdParam, { client_id: clientId }).client_id;

/** A status change's site and reason, checked as the API checks them. */
function statusArgs(args: string[]): { clientId: string; reason: string } {
  const { values } = cliArgs(args, { 'client-id': { type: 'string' }, reason: { type: 'string' } });
  const clientId = theSite(values['client-id']);
  return { clientId, reason: parseInput(reasonInput, { reason: values.reason }).reason };
}

const print = (v: unknown) => console.log(JSON.stringify(v, null, 2));

/** A status change as the API answers it; one that found the site so already also says so on stderr (stdout stays JSON). */
function printStatus({ site, changed }: SiteStatusChanged): void {
  if (!changed) console.error(`note: member site ${site.clientId} was ${site.status} already: nothing changed`);
  print({ ...presentSite(site), changed });
}

export const siteCommands: Record<string, Handler> = {
  async 'sites register'({ config, db, args }) {
    const reg = await siteCallAsTyped(registerMemberSite({ db, ...registryRules(config) }, siteFields(args) as RegisterInput, cliActor()));
    console.log(`member site registered
  client_id:     ${reg.clientId}${reg.clientSecret ? `\n  client_secret: ${reg.clientSecret}\nStore the secret now: it is not shown again.` : ''}`);
  },

  async 'sites update'({ config, db, args }) {
    const { clientId, ...change } = siteFields(args);
    const updated = await siteCallAsTyped(updateSite({ db, ...registryRules(config) }, theSite(clientId as string | undefined), change as UpdateInput, cliActor()));
    print(presentSite(updated.site));
    if (updated.clientSecret) console.log(`new client_secret: ${updated.clientSecret}\nStore the secret now: it is not shown again.`);
  },

  async 'sites suspend'({ db, args }) {
    const a = statusArgs(args);
    printStatus(await siteCall(suspendSite(db, a.clientId, a.reason, cliActor())));
  },

  async 'sites reinstate'({ db, args }) {
    const a = statusArgs(args);
    printStatus(await siteCall(reinstateSite(db, a.clientId, a.reason, cliActor())));
  },

  async 'sites close'({ db, args }) {
    const a = statusArgs(args);
    printStatus(await siteCall(closeSite(db, a.clientId, a.reason, cliActor())));
  },

  async 'sites rotate-secret'({ db, args }) {
    const { values } = cliArgs(args, { 'client-id': { type: 'string' }, overlap: { type: 'string' } });
    const clientId = theSite(values['client-id']);
    // A typo must not leave a leaked secret working for the default day: anything but whole seconds is refused.
    const { overlap_seconds: overlap } = parseInput(rotateInput, values.overlap === undefined ? {} : { overlap_seconds: wholeNumber(values.overlap) });
    const r = await siteCall(rotateSecret(db, clientId, overlap, cliActor()));
    console.log(`new client secret for ${r.clientId}
  client_secret: ${r.clientSecret}
  the previous secret works until: ${r.previousValidUntil?.toISOString() ?? 'now (stopped)'}
Store the secret now: it is not shown again.`);
  },

  async 'sites show'({ db, args }) {
    const { values } = cliArgs(args, { 'client-id': { type: 'string' } });
    print(presentSite(await siteCall(showSite(db, theSite(values['client-id'])))));
  },

  async 'sites list'({ db, args }) {
    const { values } = cliArgs(args, { status: { type: 'string' } });
    const q = parseInput(listQuery, values);
    for (const s of await listSites(db, q.status)) console.log(`${s.clientId}\t${s.status}\t${s.name}`);
  },
};
