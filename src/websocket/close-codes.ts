/**
 * Close codes (RFC 6455 §7.4) between the two legs of a proxied WebSocket:
 * what one side's close becomes on the other, and the codes the gateway
 * sends when it ends a connection itself. Pure functions, unit-tested.
 */

/** Codes the gateway sends itself. */
export const CloseCode = {
  NORMAL: 1000,
  GOING_AWAY: 1001,
  PROTOCOL_ERROR: 1002,
  MESSAGE_TOO_BIG: 1009,
  INTERNAL_ERROR: 1011,
  TRY_AGAIN_LATER: 1013,
  BAD_GATEWAY: 1014,
} as const;

/** No status code in the close frame (reported, never sent). */
export const NO_STATUS = 1005;
/** The connection ended without a close frame (reported, never sent). */
export const ABNORMAL = 1006;
/** TLS handshake failure (reported, never sent). */
export const TLS_FAILURE = 1015;

/**
 * Whether `code` may be sent in a close frame (RFC 6455 §7.4.1 and the IANA
 * registry): 1000-1003, 1007-1014 and 3000-4999. 1004 is reserved, 1005,
 * 1006 and 1015 only report what happened.
 */
export function isSendableCloseCode(code: number): boolean {
  return (code >= 1000 && code <= 1014 && code !== 1004 && code !== 1005 && code !== 1006) || (code >= 3000 && code <= 4999);
}

/**
 * A close to pass on: the code to send (0 = a close frame without a code, as
 * the peer sent it) and the reason (the peer's, ≤ 123 bytes, or the
 * gateway's own).
 */
export interface ForwardedClose {
  readonly code: number;
  readonly reason: string;
}

/** The reason text the gateway gives when the client's connection ended without a close frame. */
export const CLIENT_LOST_REASON = 'client connection lost';

/**
 * What the upstream gets when the client side closed with `code` (as uWS
 * reports it: the client's code, 1005 for an empty close frame, 1006 with
 * uWS's own reason when the connection ended otherwise: TCP reset or FIN, a
 * message over the listener's limit, an invalid close frame).
 *
 * - a sendable code: the same code and reason;
 * - 1005 (no status): an empty close frame (code 0), i.e. the same;
 * - 1006 / 1015 / anything else: 1001 Going Away, with uWS's reason when it
 *   gave one (e.g. `Received too big message`), else `client connection lost`.
 */
export function closeForUpstream(code: number, reason: string): ForwardedClose {
  if (isSendableCloseCode(code)) return { code, reason };
  if (code === NO_STATUS) return { code: 0, reason: '' };
  return { code: CloseCode.GOING_AWAY, reason: reason !== '' ? reason : CLIENT_LOST_REASON };
}

/** Why the upstream connection failed, as far as the client's close code goes. */
export type UpstreamFailure = 'none' | 'lost' | 'protocol' | 'too-big';

/**
 * What the client gets when the upstream side closed with `code` (as the ws
 * library reports it: 1005 for an empty close frame, 1006 when the
 * connection ended without one) after `failure`:
 *
 * - a sendable code (the upstream's close frame): the same code and reason;
 * - 1005 (its close frame had no code): an empty close frame (code 0);
 * - the upstream broke the protocol (invalid frame, invalid UTF-8, bad close
 *   code): 1014 Bad Gateway, `upstream sent an invalid frame`;
 * - a message from the upstream over the route's maxPayload: 1009;
 * - otherwise (1006: TCP reset, FIN without a close frame, socket error;
 *   1015): 1011 Internal Error, `upstream connection lost`.
 */
export function closeForClient(code: number, reason: string, failure: UpstreamFailure): ForwardedClose {
  if (failure === 'protocol') return { code: CloseCode.BAD_GATEWAY, reason: 'upstream sent an invalid frame' };
  if (failure === 'too-big') return { code: CloseCode.MESSAGE_TOO_BIG, reason: 'upstream message over maxPayload' };
  if (isSendableCloseCode(code)) return { code, reason };
  if (code === NO_STATUS) return { code: 0, reason: '' };
  return { code: CloseCode.INTERNAL_ERROR, reason: 'upstream connection lost' };
}

/**
 * Classifies an error the ws library reported on the upstream connection:
 * `WS_ERR_UNSUPPORTED_MESSAGE_LENGTH` (over maxPayload) is `too-big`, any
 * other `WS_ERR_*` (a frame the upstream should not have sent) `protocol`,
 * anything else (socket errors) `lost`.
 */
export function upstreamFailure(err: unknown): UpstreamFailure {
  const code = typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined;
  if (code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') return 'too-big';
  if (typeof code === 'string' && code.startsWith('WS_ERR_')) return 'protocol';
  return 'lost';
}
