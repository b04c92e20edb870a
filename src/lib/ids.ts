import { randomBytes, randomInt, randomUUID } from 'node:crypto';

/** A random UUID (v4) for row ids. */
export function newId(): string {
  return randomUUID();
}

/** A URL-safe random token with `bytes` bytes of entropy. */
export function randomToken(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}

/** `count` uniformly random decimal digits from the CSPRNG. */
export function randomDigits(count: number): string {
  let out = '';
  for (let i = 0; i < count; i++) out += String(randomInt(10));
  return out;
}
