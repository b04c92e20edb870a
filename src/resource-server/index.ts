/**
 * @cybercard/resource-server (`cybercard/resource-server` inside this repository): checks card-manager access tokens
 * in a member site's API. Standalone: it imports only jose and node built-ins, never the card manager's code, so
 * `npm run build:kit` can make it a package of its own.
 */
export { createResourceServer, type ResourceServer, type ResourceServerOptions } from './resource-server.ts';
export { createTokenVerifier, ASYMMETRIC_ALGS, type AccessToken, type PaymentDetail, type VerifierOptions } from './verify.ts';
export { requireAge, requirePayment, requireScope, approvedPayment, type Requirement, type PaymentRequirement } from './requirements.ts';
export { createStatusCheck, DELIVERABLE, type StrictOptions } from './strict.ts';
export { TokenError, challenge, errorBody, type TokenErrorCode } from './errors.ts';
export { bearerToken } from './bearer.ts';
export { koaBearer, type KoaLikeContext } from './koa.ts';
export { expressBearer, type BearerRequest } from './express.ts';
export { authenticateRequest, sendTokenError } from './node-http.ts';
