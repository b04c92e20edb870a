import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { ConfigError } from '../errors.ts';
import type { Secrets } from './schema.ts';

interface StoredSecrets {
  cookieKeys: string[];
  cardHmacKey: string;
  passwordPepper: string;
  operatorToken?: string;
  registrationToken?: string;
  metricsToken?: string;
}

const MIN_KEY_BYTES = 32;

function decodeKey(name: string, value: string): Buffer {
  const buf = Buffer.from(value, 'base64');
  if (buf.length < MIN_KEY_BYTES) {
    throw new ConfigError(`${name} must be at least ${MIN_KEY_BYTES} bytes, base64-encoded`);
  }
  return buf;
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
    operatorToken: env.OPERATOR_TOKEN,
  };
  if (fromEnv.operatorToken !== undefined && fromEnv.operatorToken.length < 32) {
    throw new ConfigError('OPERATOR_TOKEN must be at least 32 characters');
  }
  const registrationToken = env.REGISTRATION_TOKEN;
  if (registrationToken !== undefined && registrationToken.length < 32) {
    throw new ConfigError('REGISTRATION_TOKEN must be at least 32 characters');
  }
  // Optional everywhere: without it /metrics is off (never a reason to refuse to start).
  const metricsToken = env.METRICS_TOKEN;
  if (metricsToken !== undefined && metricsToken.length < 32) {
    throw new ConfigError('METRICS_TOKEN must be at least 32 characters');
  }
  if (fromEnv.cookieKeys?.length && fromEnv.cardHmacKey && fromEnv.passwordPepper && fromEnv.operatorToken) {
    for (const k of fromEnv.cookieKeys) {
      if (k.length < 32) throw new ConfigError('COOKIE_KEYS: each key must be at least 32 characters');
    }
    return {
      cookieKeys: fromEnv.cookieKeys,
      cardHmacKey: decodeKey('CARD_HMAC_KEY', fromEnv.cardHmacKey),
      passwordPepper: decodeKey('PASSWORD_PEPPER', fromEnv.passwordPepper),
      operatorToken: fromEnv.operatorToken,
      registrationToken,
      metricsToken,
      smtpPassword: env.SMTP_PASSWORD,
      smsWebhookToken: env.SMS_WEBHOOK_TOKEN,
      generated: false,
    };
  }
  if (!allowGenerate) {
    const missing = (
      [
        ['COOKIE_KEYS', fromEnv.cookieKeys?.length],
        ['CARD_HMAC_KEY', fromEnv.cardHmacKey],
        ['PASSWORD_PEPPER', fromEnv.passwordPepper],
        ['OPERATOR_TOKEN', fromEnv.operatorToken],
      ] as const
    )
      .filter(([, v]) => !v)
      .map(([name]) => name);
    throw new ConfigError(`${missing.join(', ')} must be set in production (generated secrets are refused)`);
  }
  const file = path.join(dataDir, 'secrets.json');
  let stored: StoredSecrets;
  if (existsSync(file)) {
    stored = JSON.parse(readFileSync(file, 'utf8')) as StoredSecrets;
  } else {
    stored = {
      cookieKeys: [randomBytes(32).toString('base64url')],
      cardHmacKey: randomBytes(32).toString('base64'),
      passwordPepper: randomBytes(32).toString('base64'),
      operatorToken: randomBytes(32).toString('base64url'),
      registrationToken: randomBytes(32).toString('base64url'),
      metricsToken: randomBytes(32).toString('base64url'),
    };
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(file, JSON.stringify(stored, null, 2), { mode: 0o600 });
  }
  if (!stored.operatorToken || !stored.registrationToken || !stored.metricsToken) {
    stored.operatorToken ??= randomBytes(32).toString('base64url');
    stored.registrationToken ??= randomBytes(32).toString('base64url');
    stored.metricsToken ??= randomBytes(32).toString('base64url');
    writeFileSync(file, JSON.stringify(stored, null, 2), { mode: 0o600 });
  }
  return {
    cookieKeys: fromEnv.cookieKeys?.length ? fromEnv.cookieKeys : stored.cookieKeys,
    cardHmacKey: decodeKey('CARD_HMAC_KEY', fromEnv.cardHmacKey ?? stored.cardHmacKey),
    passwordPepper: decodeKey('PASSWORD_PEPPER', fromEnv.passwordPepper ?? stored.passwordPepper),
    operatorToken: fromEnv.operatorToken ?? stored.operatorToken,
    registrationToken: registrationToken ?? stored.registrationToken,
    metricsToken: metricsToken ?? stored.metricsToken,
    smtpPassword: env.SMTP_PASSWORD,
    smsWebhookToken: env.SMS_WEBHOOK_TOKEN,
    generated: true,
  };
}
