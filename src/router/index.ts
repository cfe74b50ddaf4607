/**
 * The router: pure compile + match, no I/O. Every worker compiles the same
 * router from the same validated config.
 */
export type { RequestLookup } from './types.js';
export { compileRouter, type Router } from './compile-router.js';
export {
  BAD_PATH,
  compileRoute,
  type BadPath,
  type CompiledRoute,
  type MatchResult,
  type MethodNotAllowed,
} from './compiled-route.js';
export { normaliseHost } from './host-table.js';
export { parsePattern, type ParsedPattern, type PatternSegment } from './path-pattern.js';
export { explainMatch, type CandidateTrace, type ExplainOutcome, type ExplainTrace } from './explain.js';
export { formatExplain, formatRouteTable, routesInPrecedenceOrder } from './explain-format.js';
export { RecordLookup } from './record-lookup.js';
