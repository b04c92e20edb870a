import Koa from 'koa';
import type Provider from 'oidc-provider';
import type { CardDeps } from './cards/deps.ts';
import { createPasswordHasher } from './cards/password.ts';
import type { Config } from './config/schema.ts';
import { openDb, type Db } from './db/knex.ts';
import { openDirectory, type Directory } from './db/directory.ts';
import { requestScopedDb } from './db/request-scope.ts';
import { requestTransaction, settleBeforeResponse } from './http/request-transaction.ts';
import { requireHttps } from './http/require-https.ts';
import { pinIssuerOrigin } from './http/pin-issuer-origin.ts';
import { errorHandler } from './http/error-handler.ts';
import { refuseOtherMethods } from './http/refuse-other-methods.ts';
import { formsFrom } from './http/csrf.ts';
import { faviconRoutes } from './http/favicon-routes.ts';
import { healthRoutes } from './http/health-routes.ts';
import { metricsRoutes } from './http/metrics-routes.ts';
import { countRequests, noteProviderRoute } from './http/request-metrics.ts';
import { negotiateRequestLocale } from './http/locale.ts';
import { createRenderer } from './http/render.ts';
import { createBodyParser, createFormBodyParser } from './http/parse-body.ts';
import { requestContext } from './http/request-context.ts';
import { allowProviderScripts, securityHeaders } from './http/security-headers.ts';
import { interactionRoutes } from './interactions/routes.ts';
import { rejectParOverrides } from './oidc/reject-par-overrides.ts';
import { retryAfterWhenBusy } from './http/error-handler.ts';
import type { ApprovalDeps } from './approvals/deps.ts';
import { controlsRoutes } from './holder/controls-routes.ts';
import { accountRoutes } from './holder/account-routes.ts';
import { statementDayRoutes } from './holder/statement-day-routes.ts';
import { closeRoutes } from './holder/close-routes.ts';
import { dataRoutes } from './holder/data-routes.ts';
import { disputeRoutes } from './holder/disputes-routes.ts';
import { adminDeliveryRoutes } from './admin/deliveries-routes.ts';
import { adminDisputeRoutes } from './admin/disputes-routes.ts';
import { contactsRoutes } from './holder/contacts-routes.ts';
import { activityRoutes } from './holder/activity-routes.ts';
import { wardsRoutes } from './holder/wards-routes.ts';
import { secondFactorRoutes } from './holder/second-factor-routes.ts';
import { onToFormPages } from './holder/on-to-form-pages.ts';
import { holderSessions } from './holder/session.ts';
import { NO_COUNTS } from './lib/event-counts.ts';
import { money } from './lib/money.ts';
import { deriveKey } from './lib/sealed.ts';
import type { SecondFactorDeps } from './second-factor/deps.ts';
import type { ThrottleDeps } from './throttles/guard-attempt.ts';
import { policyDeps } from './oidc/interaction-policy.ts';
import { startThrottleCleanup } from './throttles/start-cleanup.ts';
import type { Logger } from './log.ts';
import { startPayloadCleanup } from './oidc/cleanup.ts';
import { ensureSigningKey, keepRetiredSeconds } from './oidc/keys.ts';
import { openKeyRing, type KeyRing } from './oidc/key-ring.ts';
import { verifyCookiesWithoutResigning } from './http/signed-cookies.ts';
import { createProvider } from './oidc/provider.ts';
import { createProviderFetch } from './oidc/provider-fetch.ts';
import { startLogoutSender, type LogoutSenderDeps } from './oidc/send-logout-tokens.ts';
import { startApprovalEventSender, type ApprovalEventSenderDeps } from './oidc/send-approval-events.ts';
import type { Drainer } from './oidc/site-outbox-sender.ts';
import { queuedAnnouncement } from './db/outbox-leases.ts';
import { approvalRoutes } from './approvals/routes.ts';
import { createSiteAuthenticator } from './member-sites/authenticate.ts';
import { adminCardRoutes } from './admin/cards-routes.ts';
import { adminSiteRoutes } from './admin/sites-routes.ts';
import { registryRules } from './member-sites/registry-rules.ts';
import { adminLedgerRoutes } from './admin/ledger-routes.ts';
import { ledgerDeps } from './ledger/deps.ts';
import { memberSiteApiRoutes } from './member-sites/routes.ts';
import { startLedgerJobs } from './ledger/start-jobs.ts';
import { startHousekeeping } from './housekeeping/start-housekeeping.ts';
import { warnOfLogoutElsewhere } from './member-sites/warn-logout-elsewhere.ts';
import { adminApplicationRoutes } from './admin/applications-routes.ts';
import { consoleApplicationRoutes } from './admin/console-applications-routes.ts';
import { consoleDeliveryRoutes } from './admin/console-deliveries-routes.ts';
import { consoleDisputeRoutes } from './admin/console-disputes-routes.ts';
import { consoleCardRoutes } from './admin/console-cards-routes.ts';
import { consoleSiteRoutes } from './admin/console-sites-routes.ts';
import { consoleSettlementRoutes } from './admin/console-settlement-routes.ts';
import { consoleBooksRoutes } from './admin/console-books-routes.ts';
import { consoleSessions } from './admin/console-session.ts';
import { requireOperatorForApi } from './admin/require-operator.ts';
import { applicationPolicy } from './cards/application-policy.ts';
import { applicationRoutes } from './cards/routes.ts';
import { holderApiRoutes } from './holder/api-routes.ts';
import { holderPageRoutes } from './holder/page-routes.ts';
import { createTransports } from './notifications/create-transports.ts';
import type { SenderDeps } from './notifications/sender.ts';
import { startNotificationSender } from './notifications/start-sender.ts';
import { createMetrics } from './metrics/create-metrics.ts';

export interface AppDeps {
  config: Config;
  db: Db;
  log: Logger;
  /**
   * The clock a change of statement day is made by (the date it takes effect from, the dates the holder is shown),
   * and the one ages are counted by (applications, the age gate, age_over_NN claims): the real one by default. Tests
   * set it back, to bill across a change with the real billing run, or to a birthday's first hours.
   */
  now?: () => Date;
}

export interface CardManager {
  app: Koa;
  provider: Provider;
  cards: CardDeps;
  /** The outbox sender's parts: `notifications send` and tests drain with sendDueNotifications(these). */
  notifications: SenderDeps;
  /** The back-channel logout sender's parts: tests drain with sendDueLogouts(these). */
  logouts: LogoutSenderDeps;
  /** The approval event sender's parts: tests drain with sendDueApprovalEvents(these). */
  approvalEvents: ApprovalEventSenderDeps;
  /** Member sites and resource servers kept between requests, forgotten as they change (db/directory.ts). */
  directory: Directory;
  /** The signing keys, read again as they change (oidc/key-ring.ts); tests read them at once with refresh(). */
  keys: KeyRing;
  /** Stops background jobs and the directory's listening connection (not the database: the caller owns it). */
  stop(): Promise<void>;
}

/**
 * Requests that run without the request transaction: read-only member-site API calls (an approval's
 * status, strict-mode checks) gain nothing from one, and the operator's batch jobs (a billing run, hold
 * expiry, a bank-file import) commit batch by batch, as they do when scheduled: one transaction around a
 * whole run would hold its locks on every account it touched until the end.
 */
const BATCH_JOBS = new Set(['/admin/api/ledger/billing-runs', '/admin/api/ledger/holds/expire', '/admin/api/ledger/repayments/import']);
function unscopedRequest(ctx: Koa.Context): boolean {
  return (ctx.method === 'GET' && ctx.path.startsWith('/api/')) || (ctx.method === 'POST' && BATCH_JOBS.has(ctx.path));
}

/** The composition root: the only place every part is wired together. */
export async function buildApp({ config, db: pool, log, now = () => new Date() }: AppDeps): Promise<CardManager> {
  // On PostgreSQL each request runs in one transaction (src/db/request-scope.ts); `db` follows it. The
  // password throttles must count whatever the request's outcome, and their per-source row is shared by
  // every login from one address: they use a small pool of their own, outside the request (a request
  // holds its connection throughout, so waiting on the same pool could starve it). The embedded PGlite
  // has one session for everything: there, no scope and one pool.
  const scoped = config.databaseUrl !== null;
  const db = scoped ? requestScopedDb(pool) : pool;
  const sidePool = scoped ? openDb({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, poolMax: 4, lockTimeoutMs: 5000, idleInTransactionSeconds: config.databaseIdleInTransactionSeconds, log }) : pool;
  // GET /metrics only with METRICS_TOKEN (generated in development); without it nothing is measured at all.
  const metricsToken = config.secrets.metricsToken;
  const metrics = metricsToken ? createMetrics({ pools: scoped ? { main: pool, throttles: sidePool } : { main: pool }, db: pool, log }) : undefined;
  if (!metrics) log.info('metrics are off: set METRICS_TOKEN to serve /metrics');
  if (config.secrets.generatedOperatorTokenRefused) {
    log.info('OPERATOR_TOKENS is set: the operator API does not accept the generated development operator token (dataDir/secrets.json); set OPERATOR_TOKEN to share one');
  }
  await warnOfLogoutElsewhere(pool, log);
  const counts = metrics?.counts ?? NO_COUNTS;
  // Compiled templates are cached except in development, where an edited view shows at once.
  const render = createRenderer({ cache: config.env !== 'development' });
  const argon2 = createPasswordHasher({ ...config.argon2, pepper: config.secrets.passwordPepper });
  const hasher = metrics ? metrics.timeHasher(argon2) : argon2;
  const cards: CardDeps = { db, hasher, cardHmacKey: config.secrets.cardHmacKey, issuerPrefix: config.cards.issuerPrefix, currency: config.currency };

  await ensureSigningKey(db, config.env !== 'production');
  const ttl = config.oidc.ttl;
  // On the side pool: requests in flight may hold every connection of the main one, and a key's start does not wait.
  const keys = await openKeyRing({ db: sidePool, keepRetiredSeconds: keepRetiredSeconds(ttl), refreshSeconds: config.keys.refreshSeconds, log });
  // Posts to member sites are sent as soon as they are queued, by whichever instance claims them first: the sign-out
  // nudges its own instance's logout sender, and every queueing transaction announces itself to every instance on the
  // directory's channel (db/outbox-leases.ts announceQueued). The senders start below (the logout sender needs the provider).
  let logoutSender: Drainer | undefined;
  let approvalEventSender: Drainer | undefined;
  const directory = openDirectory({
    db: pool,
    listen: scoped && config.keepMemberSites,
    listenUrl: config.databaseListenUrl,
    log,
    onHeard: (key) => {
      if (key === 'keys' || key === '*') void keys.refresh();
      if (key === queuedAnnouncement('backchannel_logouts') || key === '*') logoutSender?.nudge();
      if (key === queuedAnnouncement('approval_events') || key === '*') approvalEventSender?.nudge();
    },
  });
  const provider = createProvider({ config, db, directory, render, jwks: keys.jwks, log, counts, logoutQueued: () => logoutSender?.nudge(), now });
  keys.start(provider);
  // The name of the provider's route, for the request metrics (it never sees our context).
  if (metrics) provider.use(noteProviderRoute);
  // Inside the provider too: a path it has no route for gets our 404 page, not Koa's bare "Not Found". Outermost,
  // so that a commit that fails (work left for it finding no connection: 503) is answered as well.
  provider.use(errorHandler(render));
  // The request's transaction commits before the provider writes its response.
  provider.use(settleBeforeResponse);
  provider.use(allowProviderScripts);
  provider.use(rejectParOverrides);
  provider.use(retryAfterWhenBusy);

  const app = new Koa({ proxy: config.trustProxy, maxIpsCount: config.proxyHops, keys: [...config.secrets.cookieKeys] });
  // After a COOKIE_KEYS rotation a cookie is signed again only by its owner, with its options (http/signed-cookies.ts).
  verifyCookiesWithoutResigning(app);
  verifyCookiesWithoutResigning(provider);
  const parseBody = createBodyParser(config.bodyLimitBytes);
  // The console's forms come from a browser: form bodies only (415 for JSON or any other).
  const parseFormBody = createFormBodyParser(config.bodyLimitBytes);

  const health = healthRoutes(pool);
  const ledger = ledgerDeps(config, db);
  // Defences against surreptitious use: source throttle and card lockout, TOTP step-up, velocity limits.
  const throttle: ThrottleDeps = { db: sidePool, limits: { card: config.lockout, source: config.sourceThrottle }, cardHmacKey: config.secrets.cardHmacKey, counts, timeZone: config.billing.timeZone };
  const secondFactor: SecondFactorDeps = { db, sealKey: deriveKey(config.secrets.cardHmacKey, 'totp-secret-seal-v1'), issuerLabel: config.stepUp.issuerLabel };
  const approvals: ApprovalDeps = {
    db,
    policy: {
      currency: config.currency,
      holdSeconds: config.payments.holdSeconds,
      delinquency: ledger.delinquency,
      velocity: config.velocity,
      stepUpAbove: config.stepUp.above,
      timeZone: config.billing.timeZone,
    },
    secondFactor,
    directory,
  };
  const { router: interactions, showAtOnce } = interactionRoutes({
    provider,
    parseBody,
    cards,
    render,
    approvals,
    throttle,
    ratings: config.ratings,
    entry: policyDeps(config, db, { now }),
    counts,
    timeZone: config.billing.timeZone,
  });
  // The authorization endpoint answers with the interaction's first page, not a redirect to it.
  provider.use(showAtOnce);
  const sessions = holderSessions({ parseBody, cards, throttle, render, ttlSeconds: config.holderSessions.ttlSeconds });
  const holderControls = controlsRoutes({ db, parseBody, requireHolder: sessions.requireHolder, render, cards, throttle });
  const holderAccountPages = accountRoutes({
    db,
    requireHolderOrFormer: sessions.requireHolderOrFormer,
    render,
    delinquency: ledger.delinquency,
    now,
    disputeDays: config.payments.disputeDays,
  });
  const holderStatementDay = statementDayRoutes({
    db,
    parseBody,
    requireHolder: sessions.requireHolder,
    render,
    billing: ledger.billing,
    delinquency: ledger.delinquency,
    now,
  });
  const disputes = { db, windowDays: config.payments.disputeDays };
  const holderDisputes = disputeRoutes({ parseBody, requireHolderOrFormer: sessions.requireHolderOrFormer, render, disputes, timeZone: config.billing.timeZone });
  const holderActivity = activityRoutes({ db, requireHolderOrFormer: sessions.requireHolderOrFormer, render, timeZone: config.billing.timeZone });
  const holderWards = wardsRoutes({
    parseBody,
    requireHolder: sessions.requireHolder,
    render,
    cards,
    throttle,
    timeZone: config.billing.timeZone,
    delinquency: ledger.delinquency,
    minorCap: config.cards.creditLimit.minor,
    disputeDays: config.payments.disputeDays,
  });
  const holderClose = closeRoutes({ parseBody, requireHolder: sessions.requireHolder, render, cards, throttle, delinquency: ledger.delinquency });
  const holderData = dataRoutes({
    parseBody,
    requireHolderOrFormer: sessions.requireHolderOrFormer,
    render,
    cards,
    throttle,
    timeZone: config.billing.timeZone,
    downloadsPerHour: config.holderData.downloadsPerHour,
  });
  const holderSecondFactor = secondFactorRoutes({
    parseBody,
    requireHolder: sessions.requireHolder,
    render,
    secondFactor,
    throttle,
    stepUpAbove: money(config.stepUp.above, config.currency),
  });
  const holderContacts = contactsRoutes({
    parseBody,
    requireHolderOrFormer: sessions.requireHolderOrFormer,
    render,
    contacts: { ...cards, codes: config.oneTimeCodes, mobileCallingCode: config.cards.mobileCallingCode },
    throttle,
  });
  const authenticateSite = createSiteAuthenticator({ db, issuer: config.issuer, verifyKeys: keys.verifyKeys });
  const approvalApi = approvalRoutes({ db, authenticateSite, parseBody, cursorKey: deriveKey(config.secrets.cardHmacKey, 'approvals-page-cursor-v1') });
  const siteApi = memberSiteApiRoutes({ ledger, authenticateSite });
  const holderCards = { ...cards, codes: config.oneTimeCodes };
  const holderPages = holderPageRoutes({ parseBody, cards: holderCards, render, throttle });
  const holderApi = holderApiRoutes({ parseBody, cards: holderCards, throttle });
  // An operator's copies of holders' data are counted on the throttles' pool, as a holder's own downloads are.
  const exportsPerHour = { db: throttle.db, max: config.holderData.operatorExportsPerHour };
  const adminCards = adminCardRoutes({
    parseBody,
    cards,
    operatorAuth: config.secrets,
    mobileCallingCode: config.cards.mobileCallingCode,
    timeZone: config.billing.timeZone,
    exportsPerHour,
  });
  const adminLedger = adminLedgerRoutes({ parseBody, ledger, operatorAuth: config.secrets, importMaxBytes: config.billing.importMaxBytes, now, unscopedDb: pool });
  const cardPolicy = applicationPolicy(config.cards);
  const applying = applicationRoutes({ parseBody, render, throttle, applications: { cards, policy: cardPolicy, timeZone: config.billing.timeZone, delinquency: ledger.delinquency, now } });
  const reviewQueue = adminApplicationRoutes({ parseBody, db, operatorAuth: config.secrets, duplicates: cardPolicy.duplicates, maxWardsPerGuardian: cardPolicy.maxWardsPerGuardian, denyList: cardPolicy.denyList, denyListAction: cardPolicy.denyListAction, delinquency: ledger.delinquency });
  // The operator console (/admin): pages over the same domain functions as the API, as the operator signed in.
  const operatorConsole = consoleSessions({
    parseBody: parseFormBody,
    db,
    sessionDb: sidePool,
    throttle,
    render,
    credentials: config.secrets,
    idleSeconds: config.operatorSessions.idleSeconds,
    maxSeconds: config.operatorSessions.maxSeconds,
  });
  const requireConsoleOperator = operatorConsole.requireConsoleOperator;
  const consoleQueue = consoleApplicationRoutes({ parseBody: parseFormBody, requireConsoleOperator, db, render, duplicates: cardPolicy.duplicates, maxWardsPerGuardian: cardPolicy.maxWardsPerGuardian, denyList: cardPolicy.denyList, denyListAction: cardPolicy.denyListAction, delinquency: ledger.delinquency });
  const consoleDisputes = consoleDisputeRoutes({ parseBody: parseFormBody, requireConsoleOperator, disputes, render });
  const consoleCards = consoleCardRoutes({ parseBody: parseFormBody, requireConsoleOperator, cards, ledger, render, exportsPerHour });
  const consoleSites = consoleSiteRoutes({ parseBody: parseFormBody, requireConsoleOperator, db, render, directory, currency: config.currency, rules: registryRules(config) });
  const consoleDeliveries = consoleDeliveryRoutes({ parseBody: parseFormBody, requireConsoleOperator, db, render });
  const consoleSettlement = consoleSettlementRoutes({ parseBody: parseFormBody, requireConsoleOperator, ledger, render });
  // The unscoped pool, as the API's check: see adminLedgerRoutes's unscopedDb.
  const consoleBooks = consoleBooksRoutes({ parseBody: parseFormBody, requireConsoleOperator, render, unscopedDb: pool });

  if (metrics) app.use(countRequests(metrics.requests));
  app.use(requestContext(log));
  app.use(securityHeaders({ https: config.issuer.startsWith('https:') }));
  app.use(negotiateRequestLocale);
  app.use(formsFrom(config.issuer));
  app.use(errorHandler(render));
  app.use(requireHttps(config.issuer));
  app.use(pinIssuerOrigin(config.issuer));
  app.use(health.routes());
  app.use(faviconRoutes().routes());
  if (metrics && metricsToken) app.use(metricsRoutes({ exposition: metrics.registry, token: metricsToken }).routes());
  if (scoped) app.use(requestTransaction(unscopedRequest));
  app.use(interactions.routes());
  app.use(approvalApi.routes());
  app.use(siteApi.routes());
  // The member-site API's addresses asked with another method: 405 with Allow, not the provider's 404.
  app.use(refuseOtherMethods([approvalApi, siteApi]));
  const holderRouters = [
    holderPages,
    holderApi,
    sessions.router,
    holderControls,
    holderAccountPages,
    holderStatementDay,
    holderDisputes,
    holderActivity,
    holderWards,
    holderClose,
    holderData,
    holderSecondFactor,
    holderContacts,
  ];
  for (const router of holderRouters) app.use(router.routes());
  // A GET of a /card/... form address that only takes posts: on to its form's page, whichever router it is in.
  app.use(onToFormPages(holderRouters));
  // The operator API: 401 for every request under /admin/api without a valid token, whatever its address and method,
  // then the routers; an address asked with another method (token valid) is 405 with Allow, not the provider's 404.
  app.use(requireOperatorForApi(config.secrets));
  const operatorApi = [
    adminCards,
    adminSiteRoutes({ parseBody, db, rules: registryRules(config), operatorAuth: config.secrets, directory }),
    adminLedger,
    adminDisputeRoutes({ parseBody, disputes, operatorAuth: config.secrets }),
    adminDeliveryRoutes({ parseBody, db, operatorAuth: config.secrets }),
    reviewQueue,
  ];
  for (const router of operatorApi) app.use(router.routes());
  app.use(refuseOtherMethods(operatorApi));
  app.use(applying.routes());
  app.use(operatorConsole.router.routes());
  app.use(consoleQueue.routes());
  app.use(consoleDisputes.routes());
  app.use(consoleCards.routes());
  app.use(consoleSites.routes());
  app.use(consoleDeliveries.routes());
  app.use(consoleSettlement.routes());
  app.use(consoleBooks.routes());
  app.use(interactions.allowedMethods());

  const providerCallback = provider.callback();
  app.use(function oidcProvider(ctx) {
    // oidc-provider answers everything else (discovery, /auth, /token, …) on the raw request.
    ctx.respond = false;
    return providerCallback(ctx.req, ctx.res);
  });

  const stopCleanup = startPayloadCleanup(db, log, config.oidc.cleanupIntervalSeconds);
  const stopThrottleCleanup = startThrottleCleanup(db, log, throttle.limits, config.oidc.cleanupIntervalSeconds, config.operatorSessions.maxSeconds);
  const stopHousekeeping = startHousekeeping(pool, log, { ...config.retention, adultAge: config.cards.adultAge, timeZone: config.billing.timeZone });
  const n = config.notifications;
  const notifications: SenderDeps = { db, log, transports: createTransports(config), baseUrl: config.issuer, maxAttempts: n.maxAttempts, counts };
  const stopSender = startNotificationSender(notifications, log, n.senderIntervalSeconds, n.batchSize);
  const b = config.backchannelLogout;
  const fetchAtSites = createProviderFetch({ allowPrivate: config.oidc.allowPrivateFetch, log });
  const logouts: LogoutSenderDeps = { db, provider, fetch: fetchAtSites, log, maxAttempts: b.maxAttempts, timeoutMs: b.timeoutMs, counts };
  logoutSender = startLogoutSender(logouts, b.senderIntervalSeconds, b.batchSize);
  const e = config.approvalEvents;
  const approvalEvents: ApprovalEventSenderDeps = { db, keys, issuer: config.issuer, fetch: fetchAtSites, log, maxAttempts: e.maxAttempts, timeoutMs: e.timeoutMs, counts };
  approvalEventSender = startApprovalEventSender(approvalEvents, e.senderIntervalSeconds, e.batchSize);
  const stopLedgerJobs = startLedgerJobs(ledger, log, { expireSeconds: config.payments.expireIntervalSeconds, billingSeconds: config.billing.runIntervalSeconds, checkSeconds: config.billing.checkIntervalSeconds });
  return {
    app,
    provider,
    cards,
    notifications,
    logouts,
    approvalEvents,
    directory,
    keys,
    async stop() {
      keys.stop();
      stopCleanup();
      stopThrottleCleanup();
      stopHousekeeping();
      stopSender();
      logoutSender.stop();
      approvalEventSender.stop();
      stopLedgerJobs();
      await Promise.all([directory.stop(), sidePool !== pool ? sidePool.destroy() : undefined]);
    },
  };
}
