/**
 * oidc-provider's own keystore initialiser (lib/helpers/initialize_keystore.js, v9): called on a provider, it replaces
 * the keys the provider signs with and publishes at /jwks, at once. The provider's constructor calls it with
 * configuration.jwks; oidc/key-ring.ts calls it again when the keys in the database change. Not part of the
 * package's documented API: test/oidc/key-rotation.test.ts fails if a new version changes it.
 */
declare module 'oidc-provider/lib/helpers/initialize_keystore.js' {
  export default function initializeKeyStore(this: object, jwks: { keys: Record<string, unknown>[] }): void;
}

/**
 * oidc-provider's reader of a provider's private state (lib/helpers/weak_cache.js, v9): the grant handlers it
 * registered, read once by oidc/code-resource.ts to wrap the built-in authorization_code handler. Not part of the
 * package's documented API: test/oidc/code-resource.test.ts fails if a new version changes it.
 */
declare module 'oidc-provider/lib/helpers/weak_cache.js' {
  export default function instance(provider: object): { grantTypeHandlers: Map<string, (ctx: unknown) => Promise<void>> };
}
