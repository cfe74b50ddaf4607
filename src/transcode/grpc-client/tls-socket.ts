/**
 * The TLS connection of a GrpcChannel to an `https://` target: node's
 * tls.connect with the upstream's secure context, ALPN `h2` and the
 * certificate always verified, plus the rules that tell a TLS failure apart
 * from other connection errors (so the gateway can answer `upstream_tls`).
 */
import { isIP } from 'node:net';
import tls, { type SecureContext, type TLSSocket } from 'node:tls';
import { UpstreamTlsError, tlsFailureReason } from '../../errors/tls-failure.js';

/** How a GrpcChannel speaks TLS to an `https://` target; every field is optional. */
export interface GrpcTlsOptions {
  /**
   * Trust, client certificate and minimum version (tls.createSecureContext);
   * undefined = Node's defaults (default trust store, no client certificate).
   */
  readonly secureContext?: SecureContext | undefined;
  /**
   * SNI and the name the certificate is verified against; undefined = the
   * target's host (for an IP: no SNI, and the certificate must list that IP).
   */
  readonly servername?: string | undefined;
}

/** A target's TLS socket with what its slot needs to classify failures. */
export interface TlsConnection {
  readonly socket: TLSSocket;
  /** TCP is connected (a later failure before `secure` is a handshake failure). */
  tcp: boolean;
  /** The handshake completed (and the server chose `h2`). */
  secure: boolean;
}

/**
 * Opens the TLS connection to `host:port` (brackets already stripped from an
 * IPv6 host). Verification is always on (`rejectUnauthorized: true`,
 * whatever NODE_TLS_REJECT_UNAUTHORIZED says). A server that completes the
 * handshake without choosing ALPN `h2` is dropped with an UpstreamTlsError
 * (it would answer the HTTP/2 preface with an HTTP/1.1 error).
 */
export function openTlsConnection(host: string, port: number, options: GrpcTlsOptions): TlsConnection {
  // why: an IP as SNI is not allowed (RFC 6066; node warns, DEP0123); verification still uses `host`.
  const servername = options.servername ?? (isIP(host) === 0 ? host : undefined);
  const socket = tls.connect({
    host, port, servername, secureContext: options.secureContext, rejectUnauthorized: true, ALPNProtocols: ['h2'],
  });
  const conn: TlsConnection = { socket, tcp: false, secure: false };
  // why: node emits a TLS error on an established connection (an alert from
  // the server) without destroying the socket, and the HTTP/2 session then
  // waits forever for its pending writes: neither 'error' nor 'close' ever
  // comes, and queued calls hang until their deadline. Registered before
  // the session's own listener, this closes the socket first, so the
  // session ends at once with that error.
  socket.on('error', onSocketError);
  socket.once('connect', () => { conn.tcp = true; });
  socket.once('secureConnect', () => {
    if (socket.alpnProtocol === 'h2') conn.secure = true;
    // why: on the next tick, once the HTTP/2 session has set up its handle on
    // this 'secureConnect' (destroying the socket before that aborts node).
    else process.nextTick(noH2, socket);
  });
  return conn;
}

function noH2(socket: TLSSocket): void {
  if (!socket.destroyed) socket.destroy(new UpstreamTlsError('handshake failed: the upstream did not select HTTP/2 (ALPN h2)', null));
}

function onSocketError(this: TLSSocket): void {
  if (!this.destroyed) this.destroy();
}

/**
 * The error a TLS session failed with, as the channel should report it: an
 * {@link UpstreamTlsError} for any failure between TCP connect and the end
 * of the handshake (a server that hangs up mid-handshake included) and for
 * a TLS alert after it (a TLS 1.3 server that requires a client certificate
 * says so only once the client has finished its handshake); other errors
 * (refused connection, the connect timeout `keep`) unchanged.
 */
export function tlsSessionError(conn: TlsConnection, err: Error, keep: Error | null): Error {
  if (err === keep || err instanceof UpstreamTlsError) return err;
  const reason = tlsFailureReason(err);
  if (reason !== null) return new UpstreamTlsError(reason, err);
  if (conn.tcp && !conn.secure) return new UpstreamTlsError('the upstream closed the connection during the TLS handshake', err);
  return err;
}
