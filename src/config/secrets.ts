import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { ConfigError } from '../errors.ts';
import type { NamedOperator, OperatorRole, Secrets } from './schema.ts';

interface StoredSecrets {
  cookieKeys: string[];
  cardHmacKey: string;
  passwordPepper: string;
  operatorToken?: string;
  registrationToken?: string;
  metricsToken?: string;
}

const MIN_KEY_BYTES = 32;

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const BASE64URL = /^[A-Za-z0-9_-]+$/;

/**
 * Node decodes base64 leniently, skipping what is not of its alphabet: a passphrase or a mangled value was taken as a
 * shorter key than the operator meant, or one they could never give again. Only standard base64 (padded) or base64url
 * is taken, the whitespace around it (a file's last newline) aside, and the error names the setting, never its value.
 */
function decodeKey(name: string, value: string): Buffer {
  const text = value.trim();
  const wellFormed = (BASE64.test(text) && text.length > 0) || (BASE64URL.test(text) && text.length % 4 !== 1);
  if (!wellFormed) throw new ConfigError(`${name} must be base64 (as \`openssl rand -base64 32\` prints it), at least ${MIN_KEY_BYTES} bytes`);
  const buf = Buffer.from(text, BASE64.test(text) ? 'base64' : 'base64url');
  if (buf.length < MIN_KEY_BYTES) {
    throw new ConfigError(`${name} must be at least ${MIN_KEY_BYTES} bytes, base64-encoded`);
  }
  return buf;
}

const MIN_TOKEN_CHARS = 32;

/** A bearer token as an Authorization header carries it (RFC 6750 §2.1, b64token): what else is given could never be presented. */
const BEARER_TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;
const TOKEN_FORM = `letters, digits and - . _ ~ + / (= only at the end), at least ${MIN_TOKEN_CHARS} characters`;

/** A bearer token setting (OPERATOR_TOKEN, REGISTRATION_TOKEN, METRICS_TOKEN): refused, by name, unless well-formed. */
function checkToken(name: string, token: string | undefined): void {
  if (token === undefined) return;
  if (token.length < MIN_TOKEN_CHARS) throw new ConfigError(`${name} must be at least ${MIN_TOKEN_CHARS} characters`);
  if (!BEARER_TOKEN.test(token)) throw new ConfigError(`${name} must be ${TOKEN_FORM}`);
}

/**
 * A cookie key with whitespace or a control character in it is two keys run together by a space (the one meant to verify
 * old cookies would sign new ones, under a key no one wrote), or a value pasted with what surrounded it.
 */
const COOKIE_KEY = /^[^\s\p{Cc}]+$/u;

const ROLES: ReadonlySet<string> = new Set<OperatorRole>(['full', 'viewer']);

/**
 * OPERATOR_TOKENS: `name:token` or `name:token:role` entries separated by commas, one per person who uses the operator
 * API or console, so that the audit trail says who did what. Names are 1–32 of a–z, 0–9, `.`, `_`, `-`; tokens at least
 * 32 characters; neither twice. The role is `viewer` (read only) or `full`; none is `full`, as every entry was before
 * roles. A token never holds a colon (BEARER_TOKEN), so the third part can only be a role.
 */
function parseOperators(value: string | undefined): NamedOperator[] {
  if (value === undefined) return [];
  const operators = value
    .split(',')
    .map((pair) => pair.trim())
    .filter(Boolean)
    .map((pair, i) => {
      const at = pair.indexOf(':');
      const name = at > 0 ? pair.slice(0, at).trim() : '';
      const rest = at > 0 ? pair.slice(at + 1) : '';
      const roleAt = rest.indexOf(':');
      const token = (roleAt >= 0 ? rest.slice(0, roleAt) : rest).trim();
      const role = roleAt >= 0 ? rest.slice(roleAt + 1).trim() : 'full';
      if (!/^[a-z0-9._-]{1,32}$/.test(name)) {
        throw new ConfigError(`OPERATOR_TOKENS: entry ${i + 1} must be name:token, the name 1 to 32 of a-z, 0-9, ".", "_", "-"`);
      }
      if (token.length < MIN_TOKEN_CHARS) throw new ConfigError(`OPERATOR_TOKENS: the token of ${name} must be at least ${MIN_TOKEN_CHARS} characters`);
      if (!BEARER_TOKEN.test(token)) throw new ConfigError(`OPERATOR_TOKENS: the token of ${name} must be ${TOKEN_FORM}`);
      if (!ROLES.has(role)) throw new ConfigError(`OPERATOR_TOKENS: the role of ${name} must be viewer or full (none: full)`);
      return { name, token, role: role as OperatorRole };
    });
  if (new Set(operators.map((o) => o.name)).size !== operators.length) throw new ConfigError('OPERATOR_TOKENS: a name is given twice');
  if (new Set(operators.map((o) => o.token)).size !== operators.length) throw new ConfigError('OPERATOR_TOKENS: a token is given twice');
  return operators;
}

/**
 * Secrets come from the environment; in development and test, missing ones are generated once
 * and kept in <dataDir>/secrets.json (mode 0600) so restarts keep cookies and card lookups valid.
 */
export function resolveSecrets(env: NodeJS.ProcessEnv, dataDir: string, allowGenerate: boolean): Secrets {
  const fromEnv = {
    cookieKeys: env.COOKIE_KEYS?.split(',').map((k) => k.trim()).filter(Boolean),
    cardHmacKey: env.CARD_HMAC_KEY,
    passwordPepper: env.PASSWORD_PEPPER,
    // As OPERATOR_TOKENS' are: whitespace around a token is never part of it (admin/require-operator.ts).
    operatorToken: env.OPERATOR_TOKEN?.trim(),
  };
  checkToken('OPERATOR_TOKEN', fromEnv.operatorToken);
  const operators = parseOperators(env.OPERATOR_TOKENS);
  if (fromEnv.operatorToken !== undefined && operators.some((o) => o.token === fromEnv.operatorToken)) {
    throw new ConfigError('OPERATOR_TOKENS: a token is also OPERATOR_TOKEN');
  }
  const registrationToken = env.REGISTRATION_TOKEN;
  checkToken('REGISTRATION_TOKEN', registrationToken);
  // Optional everywhere: without it /metrics is off (never a reason to refuse to start).
  const metricsToken = env.METRICS_TOKEN;
  checkToken('METRICS_TOKEN', metricsToken);
  const anyOperator = fromEnv.operatorToken !== undefined || operators.length > 0;
  if (fromEnv.cookieKeys?.length && fromEnv.cardHmacKey && fromEnv.passwordPepper && anyOperator) {
    for (const k of fromEnv.cookieKeys) {
      if (!COOKIE_KEY.test(k)) throw new ConfigError('COOKIE_KEYS: separate keys with commas; a key has no whitespace or control characters');
      if (k.length < 32) throw new ConfigError('COOKIE_KEYS: each key must be at least 32 characters');
    }
    return {
      cookieKeys: fromEnv.cookieKeys,
      cardHmacKey: decodeKey('CARD_HMAC_KEY', fromEnv.cardHmacKey),
      passwordPepper: decodeKey('PASSWORD_PEPPER', fromEnv.passwordPepper),
      operatorToken: fromEnv.operatorToken,
      operators,
      registrationToken,
      metricsToken,
      smtpPassword: env.SMTP_PASSWORD,
      smsWebhookToken: env.SMS_WEBHOOK_TOKEN,
      generated: false,
      generatedOperatorTokenRefused: false,
    };
  }
  if (!allowGenerate) {
    const missing = (
      [
        ['COOKIE_KEYS', fromEnv.cookieKeys?.length],
        ['CARD_HMAC_KEY', fromEnv.cardHmacKey],
        ['PASSWORD_PEPPER', fromEnv.passwordPepper],
        ['OPERATOR_TOKEN (or OPERATOR_TOKENS)', anyOperator],
      ] as const
    )
      .filter(([, v]) => !v)
      .map(([name]) => name);
    throw new ConfigError(`${missing.join(', ')} must be set in production (generated secrets are refused)`);
  }
  const file = path.join(dataDir, 'secrets.json');
  let stored: StoredSecrets;
  if (existsSync(file)) {
    stored = readStoredSecrets(file);
  } else {
    stored = {
      cookieKeys: [randomBytes(32).toString('base64url')],
      cardHmacKey: randomBytes(32).toString('base64'),
      passwordPepper: randomBytes(32).toString('base64'),
      operatorToken: randomBytes(32).toString('base64url'),
      registrationToken: randomBytes(32).toString('base64url'),
      metricsToken: randomBytes(32).toString('base64url'),
    };
    writeStoredSecrets(dataDir, file, stored);
  }
  if (!stored.operatorToken || !stored.registrationToken || !stored.metricsToken) {
    stored.operatorToken ??= randomBytes(32).toString('base64url');
    stored.registrationToken ??= randomBytes(32).toString('base64url');
    stored.metricsToken ??= randomBytes(32).toString('base64url');
    writeStoredSecrets(dataDir, file, stored);
  }
  // With named operator tokens, the shared token is one set on purpose (OPERATOR_TOKEN) or none: the generated one would
  // keep working beside them, unnamed in the audit trail, for anyone who can read the data directory.
  const refuseGenerated = fromEnv.operatorToken === undefined && operators.length > 0;
  return {
    cookieKeys: fromEnv.cookieKeys?.length ? fromEnv.cookieKeys : stored.cookieKeys,
    cardHmacKey: decodeKey('CARD_HMAC_KEY', fromEnv.cardHmacKey ?? stored.cardHmacKey),
    passwordPepper: decodeKey('PASSWORD_PEPPER', fromEnv.passwordPepper ?? stored.passwordPepper),
    operatorToken: fromEnv.operatorToken ?? (refuseGenerated ? undefined : stored.operatorToken),
    operators,
    registrationToken: registrationToken ?? stored.registrationToken,
    metricsToken: metricsToken ?? stored.metricsToken,
    smtpPassword: env.SMTP_PASSWORD,
    smsWebhookToken: env.SMS_WEBHOOK_TOKEN,
    generated: true,
    generatedOperatorTokenRefused: refuseGenerated,
  };
}

/** The kept development secrets, or a refusal naming DATA_DIR: a start should say what to fix, not throw a stack. */
function readStoredSecrets(file: string): StoredSecrets {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`dataDir (DATA_DIR) ${file} cannot be read: ${(err as Error).message}`);
  }
  try {
    return JSON.parse(text) as StoredSecrets;
  } catch (err) {
    throw new ConfigError(`dataDir (DATA_DIR) ${file} is not JSON: ${(err as Error).message} (move it away to generate new development secrets)`);
  }
}

/** Keeps the development secrets under the data directory (mode 0600), or refuses naming DATA_DIR. */
function writeStoredSecrets(dataDir: string, file: string, stored: StoredSecrets): void {
  try {
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(file, JSON.stringify(stored, null, 2), { mode: 0o600 });
  } catch (err) {
    throw new ConfigError(`dataDir (DATA_DIR) ${dataDir} cannot hold the development secrets: ${(err as Error).message}`);
  }
}
