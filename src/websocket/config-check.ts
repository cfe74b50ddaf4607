/**
 * Config checks of a route's `websocket` block that the schema cannot
 * express (run at load, so errors name file, line and field).
 */
import type { ConfigPath } from '../config/issues.js';
import { tryParseDuration, tryParseSize } from '../config/units.js';
import type { IssueSink } from '../policies/types.js';

type Obj = Record<string, unknown>;

/** Largest `maxPayload`: a message is held whole in the worker (and uWS takes a 32-bit length). */
export const MAX_WS_PAYLOAD_BYTES = 1024 * 1024 * 1024;

/** Shortest non-zero `idleTimeout` (the idle check runs every quarter of it on a 100 ms wheel). */
export const MIN_WS_IDLE_MS = 1000;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Checks a route's `websocket` setting against the rest of the route: the
 * handshake is a GET, so `match.methods` must list GET; every upstream it can
 * reach must be an HTTP upstream (ws:// for http:// targets, wss:// for
 * https://); sizes and durations within the supported range.
 *
 * @param route the route as written (schema shape not guaranteed)
 * @param at the route's path (`['routes', 3]`)
 * @param upstreams the config's `upstreams` section as written
 */
export function checkWebSocketRoute(route: Obj, at: ConfigPath, upstreams: Obj, issue: IssueSink): void {
  const ws = route.websocket;
  if (ws === undefined || ws === false) return;
  const wsAt = [...at, 'websocket'];
  if (isObj(ws)) {
    const size = ws.maxPayload === undefined ? null : tryParseSize(ws.maxPayload);
    if (size === 0) issue([...wsAt, 'maxPayload'], 'must be more than 0');
    else if (size !== null && size > MAX_WS_PAYLOAD_BYTES) issue([...wsAt, 'maxPayload'], 'must be at most 1gb');
    const idle = ws.idleTimeout === undefined ? null : tryParseDuration(ws.idleTimeout);
    if (idle !== null && idle > 0 && idle < MIN_WS_IDLE_MS) issue([...wsAt, 'idleTimeout'], 'must be 0 (never) or at least 1s');
  }
  const match = route.match;
  if (isObj(match) && Array.isArray(match.methods) && !match.methods.some((m) => typeof m === 'string' && m.toUpperCase() === 'GET')) {
    issue(wsAt, 'needs GET in match.methods (the WebSocket handshake is a GET request)');
  }
  // A route's own `upstream` naming a grpc upstream is reported by the route checks already; split sides are not.
  const sides: Array<[unknown, ConfigPath, boolean]> = [[route.upstream, [...at, 'upstream'], false]];
  if (Array.isArray(route.split)) {
    route.split.forEach((s: unknown, i: number) => { if (isObj(s)) sides.push([s.upstream, [...at, 'split', i, 'upstream'], true]); });
  }
  for (const [name, path, reportGrpc] of sides) {
    if (typeof name !== 'string') continue;
    const up = Object.hasOwn(upstreams, name) ? upstreams[name] : undefined;
    if (!isObj(up)) continue;
    if (up.protocol === 'grpc') {
      if (reportGrpc) issue(path, `"${name}" is a grpc upstream: a websocket route needs an http upstream (http:// or https:// targets)`);
      continue;
    }
    if (!Array.isArray(up.targets)) continue;
    up.targets.forEach((t: unknown, i: number) => {
      if (isObj(t) && typeof t.url === 'string' && /^h2c:/i.test(t.url)) {
        issue(path, `upstream "${name}" target ${i} is h2c://: a websocket route needs http:// or https:// targets`);
      }
    });
  }
}
