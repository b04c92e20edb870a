import type { Conn } from '../db/knex.ts';
import { findMemberSite, listMemberSites, type MemberSite, type MemberSiteStatus } from '../db/member-sites.ts';
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
