import type { Provider } from 'oidc-provider';
import { secretMatches } from '../member-sites/secret-matches.ts';

const BODY = Symbol('oidc body');

/**
 * RFC 7592 §2.2: an update MAY carry the client's client_secret, which MUST then be its current one.
 * oidc-provider compares it with the stored value, for us the SHA-256 hash (client-secret.ts), so the
 * site's real secret was refused and its hash accepted. It offers no hook between parsing the update's
 * body and that comparison, so the parsed body is caught where it is stored on the request's context
 * (after the registration access token named the client): the site's current secret, compared in
 * constant time, is taken out (the update then goes on as one without it, keeping the secret), and
 * anything else becomes null, which the provider refuses as not matching (invalid_request). A secret
 * in its rotation overlap window is not the current one. Clients without a secret are left to the provider.
 */
export function compareUpdatedClientSecret(provider: Provider): void {
  Object.defineProperty(provider.OIDCContext.prototype, 'body', {
    configurable: true,
    get(this: { [BODY]?: unknown }) {
      return this[BODY];
    },
    set(this: { [BODY]?: unknown; route: string; entities: { Client?: { clientSecret?: unknown } } }, body: unknown) {
      const stored = this.route === 'client_update' ? this.entities.Client?.clientSecret : undefined;
      if (typeof stored !== 'string' || !isObject(body) || !('client_secret' in body)) {
        this[BODY] = body;
        return;
      }
      const { client_secret: presented, ...rest } = body;
      const current = typeof presented === 'string' && secretMatches({ current: stored }, presented);
      this[BODY] = current ? rest : { ...rest, client_secret: null };
    },
  });
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
