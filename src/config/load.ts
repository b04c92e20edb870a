import { readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '../errors.ts';
import { settingsSchema, type Config, type Secrets, type Settings } from './schema.ts';
import { resolveSecrets } from './secrets.ts';

const CONFIG_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../config');

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Deep merge: objects merge key by key, everything else is replaced. */
export function deepMerge(base: Json, over: Json): Json {
  const out: Json = { ...base };
  for (const [k, v] of Object.entries(over)) {
    out[k] = isObject(v) && isObject(out[k]) ? deepMerge(out[k] as Json, v) : v;
  }
  return out;
}

function readJson(file: string): Json {
  if (!existsSync(file)) return {};
  return JSON.parse(readFileSync(file, 'utf8')) as Json;
}

function intEnv(name: string, value: string): number {
  if (!/^\d+$/.test(value)) throw new ConfigError(`${name} must be a whole number, got "${value}"`);
  return Number(value);
}

function boolEnv(name: string, value: string): boolean {
  if (value !== 'true' && value !== 'false') throw new ConfigError(`${name} must be true or false, got "${value}"`);
  return value === 'true';
}

/** Environment variables that override config/*.json. */
function envOverrides(env: NodeJS.ProcessEnv): Json {
  const o: Json = {};
  if (env.PORT) o.port = intEnv('PORT', env.PORT);
  if (env.ISSUER) o.issuer = env.ISSUER;
  if (env.DATABASE_URL) o.databaseUrl = env.DATABASE_URL;
  if (env.ALLOW_EMBEDDED_DATABASE) o.allowEmbeddedDatabase = boolEnv('ALLOW_EMBEDDED_DATABASE', env.ALLOW_EMBEDDED_DATABASE);
  if (env.DATABASE_LISTEN_URL) o.databaseListenUrl = env.DATABASE_LISTEN_URL;
  if (env.KEEP_MEMBER_SITES) o.keepMemberSites = boolEnv('KEEP_MEMBER_SITES', env.KEEP_MEMBER_SITES);
  if (env.SHUTDOWN_GRACE_SECONDS) o.shutdownGraceSeconds = intEnv('SHUTDOWN_GRACE_SECONDS', env.SHUTDOWN_GRACE_SECONDS);
  if (env.DATABASE_POOL_MAX) o.databasePoolMax = intEnv('DATABASE_POOL_MAX', env.DATABASE_POOL_MAX);
  if (env.DATABASE_IDLE_IN_TRANSACTION_SECONDS) {
    o.databaseIdleInTransactionSeconds = intEnv('DATABASE_IDLE_IN_TRANSACTION_SECONDS', env.DATABASE_IDLE_IN_TRANSACTION_SECONDS);
  }
  if (env.TRUST_PROXY) o.trustProxy = boolEnv('TRUST_PROXY', env.TRUST_PROXY);
  if (env.PROXY_HOPS) o.proxyHops = intEnv('PROXY_HOPS', env.PROXY_HOPS);
  if (env.DATA_DIR) o.dataDir = env.DATA_DIR;
  if (env.LOG_LEVEL) o.logLevel = env.LOG_LEVEL;
  if (env.CURRENCY) o.currency = env.CURRENCY;
  if (env.CARD_ISSUER_PREFIX) o.cards = { issuerPrefix: env.CARD_ISSUER_PREFIX };
  if (env.SMS_WEBHOOK_URL) o.notifications = { sms: { transport: 'webhook', webhookUrl: env.SMS_WEBHOOK_URL } };
  if (env.OIDC_ALLOW_PRIVATE_FETCH) o.oidc = { allowPrivateFetch: boolEnv('OIDC_ALLOW_PRIVATE_FETCH', env.OIDC_ALLOW_PRIVATE_FETCH) };
  const demo: Json = {};
  if (env.DEMO_PORT) demo.port = intEnv('DEMO_PORT', env.DEMO_PORT);
  if (env.DEMO_URL) demo.url = env.DEMO_URL;
  if (env.DEMO_ENABLED) demo.enabled = boolEnv('DEMO_ENABLED', env.DEMO_ENABLED);
  if (Object.keys(demo).length) o.demo = demo;
  return o;
}

/**
 * PORT (DEMO_PORT) alone moves the issuer (the demo's URL) with it while the file's URL is the localhost one of
 * the file's port: `PORT=3470 npm start` serves and announces http://localhost:3470. ISSUER (DEMO_URL) wins.
 */
function followPorts(merged: Json, env: NodeJS.ProcessEnv): void {
  const follow = (o: Json, urlKey: string, port: string | undefined, url: string | undefined) => {
    if (!port || url || !/^\d+$/.test(port) || o[urlKey] !== `http://localhost:${String(o.port)}`) return;
    o[urlKey] = `http://localhost:${port}`;
  };
  follow(merged, 'issuer', env.PORT, env.ISSUER);
  if (isObject(merged.demo)) follow(merged.demo, 'url', env.DEMO_PORT, env.DEMO_URL);
}

function isLocalhost(url: URL): boolean {
  return ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname);
}

/** Production must not run with development shortcuts: what stops it, every one, so that one start names them all. */
function productionRefusals(settings: Settings, issuerGiven: boolean): string[] {
  const refusals: string[] = [];
  if (!issuerGiven) {
    refusals.push(`ISSUER must be set in production: the public https URL member sites and browsers reach the card manager at (without it the issuer would be ${settings.issuer})`);
  }
  // The embedded PGlite serves one process from dataDir: instances started beside it would each keep books of their own.
  if (!settings.databaseUrl && !settings.allowEmbeddedDatabase) {
    refusals.push(
      'DATABASE_URL must be set in production: the embedded database (dataDir/pgdata) serves one process and is no database to keep money in (ALLOW_EMBEDDED_DATABASE=true runs on it anyway)',
    );
  }
  if (settings.oidc.devInteractions) {
    refusals.push('oidc.devInteractions must be false in production');
  }
  // The demo registers an http member site and issues a card whose number and password it keeps in
  // <dataDir>/demo.json and prints at every start: a working credential outside any holder's hands.
  if (settings.demo.enabled) {
    refusals.push('demo.enabled must be false in production (DEMO_ENABLED): the demo issues a card whose password it keeps in a file');
  }
  const issuer = new URL(settings.issuer);
  if (issuer.protocol !== 'https:' && !isLocalhost(issuer)) {
    refusals.push(`issuer must be https in production, got ${settings.issuer}`);
  }
  // A ledger entry is dated when its transaction starts. One that starts before a period ends and commits after
  // its statement closed would be left off every statement; the request transactions, billing batches and
  // repayment imports of a real deployment can take seconds.
  if (settings.billing.settleSeconds < MIN_PRODUCTION_SETTLE_SECONDS) {
    refusals.push(`billing.settleSeconds must be at least ${MIN_PRODUCTION_SETTLE_SECONDS} in production, got ${settings.billing.settleSeconds}`);
  }
  // One-time codes (lost card, reissue, password reset, contacts) would sit in files on each instance, never reaching
  // the holder who asked: the email default of production is smtp, the SMS one has no URL to default to.
  for (const channel of ['email', 'sms'] as const) {
    if (settings.notifications[channel].transport === 'file') {
      refusals.push(
        `notifications.${channel}.transport must not be file in production: one-time codes and notices would be written to dataDir/outbox, not sent` +
          (channel === 'sms' ? ' (set SMS_WEBHOOK_URL, or notifications.sms.transport webhook and its webhookUrl)' : ' (use smtp)'),
      );
    }
  }
  // A key rotated in must be published by every instance before any signs with it.
  const { refreshSeconds, publishAheadSeconds } = settings.keys;
  if (refreshSeconds === 0 || publishAheadSeconds < 2 * refreshSeconds) {
    refusals.push(
      `keys.refreshSeconds must be above 0 and keys.publishAheadSeconds at least twice it in production, got ${refreshSeconds} and ${publishAheadSeconds}`,
    );
  }
  return refusals;
}

/** The shortest wait after a billing period ends before production closes its statements. */
export const MIN_PRODUCTION_SETTLE_SECONDS = 60;

export interface LoadOptions {
  env?: NodeJS.ProcessEnv;
  /** Applied last; tests use it to point at their own database and data dir. */
  overrides?: Json;
}

/** Loads config/default.json, then config/<NODE_ENV>.json, then the environment; validates; freezes. */
export function loadConfig({ env = process.env, overrides = {} }: LoadOptions = {}): Config {
  const nodeEnv = env.NODE_ENV ?? 'development';
  if (!['development', 'test', 'production'].includes(nodeEnv)) {
    throw new ConfigError(`NODE_ENV must be development, test or production, got "${nodeEnv}"`);
  }
  let merged = readJson(path.join(CONFIG_DIR, 'default.json'));
  const forEnv = readJson(path.join(CONFIG_DIR, `${nodeEnv}.json`));
  merged = deepMerge(merged, forEnv);
  // The default issuer is development's: production must be told its public URL.
  const issuerGiven = Boolean(env.ISSUER) || 'issuer' in forEnv || 'issuer' in overrides;
  followPorts(merged, env);
  merged = deepMerge(merged, envOverrides(env));
  merged = deepMerge(merged, overrides);

  const parsed = settingsSchema.safeParse(merged);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ConfigError(`config setting "${issue.path.join('.')}" is invalid: ${issue.message}`);
  }
  const settings = parsed.data;
  settings.issuer = settings.issuer.replace(/\/$/, '');
  settings.dataDir = path.resolve(settings.dataDir);
  const refusals = nodeEnv === 'production' ? productionRefusals(settings, issuerGiven) : [];
  let secrets: Secrets | undefined;
  try {
    secrets = resolveSecrets(env, settings.dataDir, nodeEnv !== 'production');
  } catch (err) {
    // Missing or malformed secrets join the other refusals: an operator fixes them all before the next start.
    if (!(err instanceof ConfigError) || !refusals.length) throw err;
    refusals.push(err.message);
  }
  if (refusals.length || !secrets) throw new ConfigError(refusals.length === 1 ? refusals[0]! : `${refusals.length} things to fix before production starts:\n${refusals.map((r) => `  - ${r}`).join('\n')}`);
  if (settings.registration.enabled && !secrets.registrationToken) {
    throw new ConfigError('registration.enabled needs REGISTRATION_TOKEN (at least 32 characters): the initial access token sites register with');
  }
  return deepFreeze({ ...settings, env: nodeEnv, secrets });
}

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object' && !Buffer.isBuffer(o)) {
    for (const v of Object.values(o)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}

/**
 * The configuration once its ports are bound: PORT=0 (DEMO_PORT=0) asks for any free port, and the localhost issuer
 * (demo URL) that follows PORT (DEMO_PORT) names the one got, as `PORT=3470` names 3470. An ISSUER (DEMO_URL) given
 * is kept as given. Unchanged when no port was 0.
 */
export function onPortsGot(config: Config, got: { port: number; demoPort?: number | undefined }, env: NodeJS.ProcessEnv = process.env): Config {
  const ports: NodeJS.ProcessEnv = {};
  if (config.port === 0) ports.PORT = String(got.port);
  if (config.demo.port === 0 && got.demoPort !== undefined) ports.DEMO_PORT = String(got.demoPort);
  return Object.keys(ports).length ? loadConfig({ env: { ...env, ...ports } }) : config;
}
