import type { CommandBroadcaster, CommandPeer, WorkerAnswer } from '../process/command-broadcast.js';
import { ErrorCodes } from '../errors/codes.js';
import { adminProblem, type AdminAnswer, type AdminEndpoint } from './admin-server.js';
import { parsePurgeArgs } from '../policies/cache/purge-args.js';

/**
 * An admin endpoint answered by every worker: the request's query becomes
 * the command's arguments; the answer is `{ workers: [{ worker, pid,
 * result | error }] }` (200), or 503 when no worker is running.
 * `validate` refuses bad arguments with a problem before anything is sent.
 */
export interface WorkerEndpointSpec {
  readonly method: AdminEndpoint['method'];
  readonly path: string;
  /** The command name of the workers' command tables (worker-commands.ts). */
  readonly command: string;
  /** The answer's per-worker field for a result (default `result`). */
  readonly field?: string;
  validate?(query: Readonly<Record<string, string>>): AdminAnswer | null;
}

/**
 * The endpoints the workers answer. Adding one is one entry here plus the
 * command's registration in the worker.
 */
export const WORKER_ENDPOINTS: readonly WorkerEndpointSpec[] = [
  // Per worker: each upstream's targets (health, ejection, in-flight) and resilience state.
  { method: 'GET', path: '/upstreams', command: 'upstreams', field: 'upstreams' },
  // Every worker purges its cache stores (Redis stores: shared by every instance): ?key-prefix= or ?path-prefix= [&policy=].
  { method: 'DELETE', path: '/cache', command: 'cache-purge', validate: validatePurge },
];

/** Exactly one of key-prefix / path-prefix, non-empty (see policies/cache/purge-args.ts). */
function validatePurge(query: Readonly<Record<string, string>>): AdminAnswer | null {
  const parsed = parsePurgeArgs(query);
  return typeof parsed === 'string' ? adminProblem(ErrorCodes.BAD_REQUEST, parsed) : null;
}

/** Builds the admin endpoints of {@link WORKER_ENDPOINTS} over the primary's broadcaster. */
export function workerEndpoints(
  commands: CommandBroadcaster, peers: () => CommandPeer[], specs: readonly WorkerEndpointSpec[] = WORKER_ENDPOINTS,
): AdminEndpoint[] {
  return specs.map((spec) => ({
    method: spec.method,
    path: spec.path,
    async handle(query) {
      const refused = spec.validate?.(query) ?? null;
      if (refused !== null) return refused;
      const live = peers();
      if (live.length === 0) return adminProblem(ErrorCodes.SHUTTING_DOWN, 'no worker is running');
      const answers = await commands.broadcast(live, spec.command, { ...query });
      return { status: 200, body: { workers: answers.map((a) => shape(a, spec.field ?? 'result')) } };
    },
  }));
}

function shape(a: WorkerAnswer, field: string): Record<string, unknown> {
  const out: Record<string, unknown> = { worker: a.worker, pid: a.pid };
  if (a.error !== undefined) out.error = a.error;
  else out[field] = a.result;
  return out;
}
