import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { Config } from '../config/schema.ts';
import type { Db } from '../db/knex.ts';
import { ValidationError } from '../errors.ts';
import { closeSite } from '../member-sites/close.ts';
import { listSites, showSite } from '../member-sites/list.ts';
import { registerMemberSite, type RegisterInput } from '../member-sites/register.ts';
import { registryRules } from '../member-sites/registry-rules.ts';
import { reinstateSite } from '../member-sites/reinstate.ts';
import { rotateSecret } from '../member-sites/rotate-secret.ts';
import { suspendSite, type SiteStatusChanged } from '../member-sites/suspend.ts';
import { updateSite, type UpdateInput } from '../member-sites/update.ts';
import { parseWith } from '../http/validate.ts';
import { presentSite } from './present-site.ts';
import { listQuery } from './sites-inputs.ts';
import { cliActor } from './cli-actor.ts';

type Handler = (ctx: { config: Config; db: Db; args: string[] }) => Promise<void>;

export const SITE_COMMANDS_USAGE = `  sites register --name NAME --redirect-uri URI [--redirect-uri URI …] [SITE OPTIONS]
                                            register a member site; prints the client secret once
  sites update --client-id ID [--name NAME] [--redirect-uri URI …] [SITE OPTIONS]
                                            change a member site (only the options given)
      SITE OPTIONS: [--post-logout-uri URI …] [--resource URI …] [--rating AGE] [--scope "openid profile"]
                    [--max-amount MINOR_UNITS] [--homepage URI] [--logo URI] [--client-id ID (register)]
                    [--auth-method client_secret_basic|client_secret_post|private_key_jwt] [--jwks-file FILE | --jwks-uri URI]
                    [--access-token-ttl S] [--id-token-ttl S] [--refresh-token-ttl S]
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
  'max-amount': { type: 'string' },
  homepage: { type: 'string' },
  logo: { type: 'string' },
  'access-token-ttl': { type: 'string' },
  'id-token-ttl': { type: 'string' },
  'refresh-token-ttl': { type: 'string' },
} as const;

/** A whole number from an option; anything else is left as the string so validation names the field. */
function num(v: string | undefined): number | string | undefined {
  if (v === undefined) return undefined;
  return /^[0-9]{1,15}$/.test(v) ? Number(v) : v;
}

/** The site options given on the command line, in the domain's field names; absent options are left out. */
function siteFields(args: string[]): Record<string, unknown> {
  const { values: v } = parseArgs({ args, options: SITE_OPTIONS, strict: true });
  const fields: Record<string, unknown> = {
    clientId: v['client-id'],
    name: v.name,
    redirectUris: v['redirect-uri'],
    postLogoutRedirectUris: v['post-logout-uri'],
    tokenEndpointAuthMethod: v['auth-method'],
    jwks: v['jwks-file'] ? (JSON.parse(readFileSync(v['jwks-file'], 'utf8')) as unknown) : undefined,
    jwksUri: v['jwks-uri'],
    resourceServers: v.resource,
    contentRating: num(v.rating),
    scope: v.scope,
    maxAmount: num(v['max-amount']),
    homepageUri: v.homepage,
    logoUri: v.logo,
    accessTokenTtl: num(v['access-token-ttl']),
    idTokenTtl: num(v['id-token-ttl']),
    refreshTokenTtl: num(v['refresh-token-ttl']),
  };
  return Object.fromEntries(Object.entries(fields).filter(([, x]) => x !== undefined));
}

function requiredClientId(args: string[]): { clientId: string; reason?: string; overlap?: string; status?: string } {
  const { values } = parseArgs({
    args,
    options: { 'client-id': { type: 'string' }, reason: { type: 'string' }, overlap: { type: 'string' }, status: { type: 'string' } },
    strict: true,
  });
  if (!values['client-id']) throw new ValidationError('--client-id is required', { 'client-id': 'Required.' });
  return { clientId: values['client-id'], reason: values.reason, overlap: values.overlap, status: values.status };
}

const print = (v: unknown) => console.log(JSON.stringify(v, null, 2));

/** A status change as the API answers it; one that found the site so already also says so on stderr (stdout stays JSON). */
function printStatus({ site, changed }: SiteStatusChanged): void {
  if (!changed) console.error(`note: member site ${site.clientId} was ${site.status} already: nothing changed`);
  print({ ...presentSite(site), changed });
}

export const siteCommands: Record<string, Handler> = {
  async 'sites register'({ config, db, args }) {
    const reg = await registerMemberSite({ db, ...registryRules(config) }, siteFields(args) as RegisterInput, cliActor());
    console.log(`member site registered
  client_id:     ${reg.clientId}${reg.clientSecret ? `\n  client_secret: ${reg.clientSecret}\nStore the secret now: it is not shown again.` : ''}`);
  },

  async 'sites update'({ config, db, args }) {
    const { clientId, ...change } = siteFields(args);
    if (typeof clientId !== 'string') throw new ValidationError('--client-id is required', { 'client-id': 'Required.' });
    const updated = await updateSite({ db, ...registryRules(config) }, clientId, change as UpdateInput, cliActor());
    print(presentSite(updated.site));
    if (updated.clientSecret) console.log(`new client_secret: ${updated.clientSecret}\nStore the secret now: it is not shown again.`);
  },

  async 'sites suspend'({ db, args }) {
    const a = requiredClientId(args);
    printStatus(await suspendSite(db, a.clientId, a.reason ?? '', cliActor()));
  },

  async 'sites reinstate'({ db, args }) {
    const a = requiredClientId(args);
    printStatus(await reinstateSite(db, a.clientId, a.reason ?? '', cliActor()));
  },

  async 'sites close'({ db, args }) {
    const a = requiredClientId(args);
    printStatus(await closeSite(db, a.clientId, a.reason ?? '', cliActor()));
  },

  async 'sites rotate-secret'({ db, args }) {
    const a = requiredClientId(args);
    // A typo must not leave a leaked secret working for the default day: anything but whole seconds is refused.
    if (a.overlap !== undefined && !/^\d{1,7}$/.test(a.overlap)) {
      throw new ValidationError('--overlap is a whole number of seconds (0 stops the old secret now).', { overlap: `Not a number of seconds: "${a.overlap}".` });
    }
    const r = await rotateSecret(db, a.clientId, a.overlap === undefined ? undefined : Number(a.overlap), cliActor());
    console.log(`new client secret for ${r.clientId}
  client_secret: ${r.clientSecret}
  the previous secret works until: ${r.previousValidUntil?.toISOString() ?? 'now (stopped)'}
Store the secret now: it is not shown again.`);
  },

  async 'sites show'({ db, args }) {
    print(presentSite(await showSite(db, requiredClientId(args).clientId)));
  },

  async 'sites list'({ db, args }) {
    const { values } = parseArgs({ args, options: { status: { type: 'string' } }, strict: true });
    const q = parseWith(listQuery, values.status ? { status: values.status } : {});
    for (const s of await listSites(db, q.status)) console.log(`${s.clientId}\t${s.status}\t${s.name}`);
  },
};
