import type { Conn } from '../db/knex.ts';
import { findMemberSite, listMemberSites, type MemberSite, type MemberSiteStatus } from '../db/member-sites.ts';
import { NotFoundError } from '../errors.ts';

/** Every member site, oldest first, optionally only those with `status`. */
export async function listSites(conn: Conn, status?: MemberSiteStatus): Promise<MemberSite[]> {
  const sites = await listMemberSites(conn);
  return status ? sites.filter((s) => s.status === status) : sites;
}

/** One member site, or NotFoundError. */
export async function showSite(conn: Conn, clientId: string): Promise<MemberSite> {
  const site = await findMemberSite(conn, clientId);
  if (!site) throw new NotFoundError(`No member site ${clientId}`);
  return site;
}
