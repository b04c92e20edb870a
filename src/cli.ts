import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { createCard } from './cards/create-card.ts';
import { formatCardNumber } from './cards/card-number.ts';
import { createPasswordHasher } from './cards/password.ts';
import { loadConfig } from './config/load.ts';
import { openDb, type Db } from './db/knex.ts';
import { upsertResourceServer } from './db/member-sites.ts';
import { migrateLatest } from './db/migrate.ts';
import { deleteExpiredPayloads } from './db/oidc-payloads.ts';
import { AppError } from './errors.ts';
import { registerMemberSite, type RegisterInput } from './member-sites/register.ts';
import { rotateSigningKey } from './oidc/keys.ts';
import type { Config } from './config/schema.ts';
import { CARD_COMMANDS_USAGE, cardCommands } from './admin/cards-cli.ts';

const USAGE = `usage: npm run cli -- <command> [options]

  migrate                                   apply pending database migrations
  keys rotate                               add a new signing key; older keys stay published until their tokens expire
  cards create --name NAME --birthdate YYYY-MM-DD [--email E] [--mobile M]
                                            issue a card; prints the number and password once
  sites register --name NAME --redirect-uri URI [--redirect-uri URI …] [--post-logout-uri URI …]
                 [--auth-method client_secret_basic|client_secret_post|private_key_jwt] [--jwks-file FILE]
                 [--resource URI …] [--rating AGE] [--client-id ID] [--homepage URI] [--logo URI]
                                            register a member site; prints the client secret once
  resource-servers add --identifier URI --name NAME [--scope "a b"] [--ttl SECONDS]
                                            register a resource server (an access-token audience)
  cleanup                                   delete expired sessions, codes and tokens now
${CARD_COMMANDS_USAGE}`;

type Handler = (ctx: { config: Config; db: Db; args: string[] }) => Promise<void>;

const commands: Record<string, Handler> = {
  async migrate({ db }) {
    const applied = await migrateLatest(db);
    console.log(applied.length ? `applied: ${applied.join(', ')}` : 'already up to date');
  },

  async 'keys rotate'({ db }) {
    await migrateLatest(db);
    const kid = await rotateSigningKey(db);
    console.log(`new signing key ${kid}; restart the card manager instances to sign with it`);
  },

  async 'cards create'({ config, db, args }) {
    const { values } = parseArgs({
      args,
      options: { name: { type: 'string' }, birthdate: { type: 'string' }, email: { type: 'string' }, mobile: { type: 'string' } },
    });
    if (!values.name || !values.birthdate) throw new Error('--name and --birthdate are required');
    const hasher = createPasswordHasher({ ...config.argon2, pepper: config.secrets.passwordPepper });
    const issued = await createCard(
      { db, hasher, cardHmacKey: config.secrets.cardHmacKey, issuerPrefix: config.cards.issuerPrefix, currency: config.currency },
      { legalName: values.name, birthdate: values.birthdate, email: values.email ?? null, mobile: values.mobile ?? null },
      'cli',
    );
    console.log(`card issued to account ${issued.accountId}
  card number: ${formatCardNumber(issued.cardNumber)}
  password:    ${issued.password}
Store these now: the number and password are not shown again.`);
  },

  async 'sites register'({ config, db, args }) {
    const { values } = parseArgs({
      args,
      options: {
        name: { type: 'string' },
        'redirect-uri': { type: 'string', multiple: true },
        'post-logout-uri': { type: 'string', multiple: true },
        'auth-method': { type: 'string' },
        'jwks-file': { type: 'string' },
        resource: { type: 'string', multiple: true },
        rating: { type: 'string' },
        'client-id': { type: 'string' },
        homepage: { type: 'string' },
        logo: { type: 'string' },
      },
    });
    const input: RegisterInput = {
      name: values.name ?? '',
      redirectUris: values['redirect-uri'] ?? [],
      postLogoutRedirectUris: values['post-logout-uri'] ?? [],
      tokenEndpointAuthMethod: (values['auth-method'] ?? 'client_secret_basic') as RegisterInput['tokenEndpointAuthMethod'],
      resourceServers: values.resource ?? [],
      contentRating: values.rating ? Number(values.rating) : 0,
      ...(values['client-id'] ? { clientId: values['client-id'] } : {}),
      ...(values.homepage ? { homepageUri: values.homepage } : {}),
      ...(values.logo ? { logoUri: values.logo } : {}),
      ...(values['jwks-file'] ? { jwks: JSON.parse(readFileSync(values['jwks-file'], 'utf8')) } : {}),
    };
    const reg = await registerMemberSite({ db, requireHttps: config.env === 'production' }, input, 'cli');
    console.log(`member site registered
  client_id:     ${reg.clientId}${reg.clientSecret ? `\n  client_secret: ${reg.clientSecret}\nStore the secret now: it is not shown again.` : ''}`);
  },

  async 'resource-servers add'({ db, args }) {
    const { values } = parseArgs({
      args,
      options: { identifier: { type: 'string' }, name: { type: 'string' }, scope: { type: 'string' }, ttl: { type: 'string' } },
    });
    if (!values.identifier || !URL.canParse(values.identifier) || !values.name) {
      throw new Error('--identifier (an absolute URI) and --name are required');
    }
    await upsertResourceServer(db, {
      identifier: values.identifier,
      name: values.name,
      scope: values.scope ?? '',
      accessTokenTtl: values.ttl ? Number(values.ttl) : null,
    });
    console.log(`resource server ${values.identifier} registered`);
  },

  async cleanup({ db }) {
    console.log(`deleted ${await deleteExpiredPayloads(db)} expired rows`);
  },

  ...cardCommands,
};

async function main(argv: string[]): Promise<number> {
  const two = argv.slice(0, 2).join(' ');
  const name = commands[two] ? two : argv[0];
  const handler = name ? commands[name] : undefined;
  if (!handler) {
    console.error(USAGE);
    return 2;
  }
  const config = loadConfig();
  const db = openDb(config);
  try {
    if (name !== 'migrate') await migrateLatest(db);
    await handler({ config, db, args: argv.slice(name!.split(' ').length) });
    return 0;
  } catch (err) {
    if (err instanceof AppError && err.expose) {
      console.error(`error: ${err.message}`);
      for (const [field, msg] of Object.entries(err.fields ?? {})) console.error(`  ${field}: ${msg}`);
    } else {
      console.error(`error: ${err instanceof Error ? err.message : String(err)}`);
    }
    return 1;
  } finally {
    await db.destroy();
  }
}

process.exitCode = await main(process.argv.slice(2));
