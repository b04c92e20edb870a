import { approvalColumnsAs, approvalFromColumnsAs, type Approval } from './approvals.ts';
import { disputeSummaryColumnsAs, disputeSummaryFromColumnsAs, type DisputeSummary } from './disputes.ts';
import type { Conn } from './knex.ts';
import { jsonValue } from './rows.ts';

export type MemberSiteStatus = 'active' | 'suspended' | 'closed';
export type ClientAuthMethod = 'client_secret_basic' | 'client_secret_post' | 'private_key_jwt';

export interface MemberSite {
  clientId: string;
  name: string;
  status: MemberSiteStatus;
  tokenEndpointAuthMethod: ClientAuthMethod;
  clientSecretHash: string | null;
  redirectUris: string[];
  postLogoutRedirectUris: string[];
  jwks: { keys: Record<string, unknown>[] } | null;
  jwksUri: string | null;
  scope: string;
  resourceServers: string[];
  contentRating: number;
  homepageUri: string | null;
  logoUri: string | null;
  /** Largest single payment, in minor units; null: no site-specific cap. */
  maxAmount: number | null;
  /** After a secret rotation: the old secret's hash, accepted until previousSecretExpiresAt. */
  previousSecretHash?: string | null;
  previousSecretExpiresAt?: Date | null;
  /** Token lifetimes in seconds; null: the deployment's default (which is also the ceiling). */
  accessTokenTtl?: number | null;
  idTokenTtl?: number | null;
  refreshTokenTtl?: number | null;
  statusReason?: string | null;
  /** Capture each approval in full inside its approval transaction (sites that deliver at once). */
  autoCapture?: boolean;
  /** When the site was registered (set by the database; absent on a site not stored yet). */
  createdAt?: Date;
  /** Where a Logout Token is posted when a holder's session with the site ends (Back-Channel Logout 1.0). */
  backchannelLogoutUri?: string | null;
  /** The site needs the session id (sid) in each Logout Token. */
  backchannelLogoutSessionRequired?: boolean;
  /** Where approval events are pushed as Security Event Tokens (RFC 8935): approvals/queue-approval-event.ts. */
  approvalEventsUri?: string | null;
  /** The claims the site may be given (name, birthdate, age_over_NN); null: every claim its scopes give, any age_over_NN. */
  allowedClaims?: string[] | null;
  /** Every authorization request must come through PAR (RFC 9126 §6 require_pushed_authorization_requests). */
  requirePushedAuthorizationRequests?: boolean;
  /**
   * The site turned requirePushedAuthorizationRequests on itself (RFC 7591/7592) and may turn it off; false when the
   * operator did (or it is off): then the site's own updates keep it on.
   */
  requireParBySite?: boolean;
}

export interface ResourceServer {
  identifier: string;
  name: string;
  scope: string;
  accessTokenTtl: number | null;
}

type Row = Record<string, unknown>;

function toSite(r: Row): MemberSite {
  return {
    clientId: r.client_id as string,
    name: r.name as string,
    status: r.status as MemberSiteStatus,
    tokenEndpointAuthMethod: r.token_endpoint_auth_method as ClientAuthMethod,
    clientSecretHash: (r.client_secret_hash as string | null) ?? null,
    redirectUris: jsonValue<string[]>(r.redirect_uris),
    postLogoutRedirectUris: jsonValue<string[]>(r.post_logout_redirect_uris),
    jwks: r.jwks ? jsonValue<{ keys: Record<string, unknown>[] }>(r.jwks) : null,
    jwksUri: (r.jwks_uri as string | null) ?? null,
    scope: r.scope as string,
    resourceServers: jsonValue<string[]>(r.resource_servers),
    contentRating: r.content_rating as number,
    homepageUri: (r.homepage_uri as string | null) ?? null,
    logoUri: (r.logo_uri as string | null) ?? null,
    maxAmount: r.max_amount === null || r.max_amount === undefined ? null : Number(r.max_amount),
    previousSecretHash: (r.previous_secret_hash as string | null | undefined) ?? null,
    previousSecretExpiresAt: r.previous_secret_expires_at ? new Date(r.previous_secret_expires_at as string) : null,
    accessTokenTtl: (r.access_token_ttl as number | null | undefined) ?? null,
    idTokenTtl: (r.id_token_ttl as number | null | undefined) ?? null,
    refreshTokenTtl: (r.refresh_token_ttl as number | null | undefined) ?? null,
    statusReason: (r.status_reason as string | null | undefined) ?? null,
    autoCapture: r.auto_capture === true,
    ...(r.created_at ? { createdAt: new Date(r.created_at as string) } : {}),
    backchannelLogoutUri: (r.backchannel_logout_uri as string | null | undefined) ?? null,
    backchannelLogoutSessionRequired: r.backchannel_logout_session_required === true,
    approvalEventsUri: (r.approval_events_uri as string | null | undefined) ?? null,
    allowedClaims: r.allowed_claims === null || r.allowed_claims === undefined ? null : jsonValue<string[]>(r.allowed_claims),
    requirePushedAuthorizationRequests: r.require_pushed_authorization_requests === true,
    requireParBySite: r.require_par_by_site === true,
  };
}

/** The columns toSite reads. */
const SITE_COLUMNS = [
  'client_id',
  'name',
  'status',
  'token_endpoint_auth_method',
  'client_secret_hash',
  'redirect_uris',
  'post_logout_redirect_uris',
  'jwks',
  'jwks_uri',
  'scope',
  'resource_servers',
  'content_rating',
  'homepage_uri',
  'logo_uri',
  'max_amount',
  'previous_secret_hash',
  'previous_secret_expires_at',
  'access_token_ttl',
  'id_token_ttl',
  'refresh_token_ttl',
  'status_reason',
  'auto_capture',
  'created_at',
  'backchannel_logout_uri',
  'backchannel_logout_session_required',
  'approval_events_uri',
  'allowed_claims',
  'require_pushed_authorization_requests',
  'require_par_by_site',
] as const;

export async function findMemberSite(conn: Conn, clientId: string): Promise<MemberSite | undefined> {
  // Every provider request reads its member site: prepared once per connection (see findMemberSiteWithApproval).
  const row = (await conn('member_sites')
    .select(SITE_COLUMNS)
    .where({ client_id: clientId })
    .first()
    .options({ name: 'member-site-by-client-id' })) as Row | undefined;
  return row ? toSite(row) : undefined;
}

/**
 * A strict-mode status check runs this on every call, so it is written out once rather than built per
 * call, and each connection prepares it once (a named statement): unprepared, PostgreSQL spent about
 * 3.5× the CPU on it, planning the join every time. Columns are named, not `*`, so a migration that
 * adds a column leaves the prepared statement's result as it was. Behind a transaction-mode pooler this
 * needs one that keeps prepared statements (PgBouncer ≥ 1.21).
 */
const SITE_WITH_APPROVAL_SQL = `select ${SITE_COLUMNS.map((c) => `s.${c}`).join(', ')}, ${approvalColumnsAs('a', 'approval__').join(', ')},
  ${disputeSummaryColumnsAs('d', 'dispute__').join(', ')}
  from member_sites s left join approvals a on a.client_id = s.client_id and a.approval_no = ?
  left join disputes d on d.approval_id = a.id
  where s.client_id = ?`;

/**
 * The member site and, in the same query, its approval `approvalNo` (undefined when there is no such
 * approval or it is another site's) and the holder's report of it, if any (disputes.approval_id is unique,
 * so the join adds one index probe): a strict-mode status check authenticates the site and reads the
 * approval on every call, and this saves it a round trip.
 */
export async function findMemberSiteWithApproval(
  conn: Conn,
  clientId: string,
  approvalNo: string,
): Promise<(MemberSite & { approval: Approval | undefined; dispute: DisputeSummary | undefined }) | undefined> {
  const { rows } = (await conn.raw(SITE_WITH_APPROVAL_SQL, [approvalNo, clientId]).options({ name: 'member-site-with-approval' })) as { rows: Row[] };
  const row = rows[0];
  if (!row) return undefined;
  return { ...toSite(row), approval: approvalFromColumnsAs(row, 'approval__'), dispute: disputeSummaryFromColumnsAs(row, 'dispute__') };
}

export async function insertMemberSite(conn: Conn, site: MemberSite): Promise<void> {
  await conn('member_sites').insert({
    client_id: site.clientId,
    name: site.name,
    status: site.status,
    token_endpoint_auth_method: site.tokenEndpointAuthMethod,
    client_secret_hash: site.clientSecretHash,
    redirect_uris: JSON.stringify(site.redirectUris),
    post_logout_redirect_uris: JSON.stringify(site.postLogoutRedirectUris),
    jwks: site.jwks ? JSON.stringify(site.jwks) : null,
    jwks_uri: site.jwksUri,
    scope: site.scope,
    resource_servers: JSON.stringify(site.resourceServers),
    content_rating: site.contentRating,
    homepage_uri: site.homepageUri,
    logo_uri: site.logoUri,
    max_amount: site.maxAmount,
    access_token_ttl: site.accessTokenTtl ?? null,
    id_token_ttl: site.idTokenTtl ?? null,
    refresh_token_ttl: site.refreshTokenTtl ?? null,
    auto_capture: site.autoCapture ?? false,
    backchannel_logout_uri: site.backchannelLogoutUri ?? null,
    backchannel_logout_session_required: site.backchannelLogoutSessionRequired ?? false,
    approval_events_uri: site.approvalEventsUri ?? null,
    allowed_claims: site.allowedClaims ? JSON.stringify(site.allowedClaims) : null,
    require_pushed_authorization_requests: site.requirePushedAuthorizationRequests ?? false,
    require_par_by_site: site.requireParBySite ?? false,
  });
}

/** The member site, its row locked until the transaction ends (for read-modify-write changes). */
export async function findMemberSiteForUpdate(conn: Conn, clientId: string): Promise<MemberSite | undefined> {
  const row = (await conn('member_sites').where({ client_id: clientId }).forUpdate().first()) as Row | undefined;
  return row ? toSite(row) : undefined;
}

/** The metadata an operator (or the site itself, through RFC 7592) may change. */
export type MemberSitePatch = Partial<
  Pick<
    MemberSite,
    | 'name'
    | 'tokenEndpointAuthMethod'
    | 'clientSecretHash'
    | 'redirectUris'
    | 'postLogoutRedirectUris'
    | 'jwks'
    | 'jwksUri'
    | 'scope'
    | 'resourceServers'
    | 'contentRating'
    | 'homepageUri'
    | 'logoUri'
    | 'maxAmount'
    | 'previousSecretHash'
    | 'previousSecretExpiresAt'
    | 'accessTokenTtl'
    | 'idTokenTtl'
    | 'refreshTokenTtl'
    | 'status'
    | 'statusReason'
    | 'autoCapture'
    | 'backchannelLogoutUri'
    | 'backchannelLogoutSessionRequired'
    | 'approvalEventsUri'
    | 'allowedClaims'
    | 'requirePushedAuthorizationRequests'
    | 'requireParBySite'
  >
>;

const PATCH_COLUMNS: Record<keyof MemberSitePatch, string> = {
  name: 'name',
  tokenEndpointAuthMethod: 'token_endpoint_auth_method',
  clientSecretHash: 'client_secret_hash',
  redirectUris: 'redirect_uris',
  postLogoutRedirectUris: 'post_logout_redirect_uris',
  jwks: 'jwks',
  jwksUri: 'jwks_uri',
  scope: 'scope',
  resourceServers: 'resource_servers',
  contentRating: 'content_rating',
  homepageUri: 'homepage_uri',
  logoUri: 'logo_uri',
  maxAmount: 'max_amount',
  previousSecretHash: 'previous_secret_hash',
  previousSecretExpiresAt: 'previous_secret_expires_at',
  accessTokenTtl: 'access_token_ttl',
  idTokenTtl: 'id_token_ttl',
  refreshTokenTtl: 'refresh_token_ttl',
  status: 'status',
  statusReason: 'status_reason',
  autoCapture: 'auto_capture',
  backchannelLogoutUri: 'backchannel_logout_uri',
  backchannelLogoutSessionRequired: 'backchannel_logout_session_required',
  approvalEventsUri: 'approval_events_uri',
  allowedClaims: 'allowed_claims',
  requirePushedAuthorizationRequests: 'require_pushed_authorization_requests',
  requireParBySite: 'require_par_by_site',
};

const JSON_COLUMNS = new Set(['redirect_uris', 'post_logout_redirect_uris', 'jwks', 'resource_servers', 'allowed_claims']);

/** Applies a patch (only the keys present) and bumps updated_at. */
export async function updateMemberSite(conn: Conn, clientId: string, patch: MemberSitePatch): Promise<void> {
  const row: Record<string, unknown> = { updated_at: conn.fn.now() };
  for (const [key, value] of Object.entries(patch) as Array<[keyof MemberSitePatch, unknown]>) {
    if (value === undefined) continue;
    const column = PATCH_COLUMNS[key];
    row[column] = JSON_COLUMNS.has(column) && value !== null ? JSON.stringify(value) : value;
  }
  await conn('member_sites').where({ client_id: clientId }).update(row);
}

export async function listResourceServers(conn: Conn): Promise<ResourceServer[]> {
  const rows = (await conn('resource_servers').orderBy('identifier')) as Row[];
  return rows.map((r) => ({
    identifier: r.identifier as string,
    name: r.name as string,
    scope: r.scope as string,
    accessTokenTtl: (r.access_token_ttl as number | null) ?? null,
  }));
}

export async function listMemberSites(conn: Conn): Promise<MemberSite[]> {
  const rows = (await conn('member_sites').orderBy('created_at')) as Row[];
  return rows.map(toSite);
}

export async function findResourceServer(conn: Conn, identifier: string): Promise<ResourceServer | undefined> {
  // Read on nearly every provider request: prepared once per connection, its columns named.
  const r = (await conn('resource_servers')
    .select('identifier', 'name', 'scope', 'access_token_ttl')
    .where({ identifier })
    .first()
    .options({ name: 'resource-server-by-identifier' })) as Row | undefined;
  if (!r) return undefined;
  return {
    identifier: r.identifier as string,
    name: r.name as string,
    scope: r.scope as string,
    accessTokenTtl: (r.access_token_ttl as number | null) ?? null,
  };
}

/** Registers a resource server, or updates its name, scope and lifetime. */
export async function upsertResourceServer(conn: Conn, rs: ResourceServer): Promise<void> {
  await conn('resource_servers')
    .insert({ identifier: rs.identifier, name: rs.name, scope: rs.scope, access_token_ttl: rs.accessTokenTtl })
    .onConflict('identifier')
    .merge();
}

/** The names of these member sites by client id (ids no site has are left out). */
export async function memberSiteNames(conn: Conn, clientIds: readonly string[]): Promise<Map<string, string>> {
  if (clientIds.length === 0) return new Map();
  const rows = (await conn('member_sites').select('client_id', 'name').whereIn('client_id', [...clientIds])) as Row[];
  return new Map(rows.map((r) => [r.client_id as string, r.name as string]));
}
