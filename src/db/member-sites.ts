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
  };
}

export async function findMemberSite(conn: Conn, clientId: string): Promise<MemberSite | undefined> {
  const row = (await conn('member_sites').where({ client_id: clientId }).first()) as Row | undefined;
  return row ? toSite(row) : undefined;
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
  });
}

export async function listMemberSites(conn: Conn): Promise<MemberSite[]> {
  const rows = (await conn('member_sites').orderBy('created_at')) as Row[];
  return rows.map(toSite);
}

export async function findResourceServer(conn: Conn, identifier: string): Promise<ResourceServer | undefined> {
  const r = (await conn('resource_servers').where({ identifier }).first()) as Row | undefined;
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
