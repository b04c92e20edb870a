import { cliActor } from './admin/cli-actor.ts';
import { createCard, operatorHolder } from './cards/create-card.ts';
import { formatCardNumber } from './cards/card-number.ts';
import { createPasswordHasher } from './cards/password.ts';
import { loadConfig } from './config/load.ts';
import { openDb, type Db } from './db/knex.ts';
import { migrateLatest } from './db/migrate.ts';
import { deleteExpiredPayloads } from './db/oidc-payloads.ts';
import { AppError, ValidationError } from './errors.ts';
import { SOME_FIELDS } from './admin/operator-input.ts';
import { registerResourceServer } from './member-sites/register-resource-server.ts';
import { listResourceServerGrants } from './member-sites/list.ts';
import { deleteExpiredKeys } from './db/signing-keys.ts';
import { keepRetiredSeconds, listSigningKeys, rotateSigningKey, withdrawSigningKey } from './oidc/keys.ts';
import type { Config } from './config/schema.ts';
import { CARD_COMMANDS_USAGE, cardCommands } from './admin/cards-cli.ts';
import { SITE_COMMANDS_USAGE, siteCommands } from './admin/sites-cli.ts';
import { APPLICATION_COMMANDS_USAGE, applicationCommands } from './admin/applications-cli.ts';
import { LEDGER_COMMANDS_USAGE, ledgerCommands } from './admin/ledger-cli.ts';
import { DELIVERY_COMMANDS_USAGE, deliveryCommands } from './admin/deliveries-cli.ts';
import { DISPUTE_COMMANDS_USAGE, disputeCommands } from './admin/disputes-cli.ts';
import { cliArgs, refusalLines } from './admin/cli-options.ts';
import { checkSecretsAgainstDatabase } from './config/check-secrets-against-database.ts';
import { explainUnreachable } from './db/database-unreachable.ts';
import pino from 'pino';
import { createLogger } from './log.ts';
import { hasControlCharacters } from './lib/control-characters.ts';

const USAGE = `usage: npm run cli -- <command> [options]

  migrate                                   apply pending database migrations
  keys rotate [--now | --in SECONDS]        add a signing key, published at once by every instance; it signs from
                                            keys.publishAheadSeconds from now (--now: at once, the first key always);
                                            the key it replaces stays published until its tokens expire
  keys list                                 every signing key: signing, next, retired or unused, with its times
  keys withdraw KID                         delete a key that no longer signs (one that may have leaked): its tokens
                                            stop verifying as each instance reads its keys again
  cards create --name NAME --birthdate YYYY-MM-DD [--email E] [--mobile M]
                                            issue a card; prints the number and password once
  resource-servers add --identifier URI --name NAME [--scope "a b"] [--ttl SECONDS] [--replace]
                                            register a resource server (an access-token audience); --replace
                                            replaces a registered one's name, scopes and lifetime, all of them
  resource-servers list                     every resource server, one a line: identifier, name, scopes (- none),
                                            token lifetime in seconds (or default), the sites granted it
                                            (client ids, "(suspended)" or "(closed)" after those; - none), tab-separated
  cleanup                                   delete expired sessions, codes and tokens now
${SITE_COMMANDS_USAGE}${CARD_COMMANDS_USAGE}${APPLICATION_COMMANDS_USAGE}${LEDGER_COMMANDS_USAGE}${DISPUTE_COMMANDS_USAGE}${DELIVERY_COMMANDS_USAGE}
exit status: 0 done (also when what was asked for was so already; --help prints this text); 1 refused or failed, the
reason on stderr in the operator API's words, each field under its option; 2 no such command (this text); 3 finished,
but left the operator something to see to: repayments import left lines (unmatched, wrong currency, conflicts,
malformed), or ledger check found that the books do not add up`;

type Handler = (ctx: { config: Config; db: Db; args: string[] }) => Promise<void>;

const commands: Record<string, Handler> = {
  async migrate({ db, args }) {
    cliArgs(args, {});
    const applied = await migrateLatest(db);
    console.log(applied.length ? `applied: ${applied.join(', ')}` : 'already up to date');
  },

  async 'keys rotate'({ config, db, args }) {
    const { values } = cliArgs(args, { now: { type: 'boolean' }, in: { type: 'string' } });
    if (values.now && values.in !== undefined) throw new ValidationError('Give --now or --in, not both.');
    if (values.in !== undefined && !/^\d{1,7}$/.test(values.in)) throw new ValidationError(SOME_FIELDS, { in: 'A whole number of seconds.' });
    const wait = values.now ? 0 : values.in !== undefined ? Number(values.in) : config.keys.publishAheadSeconds;
    await deleteExpiredKeys(db, keepRetiredSeconds(config.oidc.ttl));
    const { kid, activatesAt } = await rotateSigningKey(db, wait, cliActor());
    console.log(`new signing key ${kid}, published now; it signs from ${activatesAt.toISOString()}`);
    if (wait === 0 || wait < 2 * config.keys.refreshSeconds) {
      console.log(
        'note: instances that listen on the database hear of it at once; any that does not reads its keys only every ' +
          `${config.keys.refreshSeconds} s, and may meanwhile refuse tokens the new key signs elsewhere`,
      );
    }
  },

  async 'keys list'({ db, args }) {
    cliArgs(args, {});
    for (const k of await listSigningKeys(db)) {
      // An unused key was overtaken before it started: it never signed, and may be withdrawn.
      const when = k.state === 'unused' ? 'never signed' : `from ${k.activatesAt.toISOString()}${k.retiredAt ? `  until ${k.retiredAt.toISOString()}` : ''}`;
      console.log(`${k.kid}  ${k.state}  ${when}`);
    }
  },

  async 'keys withdraw'({ db, args }) {
    const { positionals } = cliArgs(args, {}, { positionals: true });
    if (positionals.length !== 1) throw new ValidationError(SOME_FIELDS, { kid: 'Give exactly one key id.' });
    await withdrawSigningKey(db, positionals[0]!, cliActor());
    console.log(`key ${positionals[0]} withdrawn: instances stop publishing and accepting it as they hear of it (within keys.refreshSeconds)`);
  },

  async 'cards create'({ config, db, args }) {
    const { values } = cliArgs(args, { name: { type: 'string' }, birthdate: { type: 'string' }, email: { type: 'string' }, mobile: { type: 'string' } });
    const missing = (['name', 'birthdate'] as const).filter((k) => values[k] === undefined);
    if (missing.length) throw new ValidationError(SOME_FIELDS, Object.fromEntries(missing.map((k) => [k, 'Must be given.'])));
    const holder = operatorHolder(
      { name: values.name!, birthdate: values.birthdate!, email: values.email, mobile: values.mobile },
      { mobileCallingCode: config.cards.mobileCallingCode, adultAge: config.cards.adultAge, creditLimit: config.cards.creditLimit.adult, timeZone: config.billing.timeZone },
    );
    const hasher = createPasswordHasher({ ...config.argon2, pepper: config.secrets.passwordPepper });
    const issued = await createCard(
      { db, hasher, cardHmacKey: config.secrets.cardHmacKey, issuerPrefix: config.cards.issuerPrefix, currency: config.currency },
      holder,
      cliActor(),
    );
    console.log(`card issued to account ${issued.accountId}
  card number: ${formatCardNumber(issued.cardNumber)}
  password:    ${issued.password}
Store these now: the number and password are not shown again.`);
  },

  async 'resource-servers add'({ db, args }) {
    const { values } = cliArgs(args, { identifier: { type: 'string' }, name: { type: 'string' }, scope: { type: 'string' }, ttl: { type: 'string' }, replace: { type: 'boolean' } });
    const fields: Record<string, string> = {};
    if (!values.identifier || !URL.canParse(values.identifier)) fields.identifier = values.identifier ? 'Must be an absolute URI.' : 'Must be given (an absolute URI).';
    if (!values.name?.trim()) fields.name = 'Must be given.';
    // Holders read it on the consent page ('Access Shop Videos (read)'): one line, shown in the order it was written.
    else if (hasControlCharacters(values.name)) fields.name = 'Must not contain control characters.';
    if (values.ttl !== undefined && !/^[1-9]\d{0,5}$/.test(values.ttl)) fields.ttl = `A whole number of seconds from 1 to 999999, not "${values.ttl}".`;
    if (Object.keys(fields).length) throw new ValidationError(SOME_FIELDS, fields);
    const done = await registerResourceServer(
      db,
      { identifier: values.identifier!, name: values.name!, scope: values.scope ?? '', accessTokenTtl: values.ttl ? Number(values.ttl) : null },
      { replace: values.replace === true, actor: cliActor() },
    );
    console.log(`resource server ${values.identifier} ${done}`);
  },

  async 'resource-servers list'({ db, args }) {
    cliArgs(args, {});
    for (const rs of await listResourceServerGrants(db)) {
      const sites = rs.sites.map((s) => (s.status === 'active' ? s.clientId : `${s.clientId} (${s.status})`)).join(', ');
      console.log([rs.identifier, rs.name, rs.scope || '-', rs.accessTokenTtl ?? 'default', sites || '-'].join('\t'));
    }
  },

  async cleanup({ db, args }) {
    cliArgs(args, {});
    console.log(`deleted ${await deleteExpiredPayloads(db)} expired rows`);
  },

  ...siteCommands,
  ...cardCommands,
  ...applicationCommands,
  ...ledgerCommands,
  ...disputeCommands,
  ...deliveryCommands,
};

async function main(argv: string[]): Promise<number> {
  // Asked for, the usage is the answer (stdout, exit 0); only a command it does not know is exit 2.
  if (argv.length === 1 && ['--help', '-h', 'help'].includes(argv[0]!)) {
    console.log(USAGE);
    return 0;
  }
  const two = argv.slice(0, 2).join(' ');
  const name = commands[two] ? two : argv[0];
  const handler = name ? commands[name] : undefined;
  if (!handler) {
    console.error(USAGE);
    return 2;
  }
  let config: Config;
  let db: Db;
  try {
    config = loadConfig();
    // knex's warnings on stderr, as JSON: stdout carries only the command's answer (a CSV, a report).
    db = openDb({ ...config, idleInTransactionSeconds: config.databaseIdleInTransactionSeconds, log: createLogger(config.logLevel, pino.destination(2)) });
  } catch (err) {
    if (!(err instanceof AppError)) throw err;
    console.error(`error: ${err.message}`);
    return 1;
  }
  try {
    if (name !== 'migrate') await migrateLatest(db);
    // Before anything reads or writes a card: a CLI on other secrets (no NODE_ENV=production) would issue cards no one can use.
    if (name !== 'migrate') await checkSecretsAgainstDatabase(db, config.secrets);
    await handler({ config, db, args: argv.slice(name!.split(' ').length) });
    // A command that finished but left the operator something to see to (an import's lines not applied) set its code.
    return Number(process.exitCode ?? 0);
  } catch (caught) {
    const err = explainUnreachable(caught, config.databaseUrl);
    // A refusal in the operator API's words, each field under the option typed; anything else as it came.
    if (err instanceof AppError && err.expose) for (const line of refusalLines(err)) console.error(line);
    else console.error(`error: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  } finally {
    await db.destroy();
  }
}

process.exitCode = await main(process.argv.slice(2));
