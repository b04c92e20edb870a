import { Secret, TOTP } from 'otpauth';

/** RFC 6238 defaults every authenticator app understands: SHA-1, 6 digits, 30-second steps. */
const PARAMS = { algorithm: 'SHA1', digits: 6, period: 30 } as const;

/** A fresh 160-bit secret (RFC 4226 §4 recommends 160 bits), as raw bytes. */
export function newTotpSecret(): Buffer {
  return Buffer.from(new Secret({ size: 20 }).bytes);
}

function totpOf(secret: Buffer, label = 'card', issuer = 'Cyber card'): TOTP {
  return new TOTP({ ...PARAMS, issuer, label, secret: new Secret({ buffer: new Uint8Array(secret).buffer }) });
}

/** The otpauth:// URI an authenticator app scans (or takes as text), and the base32 secret for typing in. */
export function totpProvisioning(secret: Buffer, label: string, issuer: string): { uri: string; base32: string } {
  const totp = totpOf(secret, label, issuer);
  return { uri: totp.toString(), base32: totp.secret.base32 };
}

/** The time step of `code` if it is valid now (±1 step for clock drift), else null. */
export function matchTotpStep(secret: Buffer, code: string, now = Date.now()): number | null {
  if (!/^\d{6}$/.test(code)) return null;
  const delta = totpOf(secret).validate({ token: code, timestamp: now, window: 1 });
  if (delta === null) return null;
  return TOTP.counter({ period: PARAMS.period, timestamp: now }) + delta;
}
