/** Every policy kind: one line each (instances run in the order a route lists them, see chain.ts). */
import { aclFactory } from './acl/index.js';
import { cacheFactory } from './cache/index.js';
import { clientCertFactory } from './client-cert/index.js';
import { corsFactory } from './cors/index.js';
import { headersFactory } from './headers/index.js';
import { ipRestrictionFactory } from './ip-restriction/index.js';
import { jwtFactory } from './jwt/index.js';
import { keyAuthFactory } from './key-auth/index.js';
import { introspectionFactory } from './oauth2-introspection/index.js';
import { rateLimitFactory } from './rate-limit/index.js';
import { transformFactory } from './transform/index.js';
import type { PolicyFactory } from './types.js';
import { validateFactory } from './validate/index.js';

/** The registered policy kinds. */
export const POLICY_FACTORIES: readonly PolicyFactory[] = [
  ipRestrictionFactory,
  jwtFactory,
  introspectionFactory,
  clientCertFactory,
  rateLimitFactory,
  corsFactory,
  headersFactory,
  keyAuthFactory,
  aclFactory,
  cacheFactory,
  transformFactory,
  validateFactory,
];
