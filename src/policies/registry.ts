/** Every policy kind, in the order their instances run on a route: one line each. */
import { clientCertFactory } from './client-cert/index.js';
import { corsFactory } from './cors/index.js';
import { headersFactory } from './headers/index.js';
import { ipRestrictionFactory } from './ip-restriction/index.js';
import { rateLimitFactory } from './rate-limit/index.js';
import type { PolicyFactory } from './types.js';

/** The registered policy kinds. */
export const POLICY_FACTORIES: readonly PolicyFactory[] = [
  ipRestrictionFactory,
  clientCertFactory,
  rateLimitFactory,
  corsFactory,
  headersFactory,
];
