import { z } from 'zod';

const ttlSeconds = z.number().int().positive();

/** The shape of config/*.json after merging; secrets are resolved separately (see secrets.ts). */
export const settingsSchema = z.object({
  port: z.number().int().min(0).max(65535),
  issuer: z.url(),
  dataDir: z.string().min(1),
  databaseUrl: z.string().min(1).nullable(),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
  bodyLimitBytes: z.number().int().min(1024).max(1048576),
  trustProxy: z.boolean(),
  currency: z.string().regex(/^[A-Z]{3}$/, 'an ISO 4217 code such as KRW'),
  cards: z.object({
    issuerPrefix: z.string().regex(/^[1-9][0-9]{5,7}$/, 'six to eight digits, not starting with 0'),
    /** Youngest age at which a person may hold a card (with a guardian until adultAge). */
    minimumAge: z.number().int().min(0).max(120),
    /** Age from which no guardian is needed and adult content is allowed. */
    adultAge: z.number().int().min(1).max(120),
    /** Credit limits in minor units of `currency`, assigned at issuance. */
    creditLimit: z.object({ adult: z.number().int().min(0), minor: z.number().int().min(0) }),
  }),
  argon2: z.object({
    memoryCost: z.number().int().min(1024),
    timeCost: z.number().int().min(1),
    parallelism: z.number().int().min(1).max(16),
  }),
  oidc: z.object({
    devInteractions: z.boolean(),
    ttl: z.object({
      accessToken: ttlSeconds,
      authorizationCode: ttlSeconds,
      idToken: ttlSeconds,
      refreshToken: ttlSeconds,
      session: ttlSeconds,
      interaction: ttlSeconds,
      grant: ttlSeconds,
      pushedAuthorizationRequest: ttlSeconds,
    }),
    cleanupIntervalSeconds: z.number().int().min(0),
  }),
  demo: z.object({
    enabled: z.boolean(),
    port: z.number().int().min(0).max(65535),
    url: z.url(),
  }),
});

export type Settings = z.infer<typeof settingsSchema>;

/** Server-side secrets: never in config/*.json, never logged. */
export interface Secrets {
  /** Keys for signing cookies (oidc-provider and our own); the first signs, all verify. */
  cookieKeys: string[];
  /** HMAC-SHA256 key for card-number lookup. */
  cardHmacKey: Buffer;
  /** argon2 secret (pepper) mixed into every password hash. */
  passwordPepper: Buffer;
  /** Bearer credential for the operator API (/admin/api). */
  operatorToken: string;
  /** True when these were generated for development rather than supplied. */
  generated: boolean;
}

export type Config = Readonly<Settings & { env: string; secrets: Readonly<Secrets> }>;
