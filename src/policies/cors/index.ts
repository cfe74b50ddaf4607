/**
 * The cors policy kind: answers CORS preflights at the gateway and adds the
 * Access-Control-* response headers for allowed origins (cors-policy.ts).
 * Stateless: no connections, timers or metrics.
 */
import type { PolicyFactory, PolicyProvider, PolicySpec } from '../types.js';
import { statelessProvider } from '../stateless-provider.js';
import { CorsPolicy } from './cors-policy.js';
import { checkCors, corsSchema, type CorsConfig } from './schema.js';

/** The `cors` policy kind (registered in ../registry.ts). */
export const corsFactory: PolicyFactory = {
  name: 'cors',
  schema: corsSchema,
  check: checkCors,
  create(specs: readonly PolicySpec[]): PolicyProvider {
    return statelessProvider(specs, (spec) => new CorsPolicy('cors:' + spec.name, spec.config as CorsConfig));
  },
};
