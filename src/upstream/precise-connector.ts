import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { buildConnector, errors } from 'undici';
import { UpstreamTlsError, tlsFailureReason } from '../errors/tls-failure.js';
import type { TargetTls } from './upstream-tls.js';

/**
 * An undici connector (undici's own, same defaults) whose connect timeout is
 * a native timer. undici arms its connect timeout on its coarse "fast
 * timers" (a 499 ms tick), so a 300 ms connect timeout fired after about
 * 1 s; this one fires within a few ms of its value. The timer is per
 * connection attempt, not per request; for https:// targets it covers the
 * TLS handshake too.
 *
 * The timeout surfaces as undici's ConnectTimeoutError
 * (`UND_ERR_CONNECT_TIMEOUT`), which the error mapper turns into a 504.
 *
 * With `tls` (https:// targets) the connection uses the upstream's secure
 * context and server name, always verifies the certificate
 * (`rejectUnauthorized: true`, whatever NODE_TLS_REJECT_UNAUTHORIZED says),
 * and reports TLS failures as {@link UpstreamTlsError} (502 `upstream_tls`):
 * any failure after the TCP connection was made and before the handshake
 * completed, and a TLS alert the upstream sends later (a TLS 1.3 server
 * that requires a client certificate says so only after the client's
 * handshake is done, which undici would otherwise report as "other side
 * closed").
 *
 * @param timeoutMs connect timeout in ms (0 = none)
 * @param tls TLS settings of the target (null = as undici does: plain for http://)
 */
export function preciseConnector(timeoutMs: number, tls: TargetTls | null = null): buildConnector.connector {
  // timeout 0 disables undici's own connect timer.
  const base = buildConnector(tls === null ? { timeout: 0 }
    : { timeout: 0, secureContext: tls.secureContext, rejectUnauthorized: true });
  if (timeoutMs <= 0 && tls === null) return base;
  const servername = tls?.servername;
  return function connectWithTimeout(options, callback): void {
    let timer: NodeJS.Timeout | null = null;
    let settled = false;
    let tcpConnected = false;
    // undici passes the request's server name (from its Host header); the
    // upstream's configured name (or, when undefined, the target's host) wins.
    const connectOptions = tls === null ? options : { ...options, servername };
    // undici's connector returns the socket it creates (its typings say void).
    const socket = (base as unknown as ConnectorReturningSocket)(connectOptions, function connected(err, sock) {
      settled = true;
      if (timer !== null) { clearTimeout(timer); timer = null; }
      if (err !== null) callback(tls !== null && tcpConnected ? handshakeError(err) : err, null);
      else {
        if (tls !== null) sock!.on('error', onTlsSocketError);
        callback(null, sock!);
      }
    });
    if (socket === undefined || settled) return;
    if (tls !== null) socket.once('connect', () => { tcpConnected = true; });
    if (timeoutMs > 0) timer = setTimeout(onConnectTimeout, timeoutMs, socket, options, timeoutMs);
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

/** A failure between TCP connect and the end of the handshake, as an UpstreamTlsError (the timeout stays a timeout). */
function handshakeError(err: Error): Error {
  if (err instanceof errors.ConnectTimeoutError || err instanceof UpstreamTlsError) return err;
  return new UpstreamTlsError(tlsFailureReason(err) ?? 'the upstream closed the connection during the TLS handshake', err);
}

/**
 * A TLS error on an established connection (an alert from the upstream):
 * Node emits it without destroying the socket, and undici, seeing the
 * 'end' that follows, would fail the request with "other side closed".
 * Destroying the socket with the TLS error makes that the request's error.
 * Runs before undici's own 'error' listener (added after the connector's
 * callback).
 */
function onTlsSocketError(this: TLSSocket, err: Error): void {
  if (this.destroyed || err instanceof UpstreamTlsError) return;
  const reason = tlsFailureReason(err);
  if (reason !== null) this.destroy(new UpstreamTlsError(reason, err));
}
