import { Histogram, type Registry } from 'prom-client';
import type { PasswordHasher } from '../cards/password.ts';

/** argon2id at OWASP cost takes tens of milliseconds; seconds mean the CPU is saturated. */
const HASH_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/**
 * The hasher, each hash and verify timed into cybercard_password_hash_seconds{op}: the CPU cost that bounds
 * how many logins an instance can take. A verify for an unknown card (the dummy hash) is timed as any other.
 */
export function timedHasher(hasher: PasswordHasher, registry: Registry): PasswordHasher {
  const seconds = new Histogram({
    name: 'cybercard_password_hash_seconds',
    help: 'Time of each argon2id password hash (a card issued, a password set) and verify (every password check).',
    labelNames: ['op'],
    buckets: HASH_BUCKETS,
    registers: [registry],
  });
  const hashing = seconds.labels('hash');
  const verifying = seconds.labels('verify');
  return {
    async hash(password) {
      const started = performance.now();
      try {
        return await hasher.hash(password);
      } finally {
        hashing.observe((performance.now() - started) / 1000);
      }
    },
    async verify(hash, password) {
      const started = performance.now();
      try {
        return await hasher.verify(hash, password);
      } finally {
        verifying.observe((performance.now() - started) / 1000);
      }
    },
  };
}
