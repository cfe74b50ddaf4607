/**
 * Peer proxy for the native benchmark: fast-gateway 3.x (restana + 0http
 * router + fast-proxy-lite) in one process, one event loop, proxying every
 * method and path to one upstream.
 *
 * Run: node dist/native-bench/peers/fast-gateway-proxy.js --port P
 *        --upstream http://127.0.0.1:U [--routes FILE] [--forward-headers]
 *
 * Upstream pool: fast-gateway 3.x proxies with fast-proxy-lite, which has no
 * undici mode (the undici-capable `fast-proxy` is only reachable through the
 * unsupported `http-legacy` proxy type and is not installed); it uses a Node
 * `http.Agent`. We give that agent, through the route's `proxyConfig`, the
 * same shape as Turnpike's undici pool: keep-alive, at most 128 sockets, idle
 * sockets kept 300 s. fast-gateway builds one proxy (one agent) per route, so
 * the default proxy factory is memoised: all routes share one agent, as all of
 * Turnpike's routes share one upstream pool.
 *
 * Routes: without `--routes`, one catch-all route `/*`. With `--routes`, one
 * route per pattern; fast-gateway registers `prefix + pathRegex` with the
 * 0http "sequential" router (trouter/regexparam), which understands `:id`
 * params and a trailing `*` natively, so each pattern is given whole as the
 * prefix with an empty pathRegex. Note that this router tries the routes'
 * regexes one after another (with an LRU cache of 1000 method+path lookups),
 * unlike find-my-way's radix tree. `urlRewrite` forwards the URL unchanged
 * (fast-gateway would otherwise strip the prefix). fast-gateway itself also
 * registers GET /services.json. Unrouted paths get restana's 404.
 *
 * Other settings: query strings forwarded as received (`disableQsOverwrite`;
 * by default fast-gateway re-serialises the parsed query); bodies are
 * streamed (fast-gateway parses none, so no body limit applies); no logging
 * (fast-gateway has none); restana's default `prioRequestsProcessing`
 * (each request handled in a setImmediate) is kept.
 */
import { createRequire } from 'node:module';
import type { IncomingMessage, ServerResponse } from 'node:http';
import gateway from 'fast-gateway';
import {
  announceListening, exitOnSignals, ForwardHeaders, parsePeerArgs, POOL_KEEPALIVE_MS,
} from './peer-cli.js';

type ProxyFactory = NonNullable<gateway.Options<never>['proxyFactory']>;

const require = createRequire(import.meta.url);
// why: fast-gateway's own factory (fast-proxy-lite), reached by path because
// the package does not export it; memoised so all routes share one agent.
const defaultProxyFactory = require('fast-gateway/lib/proxy-factory') as ProxyFactory;

const kRequestId = Symbol('requestId');
type WithId = IncomingMessage & { [kRequestId]?: string };

/** Builds the gateway's route list (see the file comment). */
function buildRoutes(upstream: string, patterns: string[] | null, forwardHeaders: boolean, pool: number): gateway.Route[] {
  const proxyConfig = {
    keepAlive: true,
    maxSockets: pool,
    maxFreeSockets: pool,
    // why: http.Agent's `timeout` is what closes idle pooled sockets (its
    // keepAliveMsecs is only the TCP keep-alive probe delay).
    timeout: POOL_KEEPALIVE_MS,
  };
  const hooks: gateway.Hooks = {};
  if (forwardHeaders) {
    const fwd = new ForwardHeaders();
    hooks.onRequest = function onRequest(req: WithId, res: ServerResponse): void {
      const id = fwd.requestId(req.headers);
      req[kRequestId] = id;
      res.setHeader('x-request-id', id);
    };
    hooks.rewriteRequestHeaders = function rewriteRequestHeaders(req: WithId, headers: Record<string, unknown>): Record<string, unknown> {
      fwd.apply(headers, req.headers.host, req.socket.remoteAddress, req[kRequestId] ?? '');
      return headers;
    };
  }
  return (patterns ?? ['/*']).map((prefix) => ({
    prefix,
    pathRegex: '',
    target: upstream,
    proxyConfig,
    hooks: { ...hooks },
    disableQsOverwrite: true,
    urlRewrite: (req: IncomingMessage) => req.url,
  }));
}

function main(): void {
  const args = parsePeerArgs(process.argv.slice(2));
  let shared: ReturnType<ProxyFactory> | undefined;
  const server = gateway({
    routes: buildRoutes(args.upstream, args.routes, args.forwardHeaders, args.pool),
    proxyFactory: (o) => (shared ??= defaultProxyFactory(o)),
  });
  server.start(args.port, '127.0.0.1').then(() => announceListening(args.port), (err: unknown) => {
    process.stderr.write(`listen failed: ${(err as Error).message}\n`);
    process.exit(1);
  });
  exitOnSignals(async () => {
    server.getServer().closeIdleConnections();
    await server.close();
  });
}

main();
