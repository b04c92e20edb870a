import Provider, { type Configuration, type KoaContextWithOIDC } from 'oidc-provider';
import { explainJwtAtUserinfo } from './explain-jwt-at-userinfo.ts';
import { explainSuspendedSite } from './explain-suspended-site.ts';
import { explainRequiredPar } from './explain-required-par.ts';
import type { Config } from '../config/schema.ts';
import type { Db } from '../db/knex.ts';
import type { Directory } from '../db/directory.ts';
import type { Renderer } from '../http/render.ts';
import type { Logger } from '../log.ts';
import type { MemberSiteDeps } from '../member-sites/client-metadata.ts';
import { createAdapterClass } from './adapter.ts';
import { compareHashedClientSecrets, PREVIOUS_SECRET_EXPIRES_AT, PREVIOUS_SECRET_HASH } from './client-secret.ts';
import { createFindAccount } from './find-account.ts';
import { SIGNING_ALG } from './keys.ts';
import { createPairwiseIdentifier } from './pairwise.ts';
import { createRenderError } from './render-error.ts';
import { createGetResourceServerInfo } from './resource-servers.ts';
import { createRefuseUnusableResource, defaultResource } from './refresh-resource.ts';
import { checkCodeResourceFirst } from './code-resource.ts';
import { introspectionAllowed, revocationAllowed } from './token-policies.ts';
import { createIntrospectAsNow } from './withdrawn-scopes.ts';
import { ageClaimNames, createAssertClaimsParameter } from './age-claims-request.ts';
import { createExtraTokenClaims } from './extra-token-claims.ts';
import { SCOPE_CLAIMS } from './scope-claims.ts';
import { createInteractionPolicy, policyDeps } from './interaction-policy.ts';
import { createPaymentValidator } from './payment-details.ts';
import { createProviderFetch } from './provider-fetch.ts';
import { logProviderRefusals } from './log-refusals.ts';
import { queueLogoutsAtSignOut } from './queue-logouts-at-sign-out.ts';
import { loadExistingGrant } from './load-existing-grant.ts';
import { createTokenTtls } from './token-lifetimes.ts';
import { answerWithKeptMetadata, hideStoredSecrets } from './registration-store.ts';
import { compareUpdatedClientSecret } from './updated-client-secret.ts';
import { registryRules } from '../member-sites/registry-rules.ts';
import { randomToken } from '../lib/ids.ts';
import { preferUiLocales } from '../http/locale.ts';
import { LOCALES } from '../lib/i18n.ts';
import type { EventCounts } from '../lib/event-counts.ts';

export interface ProviderDeps {
  config: Config;
  db: Db;
  /** Member sites and resource servers kept between requests (db/directory.ts). */
  directory: Directory;
  render: Renderer;
  jwks: { keys: Record<string, unknown>[] };
  log: Logger;
  /** Where payments the interaction policy refuses are counted (metrics). */
  counts?: EventCounts;
  /** Called once a sign-out that queued Logout Tokens has committed: the logout sender's nudge. */
  logoutQueued?: () => void;
  /** The clock ages are counted by (the age gate, age_over_NN): the app's; tests may fix it. */
  now?: () => Date;
}

/** The largest jwks_uri or sector_identifier_uri document the provider reads. */
export const FETCHED_BODY_LIMIT = 64 * 1024;

export const MEMBER_SITE_DEFAULTS: MemberSiteDeps = { idTokenAlg: SIGNING_ALG };

/** How member sites authenticate at /token, /request, introspection and revocation alike. */
const CLIENT_AUTH_METHODS = ['client_secret_basic', 'client_secret_post', 'private_key_jwt'] as const;
/** The algorithms of a private_key_jwt assertion. */
const CLIENT_AUTH_SIGNING_ALGS = ['ES256', 'ES384', 'PS256', 'RS256', 'EdDSA'] as const;

/** Composes oidc-provider from our parts; every callback lives in its own file. */
export function createProvider({ config, db, directory, render, jwks, log, counts, logoutQueued, now }: ProviderDeps): Provider {
  const ttl = config.oidc.ttl;
  const secure = new URL(config.issuer).protocol === 'https:';

  const getResourceServerInfo = createGetResourceServerInfo(db, directory, ttl.accessToken, config.issuer);
  const refuseUnusableResource = createRefuseUnusableResource(getResourceServerInfo);
  const entry = policyDeps(config, db, { now });
  const configuration: Configuration = {
    adapter: createAdapterClass(db, MEMBER_SITE_DEFAULTS, directory, config.registration.enabled ? registryRules(config) : undefined),
    clients: [],
    findAccount: createFindAccount(db, entry, refuseUnusableResource),
    jwks: jwks as Configuration['jwks'],
    cookies: {
      keys: [...config.secrets.cookieKeys],
      long: { signed: true, httpOnly: true, sameSite: 'lax', secure },
      short: { signed: true, httpOnly: true, sameSite: 'lax', secure },
    },
    responseTypes: ['code'],
    pkce: { required: () => true },
    clientAuthMethods: [...CLIENT_AUTH_METHODS],
    subjectTypes: ['pairwise'],
    pairwiseIdentifier: createPairwiseIdentifier(config.secrets.cardHmacKey),
    scopes: ['openid', 'offline_access', 'profile', 'birthdate'],
    // age_over_NN stand alone, in no scope: only a claims request names one (features.claimsParameter), and that raises
    // the request's age gate to NN (interaction-policy.ts). The birthdate itself only with the birthdate scope, which
    // a site has only when the operator grants it (scope-claims.ts) and the holder agreed to on the consent page.
    claims: { ...SCOPE_CLAIMS, ...Object.fromEntries(ageClaimNames(config.ratings).map((name) => [name, null])) } as Configuration['claims'],
    clientDefaults: {
      grant_types: ['authorization_code', 'refresh_token', 'client_credentials'],
      response_types: ['code'],
      id_token_signed_response_alg: SIGNING_ALG,
      subject_type: 'pairwise',
      token_endpoint_auth_method: 'client_secret_basic',
    },
    extraClientMetadata: {
      properties: [
        'urn:cybercard:content_rating',
        'urn:cybercard:status',
        'urn:cybercard:resource_servers',
        'urn:cybercard:max_amount',
        'urn:cybercard:allowed_claims',
        // Per-site lifetimes (token-lifetimes.ts) and a rotated secret's overlap (client-secret.ts):
        // the provider keeps only listed properties, so without these they would never reach it.
        'urn:cybercard:access_token_ttl',
        'urn:cybercard:id_token_ttl',
        'urn:cybercard:refresh_token_ttl',
        PREVIOUS_SECRET_HASH,
        PREVIOUS_SECRET_EXPIRES_AT,
        // Where the site takes approval events (RFC 8935), registered and read back through RFC 7591/7592 too.
        'approval_events_uri',
      ],
    },
    extraTokenClaims: createExtraTokenClaims(db, { ...config.delinquency, timeZone: config.billing.timeZone }, entry) as Configuration['extraTokenClaims'],
    loadExistingGrant,
    enabledJWA: {
      idTokenSigningAlgValues: [SIGNING_ALG],
      userinfoSigningAlgValues: [SIGNING_ALG],
      introspectionSigningAlgValues: [SIGNING_ALG],
      authorizationSigningAlgValues: [SIGNING_ALG],
      requestObjectSigningAlgValues: ['ES256', 'ES384', 'PS256', 'RS256', 'EdDSA'],
      clientAuthSigningAlgValues: [...CLIENT_AUTH_SIGNING_ALGS],
    },
    // What oidc-provider leaves out of discovery: the languages of the hosted pages (OIDC Discovery §3), and how
    // introspection and revocation authenticate (RFC 8414 §2: without them a client must assume
    // client_secret_basic alone, though they take every method /token takes).
    discovery: {
      ui_locales_supported: [...LOCALES],
      introspection_endpoint_auth_methods_supported: [...CLIENT_AUTH_METHODS],
      introspection_endpoint_auth_signing_alg_values_supported: [...CLIENT_AUTH_SIGNING_ALGS],
      revocation_endpoint_auth_methods_supported: [...CLIENT_AUTH_METHODS],
      revocation_endpoint_auth_signing_alg_values_supported: [...CLIENT_AUTH_SIGNING_ALGS],
    },
    // The feature types are a union keyed on which features are on together; checked at runtime by the provider.
    features: {
      devInteractions: { enabled: config.oidc.devInteractions },
      // RFC 7591/7592, off unless the operator enables it; sites register through the member-site domain (adapter.ts).
      registration: {
        enabled: config.registration.enabled,
        initialAccessToken: config.registration.enabled ? config.secrets.registrationToken : false,
        issueRegistrationAccessToken: true,
        idFactory: () => `site_${randomToken(12)}`,
      },
      registrationManagement: { enabled: config.registration.enabled, rotateRegistrationAccessToken: true },
      introspection: { enabled: true, allowedPolicy: introspectionAllowed },
      revocation: { enabled: true, allowedPolicy: revocationAllowed },
      userinfo: { enabled: true },
      // OIDC Core §5.5: a site gates a free section by asking for age_over_NN (an unknown NN is refused).
      claimsParameter: { enabled: true, assertClaimsParameter: createAssertClaimsParameter(config.ratings) },
      clientCredentials: { enabled: true },
      // Bearer tokens only (on by default in oidc-provider): the resource-server kit and the approvals API check no
      // DPoP proof, so a DPoP-bound token (cnf.jkt) would have its binding dropped unchecked wherever it is presented.
      dPoP: { enabled: false },
      pushedAuthorizationRequests: { enabled: true, requirePushedAuthorizationRequests: false },
      rpInitiatedLogout: {
        enabled: true,
        async logoutSource(ctx: KoaContextWithOIDC, form: string) {
          preferUiLocales(ctx, ctx.oidc.params?.ui_locales);
          ctx.type = 'html';
          ctx.body = await render('interaction/logout', {
            title: 'Sign out',
            form,
            siteName: ctx.oidc.client?.clientName ?? null,
          });
        },
        async postLogoutSuccessSource(ctx: KoaContextWithOIDC) {
          preferUiLocales(ctx, ctx.oidc.params?.ui_locales);
          const siteName = ctx.oidc.client?.clientName ?? null;
          // "No, stay signed in" asked by no site ends here as "Yes" does: only the session, still signed in, tells
          // them apart (with a site, "No" signs out of that site and names it).
          const stayed = !siteName && Boolean((await ctx.oidc.provider.Session.get(ctx)).accountId);
          ctx.type = 'html';
          ctx.body = await render('interaction/logged-out', { title: stayed ? 'Still signed in' : 'Signed out', siteName, stayed });
        },
      },
      // Back-Channel Logout 1.0: a site that registered backchannel_logout_uri is posted a Logout Token from the outbox
      // (oidc/send-logout-tokens.ts), whether the holder signed out here (RP-initiated logout, queued by
      // oidc/queue-logouts-at-sign-out.ts) or the card manager ended the sessions itself.
      backchannelLogout: { enabled: true },
      richAuthorizationRequests: {
        enabled: true,
        types: {
          payment: { validate: createPaymentValidator({ currency: config.currency, ratings: config.ratings, requirePar: config.payments.requirePar }) },
        },
        // Each payment gets a grant of its own (see load-existing-grant.ts), so its rar is exactly this approval.
        authorizationDetailsForGrantSource: (ctx: KoaContextWithOIDC) => ctx.oidc.grant?.rar ?? [],
        authorizationDetailsForAccessToken: (_ctx: KoaContextWithOIDC, _token: unknown, source?: { rar?: unknown[] }) =>
          source?.rar ?? [],
        authorizationDetailsForIntrospection: (_ctx: KoaContextWithOIDC, token: { rar?: unknown[] }) => token.rar ?? [],
      },
      resourceIndicators: {
        enabled: true,
        defaultResource,
        useGrantedResource: () => true,
        getResourceServerInfo,
      },
    } as unknown as Configuration['features'],
    // Every refresh rotates: a stolen refresh token is usable once at most, and reuse revokes the grant.
    rotateRefreshToken: true,
    // A payment's grant is spent once: its access token is short-lived on purpose (payments.tokenTtl), and a
    // refresh token would let the site mint more tokens carrying the same approval. Plain logins get one.
    issueRefreshToken: async (_ctx, client, code) =>
      client.grantTypeAllowed('refresh_token') && !(code as { rar?: unknown[] }).rar?.length,
    ttl: {
      AuthorizationCode: ttl.authorizationCode,
      Session: ttl.session,
      Interaction: ttl.interaction,
      Grant: ttl.grant,
      PushedAuthorizationRequest: ttl.pushedAuthorizationRequest,
      // Access, client-credentials, ID and refresh tokens: the deployment's ceiling, lowered per site.
      ...createTokenTtls({ accessToken: ttl.accessToken, idToken: ttl.idToken, refreshToken: ttl.refreshToken, paymentToken: config.payments.tokenTtl }),
    } as Configuration['ttl'],
    interactions: {
      url: (_ctx, interaction) => `/interaction/${interaction.uid}`,
      policy: createInteractionPolicy(policyDeps(config, db, { counts, now })),
    },
    renderError: createRenderError(render),
    // The URLs member sites name are fetched at public addresses only, unless the deployment allows private ones.
    fetch: createProviderFetch({ allowPrivate: config.oidc.allowPrivateFetch, log }),
    // The provider reads those bodies whole into memory, without a bound by default: a site answering gigabytes could
    // exhaust an instance. A JWKS of 20 keys (what the operator registry allows) or a sector list is a few kilobytes.
    fetchResponseBodyLimits: { jwks_uri: FETCHED_BODY_LIMIT, sector_identifier_uri: FETCHED_BODY_LIMIT },
    conformIdTokenClaims: true,
  };

  const provider = new Provider(config.issuer, configuration);
  checkCodeResourceFirst(provider, refuseUnusableResource);
  logProviderRefusals(provider, log);
  provider.use(explainSuspendedSite);
  provider.use(explainRequiredPar);
  provider.use(explainJwtAtUserinfo);
  provider.use(createIntrospectAsNow(db, entry));
  provider.proxy = config.trustProxy;
  provider.maxIpsCount = config.proxyHops;
  compareHashedClientSecrets(provider);
  queueLogoutsAtSignOut(provider, db, log, logoutQueued);
  if (config.registration.enabled) {
    compareUpdatedClientSecret(provider);
    // Outermost: the hash answerWithKeptMetadata reads back with the stored metadata is taken out after it.
    provider.use(hideStoredSecrets);
    provider.use(answerWithKeptMetadata);
  }
  return provider;
}
