/** Every policy kind, in the order their instances run on a route: one line each. */
import { corsFactory } from './cors/index.js';
import { headersFactory } from './headers/index.js';
import { ipRestrictionFactory } from './ip-restriction/index.js';
import { introspectionFactory } from './oauth2-introspection/index.js';
import { rateLimitFactory } from './rate-limit/index.js';
import type { PolicyFactory } from './types.js';

/** The registered policy kinds. */
export const POLICY_FACTORIES: readonly PolicyFactory[] = [
  ipRestrictionFactory,
  introspectionFactory,
  rateLimitFactory,
  corsFactory,
  headersFactory,
];
