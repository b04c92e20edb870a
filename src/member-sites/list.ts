import type { Conn } from '../db/knex.ts';
import { findMemberSite, listMemberSites, listResourceServers, type MemberSite, type MemberSiteStatus, type ResourceServer } from '../db/member-sites.ts';
import { NotFoundError } from '../errors.ts';

/** Every member site, oldest first, optionally only those with `status`. */
export async function listSites(conn: Conn, status?: MemberSiteStatus): Promise<MemberSite[]> {
  const sites = await listMemberSites(conn);
  return status ? sites.filter((s) => s.status === status) : sites;
}

/** No member site has the client id given: 404 naming the field. */
export function noSuchSite(clientId: string): NotFoundError {
  const message = `There is no member site ${clientId}.`;
  return new NotFoundError(message, { clientId: message });
}

/** One member site, or NotFoundError. */
export async function showSite(conn: Conn, clientId: string): Promise<MemberSite> {
  const site = await findMemberSite(conn, clientId);
  if (!site) throw noSuchSite(clientId);
  return site;
}

/** A resource server with the member sites granted it (closed ones too: a token they were issued may still be live). */
export interface ResourceServerGrants extends ResourceServer {
  sites: Array<{ clientId: string; status: MemberSiteStatus }>;
}

/** Every resource server by identifier, each with the member sites granted it, by client id. */
export async function listResourceServerGrants(conn: Conn): Promise<ResourceServerGrants[]> {
  const [servers, sites] = await Promise.all([listResourceServers(conn), listMemberSites(conn)]);
  return servers.map((rs) => ({
    ...rs,
    sites: sites
      .filter((s) => s.resourceServers.includes(rs.identifier))
      .map((s) => ({ clientId: s.clientId, status: s.status }))
      .sort((x, y) => (x.clientId < y.clientId ? -1 : x.clientId > y.clientId ? 1 : 0)),
  }));
}
