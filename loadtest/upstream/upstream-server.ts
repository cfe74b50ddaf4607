/**
 * The load-test upstream: a uWebSockets.js server (fast enough that it is not
 * what a scenario measures) that answers every GET with a small JSON body and
 * echoes every POST/PUT body back, optionally after a fixed delay.
 *
 *   node dist/loadtest/upstream/upstream-server.js --port 0 [--delay-ms 50]
 *
 * Prints `listening <port>` on stdout once it accepts connections; exits on SIGTERM.
 */
import { parseArgs } from 'node:util';
import { loadUws } from '../../src/platform/uws-loader.js';
import type { HttpResponse } from 'uWebSockets.js';
import { UPSTREAM_JSON } from '../scenarios/types.js';

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
