/**
 * The load-test upstream: a uWebSockets.js server (fast enough that it is not
 * what a scenario measures) that answers every GET with a small JSON body and
 * echoes every POST/PUT body back, optionally after a fixed delay. GETs under
 * /cacheable/ (or /api/cacheable/) get a 16 KiB JSON with Cache-Control:
 * max-age=3600 instead, at once (scenario cache-hit); GETs under /doc4k/ (or
 * /api/doc4k/) a 4 KiB JSON document (scenario transform). POST /v1/traces is
 * an OTLP/HTTP sink (scenarios tracing-*): it answers `{}`.
 *
 *   node dist/loadtest/upstream/upstream-server.js --port 0 [--delay-ms 50]
 *
 * Prints `listening <port>` on stdout once it accepts connections; exits on SIGTERM.
 */
import { parseArgs } from 'node:util';
import { loadUws } from '../../src/platform/uws-loader.js';
import type { HttpResponse } from 'uWebSockets.js';
import { UPSTREAM_JSON } from '../scenarios/types.js';
import { cacheableJson } from '../scenarios/cache-hit.js';
import { doc4kJson } from '../scenarios/transform.js';

function sendJson(res: HttpResponse, state: { aborted: boolean }): void {
  if (state.aborted) return;
  res.cork(function write(): void {
    res.writeHeader('content-type', 'application/json').end(UPSTREAM_JSON);
  });
}

function startEcho(res: HttpResponse, delayMs: number): void {
  const state = { aborted: false };
  res.onAborted(function aborted(): void { state.aborted = true; });
  const chunks: Buffer[] = [];
  res.onData(function data(chunk: ArrayBuffer, last: boolean): void {
    // why: uWS reuses the ArrayBuffer after this callback returns, so copy it.
    chunks.push(Buffer.from(new Uint8Array(chunk).slice()));
    if (!last) return;
    const body = Buffer.concat(chunks);
    const reply = (): void => {
      if (state.aborted) return;
      res.cork(function write(): void {
        res.writeHeader('content-type', 'application/octet-stream').end(body);
      });
    };
    if (delayMs > 0) setTimeout(reply, delayMs); else reply();
  });
}

function main(): void {
  const { values } = parseArgs({
    args: process.argv.slice(2), strict: true,
    options: { port: { type: 'string', default: '0' }, 'delay-ms': { type: 'string', default: '0' }, host: { type: 'string', default: '127.0.0.1' } },
  });
  const delayMs = Number(values['delay-ms']);
  if (!(delayMs >= 0)) throw new Error(`--delay-ms must be a number >= 0, got ${values['delay-ms']}`);
  const uws = loadUws();
  const app = uws.App();
  // Scenario cache-hit: a 16 KiB JSON a cache may keep for an hour (any path under /cacheable/, after a rewrite or not).
  const cacheable = Buffer.from(cacheableJson());
  const serveCacheable = function serveCacheable(res: HttpResponse): void {
    res.cork(function write(): void {
      res.writeHeader('content-type', 'application/json').writeHeader('cache-control', 'max-age=3600').end(cacheable);
    });
  };
  app.get('/cacheable/*', serveCacheable);
  app.get('/api/cacheable/*', serveCacheable);
  // Scenario transform: a 4 KiB JSON document.
  const doc4k = Buffer.from(doc4kJson());
  const serveDoc = function serveDoc(res: HttpResponse): void {
    res.cork(function write(): void {
      res.writeHeader('content-type', 'application/json').end(doc4k);
    });
  };
  app.get('/doc4k/*', serveDoc);
  app.get('/api/doc4k/*', serveDoc);
  app.get('/*', function get(res): void {
    if (delayMs === 0) {
      res.cork(function write(): void {
        res.writeHeader('content-type', 'application/json').end(UPSTREAM_JSON);
      });
      return;
    }
    const state = { aborted: false };
    res.onAborted(function aborted(): void { state.aborted = true; });
    setTimeout(sendJson, delayMs, res, state);
  });
  // Scenarios tracing-*: the gateway exports its spans here (an OTLP/HTTP
  // collector that reads and discards them), so exports cost the gateway
  // what they cost against a real collector.
  app.post('/v1/traces', function otlpSink(res): void {
    let aborted = false;
    res.onAborted(function otlpAborted(): void { aborted = true; });
    res.onData(function otlpData(_chunk: ArrayBuffer, last: boolean): void {
      if (!last || aborted) return;
      res.cork(function write(): void { res.writeHeader('content-type', 'application/json').end('{}'); });
    });
  });
  app.post('/*', function post(res): void { startEcho(res, delayMs); });
  app.put('/*', function put(res): void { startEcho(res, delayMs); });
  app.listen(String(values.host), Number(values.port), function listening(token): void {
    if (!token) {
      process.stderr.write(`upstream-server: cannot listen on ${values.host}:${values.port}\n`);
      process.exit(1);
    }
    process.stdout.write(`listening ${uws.us_socket_local_port(token)}\n`);
    process.once('SIGTERM', function stop(): void {
      uws.us_listen_socket_close(token);
      process.exit(0);
    });
  });
}

main();
