import type { Conn } from '../db/knex.ts';
import { listMemberSites } from '../db/member-sites.ts';
import type { Logger } from '../log.ts';
import { postLogoutElsewhere } from './site-metadata.ts';

/**
 * Tells the operator, at start, of each member site (not closed) whose post-logout redirect URIs lie on another origin
 * than its redirect URIs: registered before registration refused them (site-metadata.ts), they stay redirects
 * through the card manager to wherever they point until the operator changes them. Returns the sites named.
 */
export async function warnOfLogoutElsewhere(conn: Conn, log: Logger): Promise<string[]> {
  const named: string[] = [];
  for (const site of await listMemberSites(conn)) {
    if (site.status === 'closed') continue;
    const elsewhere = postLogoutElsewhere(site);
    if (!elsewhere.length) continue;
    named.push(site.clientId);
    log.warn(
      { clientId: site.clientId, postLogoutRedirectUris: elsewhere },
      `member site ${site.clientId} has post-logout redirect URIs on another origin than its redirect URIs, registered before ` +
        'that was refused: anyone may link through /session/end to them. Change them: sites update --client-id ID --post-logout-uri URI',
    );
  }
  return named;
}
