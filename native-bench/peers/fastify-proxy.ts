/**
 * Peer proxy for the native benchmark: fastify 5 + @fastify/http-proxy
 * (@fastify/reply-from over undici) in one process, one event loop, proxying
 * every method and path to one upstream.
 *
 * Run: node dist/native-bench/peers/fastify-proxy.js --port P
 *        --upstream http://127.0.0.1:U [--routes FILE] [--forward-headers]
 *
 * Upstream pool: reply-from's undici mode with explicit options — an undici
 * Agent whose per-origin Pool has 128 connections, pipelining 1, idle
 * connections kept 300 s: the same as Turnpike's undici Pool in this
 * benchmark. (reply-from adds one Agent-to-Pool dispatch by origin.)
 *
 * Routes: without `--routes`, @fastify/http-proxy's default `/` and `/*`.
 * With `--routes`, the plugin is registered once with `routes` set to the
 * patterns, so each pattern becomes one fastify route in find-my-way's radix
 * tree (the pattern syntax Turnpike's routes use). Unrouted paths get
 * fastify's JSON 404.
 *
 * Other settings: logger off and reply-from's request logging off; bodies of
 * every content type are streamed through the plugin's pass-through parser
 * (`bodyLimit` raised anyway so no parser rejects a large body); the
 * methods are the plugin's defaults plus TRACE.
 */
import Fastify from 'fastify';
import httpProxy from '@fastify/http-proxy';
import type { HTTPMethods } from 'fastify';
import type { IncomingMessage } from 'node:http';
import {
  announceListening, BODY_LIMIT_BYTES, exitOnSignals, ForwardHeaders, parsePeerArgs,
  POOL_KEEPALIVE_MS,
} from './peer-cli.js';

/** @fastify/http-proxy's default methods plus TRACE. */
const METHODS: HTTPMethods[] = ['DELETE', 'GET', 'HEAD', 'PATCH', 'POST', 'PUT', 'OPTIONS', 'TRACE'];

async function main(): Promise<void> {
  const args = parsePeerArgs(process.argv.slice(2));
  const fwd = args.forwardHeaders ? new ForwardHeaders() : null;
  const app = Fastify({
    logger: false,
    bodyLimit: BODY_LIMIT_BYTES,
    // why: with --forward-headers fastify's own per-request id (which it
    // always generates) becomes the X-Request-Id, so no second id is made.
    ...(fwd === null ? {} : { genReqId: (req: IncomingMessage) => fwd.requestId(req.headers) }),
  });
  await app.register(httpProxy, {
    upstream: args.upstream,
    ...(args.routes === null ? {} : { routes: args.routes }),
    httpMethods: METHODS,
    disableRequestLogging: true,
    undici: { connections: args.pool, pipelining: 1, keepAliveTimeout: POOL_KEEPALIVE_MS },
    ...(fwd === null ? {} : {
      replyOptions: {
        rewriteRequestHeaders(request, headers) {
          fwd.apply(headers, request.raw.headers.host, request.raw.socket.remoteAddress, request.id);
          return headers;
        },
        rewriteHeaders(headers, request) {
          if (request !== undefined) headers['x-request-id'] = request.id;
          return headers;
        },
      },
    }),
  });
  await app.listen({ port: args.port, host: '127.0.0.1' });
  announceListening(args.port);
  exitOnSignals(() => app.close());
}

main().catch((err: unknown) => {
  process.stderr.write(`fastify-proxy failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
