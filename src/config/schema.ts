import { z } from 'zod';

/** ISO 4217 codes of current currencies as this Node's ICU knows them (Node 22 ships full ICU); not XXX nor XTS. */
const KNOWN_CURRENCIES: ReadonlySet<string> = new Set(Intl.supportedValuesOf('currency'));

const ttlSeconds = z.number().int().positive();

function validTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/** An http(s) URL (z.url() alone takes `localhost:3000`, a URL of scheme "localhost"). */
const webUrl = z.url({ protocol: /^https?$/, error: 'an http:// or https:// URL, such as http://localhost:3000' });

/** The shape of config/*.json after merging; secrets are resolved separately (see secrets.ts). */
/** A sender of signed posts to member sites from an outbox table (oidc/site-outbox-sender.ts). */
const siteOutboxSender = z.object({
  /** How often the queue is drained (seconds); 0 turns the periodic sender off. */
  senderIntervalSeconds: z.number().int().min(0),
  /** Posts one periodic drain makes at most. */
  batchSize: z.number().int().min(1).max(10000),
  /** Attempts (30 s, 60 s, 120 s… apart) before a post is marked failed. */
  maxAttempts: z.number().int().min(1).max(20),
  /** How long a site has to answer one post (milliseconds). */
  timeoutMs: z.number().int().min(100).max(30000),
});

export const settingsSchema = z.object({
  port: z.number().int().min(0).max(65535),
  // oidc-provider and every hosted page are mounted at the root: an issuer with a path would name addresses nothing serves.
  issuer: webUrl.refine(
    (v) => {
      const u = URL.parse(v);
      // Not a URL at all: webUrl's own message says so.
      if (!u) return true;
      return u.pathname === '/' && !u.search && !u.hash && !u.username && !u.password && !v.includes('?') && !v.includes('#');
    },
    'an origin alone, such as https://cards.example.com, without a path, query, fragment or user (the card manager serves from the root of its host)',
  ),
  dataDir: z.string().min(1),
  databaseUrl: z.string().min(1).nullable(),
  /**
   * Production without databaseUrl would run on the embedded PGlite under dataDir: one process, which other instances
   * cannot share. Refused unless this says the operator means it (a single-instance trial, say).
   */
  allowEmbeddedDatabase: z.boolean(),
  /** Connections per instance to PostgreSQL: each request in flight holds one for its transaction. */
  databasePoolMax: z.number().int().min(2).max(1000),
  /** On SIGTERM, how long requests in flight may take to finish before their connections are cut. */
  shutdownGraceSeconds: z.number().int().min(0).max(3600),
  /** PostgreSQL ends a transaction idle this long, freeing its locks (idle_in_transaction_session_timeout); 0: never. */
  databaseIdleInTransactionSeconds: z.number().int().min(0).max(86400),
  /**
   * Where the directory's listening connection goes (LISTEN needs a session of its own): null, the
   * databaseUrl. Behind a transaction-mode pooler, point it at PostgreSQL itself.
   */
  databaseListenUrl: z.string().min(1).nullable(),
  /** Keep member sites and resource servers in memory between requests (db/directory.ts); false: read them every time. */
  keepMemberSites: z.boolean(),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
  bodyLimitBytes: z.number().int().min(1024).max(1048576),
  trustProxy: z.boolean(),
  /**
   * With trustProxy: how many proxies in front append to X-Forwarded-For. The client's address is the entry that
   * many places from the right; anything further left was written by the client and is never believed.
   */
  proxyHops: z.number().int().min(1).max(10),
  /**
   * Every amount is priced in it, so it must be a currency the runtime knows (ICU's ISO 4217 list): three capitals
   * alone let a typo (KWR) or a code for no currency (XXX, XTS) through, and every card would be issued in it.
   */
  currency: z
    .string()
    .regex(/^[A-Z]{3}$/, 'an ISO 4217 code such as KRW')
    .superRefine((code, ctx) => {
      if (!/^[A-Z]{3}$/.test(code) || KNOWN_CURRENCIES.has(code)) return;
      ctx.addIssue({ code: 'custom', message: `${code} is not an ISO 4217 currency code (such as KRW, USD or EUR)` });
    }),
  cards: z.object({
    issuerPrefix: z.string().regex(/^[1-9][0-9]{5,7}$/, 'six to eight digits, not starting with 0'),
    /** Youngest age at which a person may hold a card (with a guardian until adultAge). */
    minimumAge: z.number().int().min(0).max(120),
    /** Age from which no guardian is needed and adult content is allowed. */
    adultAge: z.number().int().min(1).max(120),
    /** Credit limits in minor units of `currency`, assigned at issuance. */
    creditLimit: z.object({ adult: z.number().int().min(0), minor: z.number().int().min(0) }),
    /** An email or mobile already on an open card: refuse the application, or send it to the review queue. */
    duplicates: z.enum(['refuse', 'review']),
    /** Glob patterns (`*`, `?`; names and emails case-insensitive) for names, emails and E.164 mobiles that may not apply online. */
    denyList: z.object({
      action: z.enum(['refuse', 'review']),
      names: z.array(z.string().min(1).max(200)),
      emails: z.array(z.string().min(1).max(254)),
      mobiles: z.array(z.string().min(1).max(32)),
    }),
    /** Applications in any 24 hours, counted in the database so every instance agrees. */
    applicationLimits: z.object({ perIpPerDay: z.number().int().min(1), perEmailPerDay: z.number().int().min(1) }),
    /** Children's cards (open: pending, active, suspended, lost and not replaced) one guardian's card may vouch for. */
    maxWardsPerGuardian: z.number().int().min(1).max(100),
    /** Country calling code for mobile numbers typed in national form (010-… → +82 10-…). */
    mobileCallingCode: z.string().regex(/^[1-9][0-9]{0,2}$/, 'one to three digits, not starting with 0'),
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
    /**
     * Let the provider fetch URLs member sites name (jwks_uri, a registrant's sector_identifier_uri) at loopback,
     * private, link-local and other non-public addresses. Off, such a fetch is refused after DNS (oidc/provider-fetch.ts):
     * a site controls where its names point, so it could aim the card manager at the network behind it.
     */
    allowPrivateFetch: z.boolean(),
  }),
  payments: z.object({
    /** A payment asks for the card password even inside an existing session. */
    requirePasswordEachTime: z.boolean(),
    /**
     * A payment (authorization_details of type payment) only through PAR (RFC 9126), for every site: anyone can write
     * a front-channel URL with a site's client_id and redirect_uri and any amount, while only the site itself,
     * authenticated, can push one. Plain logins stay allowed without PAR (a site can require PAR for itself).
     */
    requirePar: z.boolean(),
    /** Lifetime of access tokens that carry a payment approval (seconds). */
    tokenTtl: z.number().int().positive(),
    /** Uncaptured holds expire and release the credit after this many seconds. */
    holdSeconds: z.number().int().positive(),
    /** How often each instance releases expired holds (seconds); 0 turns the sweep off. */
    expireIntervalSeconds: z.number().int().min(0),
    /** A holder may report (dispute) a payment up to this many days after its approval. */
    disputeDays: z.number().int().min(1).max(3650),
  }),
  billing: z.object({
    /** IANA time zone of statement dates, due dates and settlement months. */
    timeZone: z.string().refine(validTimeZone, 'an IANA time zone such as Asia/Seoul or UTC'),
    /** A statement is due this many days after its statement date. */
    dueDays: z.number().int().min(1).max(60),
    /** How often each instance tries a billing run (seconds; one instance at a time runs it); 0 turns it off. */
    runIntervalSeconds: z.number().int().min(0),
    /** How often each instance reads the whole ledger back to check it adds up (ledger/check-ledger.ts; seconds); 0 turns it off. */
    checkIntervalSeconds: z.number().int().min(0),
    /** Accounts per billing-run transaction. */
    batchSize: z.number().int().min(1).max(10000),
    /**
     * A period is closed only this long after it ended, so a transaction that started before midnight
     * and commits just after is never left off both statements.
     */
    settleSeconds: z.number().int().min(0).max(86400),
    /** Largest repayment CSV accepted through the operator API. */
    importMaxBytes: z.number().int().min(1024).max(100 * 1024 * 1024),
  }),
  delinquency: z.object({
    /** Days after the due date before an unpaid statement stops new charges. */
    graceDays: z.number().int().min(0).max(90),
    /** A minor's card cannot approve while the linked guardian's account is overdue (the guardian pays). */
    guardianResponsible: z.boolean(),
    /** Also stop plain logins (free content) while overdue; off: only new charges stop. */
    blockLogins: z.boolean(),
  }),
  settlement: z.object({
    /** The card manager's fee on each member site's monthly net (captured − refunds), in basis points (250 = 2.5%). */
    feeBasisPoints: z.number().int().min(0).max(10000),
  }),
  /** Per-card lockout after wrong passwords or second-factor codes (counted in PostgreSQL, so instances agree). */
  lockout: z.object({
    /** Failures in a row that lock the card. */
    maxFailures: z.number().int().min(1).max(100),
    /** Failures are forgotten after this long without an attempt (seconds). */
    windowSeconds: z.number().int().min(1),
    /** First lock's length (seconds); each repeated lockout doubles it, up to maxCoolDownSeconds. */
    coolDownSeconds: z.number().int().min(1),
    maxCoolDownSeconds: z.number().int().min(1),
    /** Earlier lockouts stop lengthening the next one after this long without a lockout (seconds). */
    strikeMemorySeconds: z.number().int().min(1),
  }),
  /** Per-source (IP address, device cookie) throttle on the login, sign-in and approval forms: progressive delay. */
  sourceThrottle: z.object({
    /** Failures one source may make before each further attempt must wait. */
    freeFailures: z.number().int().min(1),
    /** The count is forgotten after this long without an attempt (seconds). */
    windowSeconds: z.number().int().min(1),
    /** The wait after the first failure beyond freeFailures (seconds); it doubles with each further one. */
    baseDelaySeconds: z.number().int().min(1),
    maxDelaySeconds: z.number().int().min(1),
  }),
  /** Velocity limits per card, checked inside the approval transaction. */
  velocity: z.object({
    approvalsPerHour: z.number().int().min(1),
    approvalsPerDay: z.number().int().min(1),
    /** Minor units of `currency` approved in any 24 hours. */
    amountPerDay: z.number().int().min(1),
  }),
  /** Approvals above this amount (minor units) need the holder's TOTP second factor. */
  stepUp: z.object({ above: z.number().int().min(0), issuerLabel: z.string().min(1).max(64) }),
  /** The holder's own signed-in pages (spending controls, second factor). */
  holderSessions: z.object({ ttlSeconds: z.number().int().min(60).max(86400) }),
  /**
   * The holder's copy of their data (/card/data, POST /api/holder/data): downloads per account and hour. Each makes
   * the whole file from the database, so a stolen session (with the password) cannot make it over and over. And the
   * copies of holders' data one operator (API token and console alike, or a CLI login) may give out per hour: a
   * data-subject request is an occasional task, so a stolen operator token cannot pull every holder's data at once.
   */
  holderData: z.object({ downloadsPerHour: z.number().int().min(1).max(100), operatorExportsPerHour: z.number().int().min(1).max(1000) }),
  /**
   * The operator's web console (/admin): a session ends after `idleSeconds` without a request, and `maxSeconds` after
   * its sign-in whatever it did (the operator pastes the token again).
   */
  operatorSessions: z
    .object({ idleSeconds: z.number().int().min(60).max(86400), maxSeconds: z.number().int().min(300).max(604800) })
    .refine((s) => s.idleSeconds <= s.maxSeconds, { message: 'idleSeconds must not be above maxSeconds', path: ['idleSeconds'] }),
  /** Content rating labels → minimum age; a member site and a request name one of these. */
  ratings: z.record(z.string().regex(/^[A-Za-z0-9+]{1,8}$/), z.number().int().min(0).max(120)),
  /** One-time codes for lost cards, reissue and password reset (sent by email / SMS). */
  oneTimeCodes: z
    .object({
      ttlSeconds: z.number().int().min(60).max(3600),
      /** Wrong guesses one code survives. */
      maxAttempts: z.number().int().min(1).max(10),
      /** Codes per card and purpose per hour; with maxAttempts, bounds guesses per hour. */
      maxPerHour: z.number().int().min(1).max(20),
      /**
       * Codes per card and purpose in any 24 hours (and contact changes per account): with maxAttempts, bounds the
       * guesses at a 6-digit code a year (README, Security), which the hourly limit alone does not.
       */
      maxPerDay: z.number().int().min(1).max(50),
      /**
       * Codes per card and purpose in any 24 hours kept for the holder's known devices (a browser that logged in with
       * the card's password at a member site, or signed in with it on /card/signin): asked for from one, a code comes from this share first, so whoever knows
       * only the number cannot stop the holder's codes by spending maxPerDay. 0: no share kept. With maxPerDay, bounds
       * the codes a number gets a day (README, Security).
       */
      knownDeviceMaxPerDay: z.number().int().min(0).max(10),
    })
    .refine((c) => c.maxPerDay >= c.maxPerHour, { message: 'maxPerDay must not be below maxPerHour', path: ['maxPerDay'] }),
  /** Token-signing keys (oidc/key-ring.ts). */
  keys: z.object({
    /** How often each instance reads the keys again; 0: only at start and when a key it knows of starts or stops signing. */
    refreshSeconds: z.number().int().min(0).max(3600),
    /** How long after `keys rotate` its key starts signing: every instance must have read it by then (production: at least twice refreshSeconds). */
    publishAheadSeconds: z.number().int().min(0).max(86400 * 30),
  }),
  /** How long rows that have served their purpose are kept; each instance deletes older ones every intervalSeconds (0: never). */
  retention: z.object({
    intervalSeconds: z.number().int().min(0),
    /** Sent or failed notifications (recipients and message data are personal data). Pending ones are never deleted. */
    outboxDays: z.number().int().min(1).max(3650),
    /** Idempotency keys (member sites' and operators'): a retry with the same key after this long runs again (and meets the approval's state, or applies a repayment again). */
    idempotencyKeyDays: z.number().int().min(1).max(3650),
    /** One-time codes, counted from when they expired (the hourly limit looks back one hour only). */
    oneTimeCodeDays: z.number().int().min(1).max(365),
  }),
  notifications: z.object({
    /** How often the outbox is drained (seconds); 0 turns the periodic sender off. */
    senderIntervalSeconds: z.number().int().min(0),
    /** Messages one periodic drain sends at most. */
    batchSize: z.number().int().min(1).max(10000),
    /** Attempts (with exponential backoff) before a message is marked failed. */
    maxAttempts: z.number().int().min(1).max(20),
    from: z.string().min(3).max(200),
    email: z.object({
      /** file: nodemailer's JSON output under <dataDir>/outbox (development, test). */
      transport: z.enum(['file', 'smtp']),
      smtp: z.object({
        host: z.string().min(1),
        port: z.number().int().min(1).max(65535),
        secure: z.boolean(),
        /** SMTP user; the password comes from SMTP_PASSWORD. */
        user: z.string().min(1).nullable(),
      }),
    }),
    sms: z
      .object({
        /** file: JSON under <dataDir>/outbox; webhook: POST {to, text} to webhookUrl (token from SMS_WEBHOOK_TOKEN). */
        transport: z.enum(['file', 'webhook']),
        webhookUrl: z.url().nullable(),
      })
      .refine((s) => s.transport !== 'webhook' || s.webhookUrl, { message: 'required for the webhook transport', path: ['webhookUrl'] }),
  }),
  /**
   * Back-Channel Logout 1.0: the Logout Tokens posted to member sites for sessions the card manager ends itself (a card
   * blocked, lost, closed, reissued, a password changed or reset), queued in backchannel_logouts and sent from there.
   */
  backchannelLogout: siteOutboxSender,
  /**
   * Approval events pushed to member sites as Security Event Tokens (RFC 8935): a hold revoked or expired, a report
   * opened or decided, queued in approval_events and sent from there.
   */
  approvalEvents: siteOutboxSender,
  /** OAuth 2.0 Dynamic Client Registration (RFC 7591/7592) at /reg, gated by the REGISTRATION_TOKEN initial access token. */
  registration: z.object({ enabled: z.boolean() }),
  demo: z.object({
    enabled: z.boolean(),
    port: z.number().int().min(0).max(65535),
    url: webUrl,
  }),
});

export type Settings = z.infer<typeof settingsSchema>;

/**
 * What an operator token lets its holder do: `full`, everything (the shared OPERATOR_TOKEN, and a person's entry with
 * no role); `viewer`, read only (support staff answering holders, auditors): every state-changing request is refused.
 */
export type OperatorRole = 'full' | 'viewer';

/** One person's operator API credential. */
export interface NamedOperator {
  name: string;
  token: string;
  role: OperatorRole;
}

/** Server-side secrets: never in config/*.json, never logged. */
export interface Secrets {
  /** Keys for signing cookies (oidc-provider and our own); the first signs, all verify. */
  cookieKeys: string[];
  /** HMAC-SHA256 key for card-number lookup. */
  cardHmacKey: Buffer;
  /** argon2 secret (pepper) mixed into every password hash. */
  passwordPepper: Buffer;
  /** Bearer credential for the operator API (/admin/api), shared: audited as `operator`. */
  operatorToken?: string | undefined;
  /** Named bearer credentials for the operator API (OPERATOR_TOKENS), one per person, each with its role: audited as `operator:<name>`. */
  operators: ReadonlyArray<NamedOperator>;
  /** Initial access token for Dynamic Client Registration (REGISTRATION_TOKEN); required when registration is enabled. */
  registrationToken?: string | undefined;
  /** Bearer credential for GET /metrics (METRICS_TOKEN); without it the endpoint is off. */
  metricsToken?: string | undefined;
  /** SMTP password (SMTP_PASSWORD), when the SMTP server wants one. */
  smtpPassword?: string | undefined;
  /** Bearer token for the SMS webhook (SMS_WEBHOOK_TOKEN). */
  smsWebhookToken?: string | undefined;
  /** True when these were generated for development rather than supplied. */
  generated: boolean;
  /**
   * True when OPERATOR_TOKENS kept the generated development operator token (dataDir/secrets.json) out: named tokens
   * say who did what, and a shared one no one chose would let anyone who can read the data directory act unnamed.
   */
  generatedOperatorTokenRefused: boolean;
}

export type Config = Readonly<Settings & { env: string; secrets: Readonly<Secrets> }>;
