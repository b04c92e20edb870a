import { appendAudit } from '../db/audit-log.ts';
import type { Db } from '../db/knex.ts';
import { findResourceServer, upsertResourceServer, type ResourceServer } from '../db/member-sites.ts';
import { inTransaction } from '../db/tx.ts';
import { ConflictError, ValidationError } from '../errors.ts';

/** RFC 6749 §3.3: scope tokens of visible characters but `"` and `\`, separated by single spaces. */
const SCOPE = /^(?:[\x21\x23-\x5b\x5d-\x7e]+(?: [\x21\x23-\x5b\x5d-\x7e]+)*)?$/;

/**
 * Registers a resource server (an access-token audience), audited with who did it. One already registered under the
 * identifier is refused unless `replace`: then its name, scopes and token lifetime are the ones given, all of them
 * (what is not given is cleared), and the audit entry keeps what they were.
 */
export async function registerResourceServer(db: Db, rs: ResourceServer, opts: { replace: boolean; actor: string }): Promise<'registered' | 'replaced'> {
  if (!URL.canParse(rs.identifier) || !rs.name.trim()) throw new ValidationError('An absolute URI and a name are required.', { identifier: 'An absolute URI.' });
  if (!SCOPE.test(rs.scope)) throw new ValidationError(`Scopes are words of visible characters (no " or \\) separated by single spaces, got "${rs.scope}".`, { scope: 'Not a scope list.' });
  return inTransaction(db, async (trx) => {
    const before = await findResourceServer(trx, rs.identifier);
    if (before && !opts.replace) {
      const message = `Resource server ${rs.identifier} is registered already (${before.name}); give --replace to replace its name, scopes and token lifetime.`;
      throw new ConflictError(message, { identifier: message });
    }
    await upsertResourceServer(trx, rs);
    await appendAudit(trx, {
      actor: opts.actor,
      action: before ? 'resource_server.replaced' : 'resource_server.registered',
      subjectType: 'resource_server',
      subjectId: rs.identifier,
      details: { name: rs.name, scope: rs.scope, accessTokenTtl: rs.accessTokenTtl, ...(before ? { before: { name: before.name, scope: before.scope, accessTokenTtl: before.accessTokenTtl } } : {}) },
    });
    return before ? 'replaced' : 'registered';
  });
}
