import type { Socket } from 'node:net';
import { buildConnector, errors } from 'undici';

/**
 * An undici connector (undici's own, same defaults) whose connect timeout is
 * a native timer. undici arms its connect timeout on its coarse "fast
 * timers" (a 499 ms tick), so a 300 ms connect timeout fired after about
 * 1 s; this one fires within a few ms of its value. The timer is per
 * connection attempt, not per request.
 *
 * The timeout surfaces as undici's ConnectTimeoutError
 * (`UND_ERR_CONNECT_TIMEOUT`), which the error mapper turns into a 504.
 *
 * @param timeoutMs connect timeout in ms (0 = none)
 */
export function preciseConnector(timeoutMs: number): buildConnector.connector {
  // timeout 0 disables undici's own connect timer.
  const base = buildConnector({ timeout: 0 });
  if (timeoutMs <= 0) return base;
  return function connectWithTimeout(options, callback): void {
    let timer: NodeJS.Timeout | null = null;
    let settled = false;
    // undici's connector returns the socket it creates (its typings say void).
    const socket = (base as unknown as ConnectorReturningSocket)(options, function connected(err, sock) {
      settled = true;
      if (timer !== null) { clearTimeout(timer); timer = null; }
      if (err !== null) callback(err, null);
      else callback(null, sock!);
    });
    if (!settled && socket !== undefined) {
      timer = setTimeout(onConnectTimeout, timeoutMs, socket, options, timeoutMs);
    }
  };
}

type ConnectorReturningSocket = (
  options: buildConnector.Options,
  callback: (err: Error | null, socket: Socket | null) => void,
) => Socket | undefined;

/** Destroys the connecting socket; its 'error' reaches the connector's callback. */
function onConnectTimeout(socket: Socket, options: buildConnector.Options, timeoutMs: number): void {
  if (socket.destroyed) return;
  socket.destroy(new errors.ConnectTimeoutError(
    `Connect Timeout Error (attempted address: ${options.hostname}:${options.port}, timeout: ${timeoutMs}ms)`));
}
