import argon2, { type HashOptions } from 'argon2';
import { randomInt } from 'node:crypto';

export interface PasswordHasherOptions {
  memoryCost: number;
  timeCost: number;
  parallelism: number;
  pepper: Buffer;
}

export interface PasswordHasher {
  hash(password: string): Promise<string>;
  /** Verifies; for an unknown card pass undefined and it spends the same time on a dummy hash. */
  verify(hash: string | undefined, password: string): Promise<boolean>;
}

/** argon2id with a pepper (argon2's `secret` input), parameters from config (OWASP in production). */
export function createPasswordHasher(opts: PasswordHasherOptions): PasswordHasher {
  const params: HashOptions & { raw?: false } = {
    type: argon2.argon2id,
    memoryCost: opts.memoryCost,
    timeCost: opts.timeCost,
    parallelism: opts.parallelism,
    secret: opts.pepper,
  };
  let dummy: Promise<string> | undefined;
  const dummyHash = () => (dummy ??= argon2.hash('dummy password for unknown cards', params));

  return {
    hash: (password) => argon2.hash(password, params),
    async verify(hash, password) {
      const target = hash ?? (await dummyHash());
      try {
        const ok = await argon2.verify(target, password, { secret: opts.pepper });
        return hash !== undefined && ok;
      } catch {
        return false;
      }
    },
  };
}

const ALPHABET = 'abcdefghijkmnpqrstuvwxyzACDEFGHJKLMNPQRTUVWXY23456789';

/** A random password people can type: three groups of four, about 69 bits. */
export function generatePassword(): string {
  const groups: string[] = [];
  for (let g = 0; g < 3; g++) {
    let s = '';
    for (let i = 0; i < 4; i++) s += ALPHABET[randomInt(ALPHABET.length)];
    groups.push(s);
  }
  return groups.join('-');
}
