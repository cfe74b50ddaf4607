/**
 * The WebSocket load-test upstream: a uWebSockets.js echo server (fast enough
 * that it is not what the bench measures). Every message comes back as it
 * came (text or binary); no compression, no idle timeout.
 *
 *   node dist/loadtest/upstream/ws-echo-server.js --port 0
 *
 * Prints `listening <port>` on stdout once it accepts connections; exits on SIGTERM.
 */
import { parseArgs } from 'node:util';
import { loadUws } from '../../src/platform/uws-loader.js';

function main(): void {
  const { values } = parseArgs({
    args: process.argv.slice(2), strict: true,
    options: { port: { type: 'string', default: '0' }, host: { type: 'string', default: '127.0.0.1' } },
  });
  const uws = loadUws();
  const app = uws.App();
  app.ws('/*', {
    compression: uws.DISABLED,
    maxPayloadLength: 64 * 1024 * 1024,
    idleTimeout: 0,
    maxBackpressure: 0,
    message: function echo(ws, message, isBinary): void { ws.send(message, isBinary); },
  });
  app.any('/*', function plain(res): void { res.writeStatus('426 Upgrade Required').end('WebSocket only'); });
  app.listen(String(values.host), Number(values.port), function listening(token): void {
    if (!token) {
      process.stderr.write(`ws-echo-server: cannot listen on ${values.host}:${values.port}\n`);
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
