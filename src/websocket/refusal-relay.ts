/**
 * An upstream's answer to the handshake, passed to the client: the 101's
 * own headers on the client's 101, and a refusal (any other status) relayed
 * whole, with a bounded body.
 */
import type { IncomingMessage } from 'node:http';
import { ErrorCodes } from '../errors/codes.js';
import { GatewayError } from '../errors/gateway-error.js';
import type { RequestContext } from '../ingress/request-context.js';
import { markFinished, ownHead } from '../response/response-writer.js';
import type { WebSocketSink } from './websocket-terminal.js';

/** Largest body of an upstream's refusal (a non-101 answer) relayed to the client; a bigger one is a 502. */
export const REFUSAL_BODY_LIMIT = 64 * 1024;

/** Response headers of an upstream answer that are not passed to the client (hop-by-hop, framing, the handshake's own). */
const DROP_RESPONSE = new Set([
  'connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'content-length', 'date',
  'sec-websocket-accept', 'sec-websocket-protocol', 'sec-websocket-extensions', 'uwebsockets',
]);

/** The headers of an upstream answer (node's `rawHeaders`) to pass on, as a flat lower-case `[name, value, ...]` list. */
export function relayedHeaders(raw: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i].toLowerCase();
    if (!DROP_RESPONSE.has(name)) out.push(name, raw[i + 1]);
  }
  return out;
}

/**
 * Reads a refusal's body, up to {@link REFUSAL_BODY_LIMIT}; `done` gets it,
 * or null when it was bigger or broke off (called once).
 */
export function readRefusalBody(res: IncomingMessage, done: (body: Buffer | null) => void): void {
  const chunks: Buffer[] = [];
  let size = 0;
  let called = false;
  const finish = (body: Buffer | null): void => { if (!called) { called = true; done(body); } };
  res.on('data', (c: Buffer) => {
    size += c.length;
    if (size > REFUSAL_BODY_LIMIT) { res.destroy(); finish(null); return; }
    chunks.push(c);
  });
  res.on('end', () => finish(Buffer.concat(chunks)));
  res.on('error', () => finish(null));
  res.on('close', () => finish(null));
}

/**
 * Answers the client with the upstream's refusal (status, headers, body)
 * after the responseHead policies, or with a 502 when the body was too big
 * or incomplete (`body` null).
 */
export function answerWithRefusal(sink: WebSocketSink, ctx: RequestContext, status: number, raw: readonly string[], body: Buffer | null): void {
  if (ctx.aborted || ctx.finished) return;
  if (body === null) {
    sink.problem(ctx, new GatewayError(ErrorCodes.UPSTREAM_BAD_RESPONSE,
      `The upstream refused the WebSocket handshake with ${status} and a body over ${REFUSAL_BODY_LIMIT / 1024} KiB (or broke off its answer)`), null, false);
    return;
  }
  const head = ownHead(ctx, status, relayedHeaders(raw));
  const writer = sink.writer;
  writer.headPhase(ctx, head);
  const close = writer.closeAfter(ctx);
  ctx.res.cork(() => writer.endWith(ctx, head, body, close));
  markFinished(ctx);
  sink.complete(ctx);
}
