/**
 * The upstream half of a WebSocket upgrade: one handshake with a target of
 * the route's upstream (ws library client, the upstream's TLS settings for
 * wss://), the route's connect and headers timeouts, one retry on another
 * target when the connection could not be made, and then either the client's
 * upgrade (the upstream accepted) or an HTTP answer: the upstream's own
 * refusal relayed, or a problem+json 502/503/504.
 */
import type { ClientRequest, IncomingMessage, OutgoingHttpHeaders } from 'node:http';
import type { Socket } from 'node:net';
import { WebSocket as WsClient, type ClientOptions } from 'ws';
import { ErrorCodes } from '../errors/codes.js';
import { GatewayError } from '../errors/gateway-error.js';
import { failureKind, mapUpstreamError } from '../errors/map-error.js';
import { noTargetError } from '../upstream/no-target.js';
import type { RequestContext } from '../ingress/request-context.js';
import { markFinished, ownHead, writeHead } from '../response/response-writer.js';
import type { Target } from '../upstream/target.js';
import type { UpstreamGroup } from '../upstream/upstream-group.js';
import { nonZeroMask } from './frame-mask.js';
import { upstreamWebSocketUrl } from './handshake.js';
import { answerWithRefusal, readRefusalBody, relayedHeaders } from './refusal-relay.js';
import { Tunnel, type ClientData, type TunnelRoute } from './tunnel.js';
import type { WebSocketSink } from './websocket-terminal.js';
import type { WebSocketProxy } from './websocket-proxy.js';

/** How long the ws library waits for the upstream's answering close frame before dropping the connection. */
const CLOSE_TIMEOUT_MS = 5000;

/** What a handshake needs from the request, resolved by the terminal. */
export interface HandshakePlan {
  readonly route: TunnelRoute;
  readonly group: UpstreamGroup;
  readonly path: string;
  readonly headers: OutgoingHttpHeaders;
  readonly protocols: string[];
  readonly hashKey: string;
  readonly connectMs: number;
  readonly headersMs: number;
}

/** One client's upgrade in progress (at most two attempts). */
export class UpstreamHandshake {
  private ws: WsClient | null = null;
  private target: Target | null = null;
  private tried: Target | null = null;
  private attempts = 0;
  private timer: NodeJS.Timeout | null = null;
  private timedOut = false;
  /** The upstream answered (101 or not): a failure now is its answer's fault. */
  private answered = false;
  /** The outcome is decided (upgraded, answered, or the client left). */
  private done = false;
  private upgradeHead: string[] = [];
  /** The subprotocol the upstream selected ('' = none). */
  private subprotocol = '';

  constructor(
    private readonly owner: WebSocketProxy, private readonly sink: WebSocketSink, private readonly ctx: RequestContext,
    private readonly plan: HandshakePlan,
  ) {
    ctx.abortHook = () => this.clientLeft();
  }

  /** Picks a target and starts the handshake (`retryOf`: the previous attempt's error). */
  attempt(retryOf: unknown): void {
    const group = this.plan.group;
    const target = group.pick(this.plan.hashKey);
    if (target === null || (retryOf !== null && target === this.tried)) {
      this.fail(retryOf !== null ? mapUpstreamError(retryOf)
        : noTargetError(group));
      return;
    }
    this.attempts++;
    this.tried = target;
    this.target = target;
    this.timedOut = false;
    this.answered = false;
    group.onStart(target);
    let ws: WsClient;
    try {
      ws = new WsClient(upstreamWebSocketUrl(target.url, this.plan.path), this.plan.protocols, this.options(target));
    } catch {
      // node:http refuses a header value it cannot send (e.g. a character above U+00FF).
      this.release();
      this.fail(new GatewayError(ErrorCodes.BAD_REQUEST, 'The handshake cannot be forwarded (invalid header value)'));
      return;
    }
    this.ws = ws;
    ws.on('upgrade', (res: IncomingMessage) => this.upgraded(res));
    ws.on('open', () => this.opened(ws));
    ws.on('unexpected-response', (req: ClientRequest, res: IncomingMessage) => this.refused(ws, req, res));
    ws.on('error', (err: Error) => this.errored(ws, err));
    ws.on('close', () => this.closedEarly(ws));
    this.arm(this.plan.connectMs);
  }

  private options(target: Target): ClientOptions {
    const o: ClientOptions = {
      headers: this.plan.headers,
      perMessageDeflate: false,
      autoPong: false,
      followRedirects: false,
      maxPayload: this.plan.route.maxPayloadBytes,
      generateMask: nonZeroMask,
      closeTimeout: CLOSE_TIMEOUT_MS,
      finishRequest: (req: ClientRequest) => {
        req.on('socket', (s: Socket) => s.once(target.tls === null ? 'connect' : 'secureConnect', () => this.connected()));
        req.end();
      },
    } as ClientOptions;
    const tls = target.tls;
    if (tls !== null) {
      // The upstream's context (trust, client certificate, minimum version); always verified. ws passes
      // these to tls.connect; without a configured serverName it sends the host's name as SNI (none for an IP).
      Object.assign(o, { secureContext: tls.secureContext, rejectUnauthorized: true },
        tls.servername === undefined ? {} : { servername: tls.servername });
    }
    return o;
  }

  /** TCP (and TLS) up: the route's headers timeout now runs for the upstream's answer. */
  private connected(): void {
    if (!this.done && !this.answered) this.arm(this.plan.headersMs);
  }

  private arm(ms: number): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = ms > 0 ? setTimeout(() => this.timeout(), ms) : null;
  }

  private disarm(): void {
    if (this.timer !== null) { clearTimeout(this.timer); this.timer = null; }
  }

  private timeout(): void {
    this.timer = null;
    if (this.done || this.ws === null) return;
    this.timedOut = true;
    this.ws.terminate(); // emits 'error' (handled as a timeout)
  }

  /** The upstream answered 101 (ws checks it next and emits 'open' or 'error'). */
  private upgraded(res: IncomingMessage): void {
    this.answered = true;
    this.disarm();
    const selected = res.headers['sec-websocket-protocol'];
    this.subprotocol = typeof selected === 'string' ? selected : '';
    // why: an upstream may accept none of the offered subprotocols (RFC 6455
    // §4.2.2: the header is then absent, and it is the end client's call
    // whether to go on). The ws library fails such a handshake itself; it
    // reads this header object (cached on the response) right after this
    // event, so the first offer stands in for its check, and the client gets
    // the upstream's real answer (none) from `subprotocol`.
    if (selected === undefined && this.plan.protocols.length > 0) res.headers['sec-websocket-protocol'] = this.plan.protocols[0];
    this.upgradeHead = relayedHeaders(res.rawHeaders);
  }

  /** The upstream accepted: upgrade the client with the negotiated subprotocol, and start relaying. */
  private opened(ws: WsClient): void {
    this.disarm();
    const ctx = this.ctx;
    if (this.done) { ws.terminate(); return; }
    if (ctx.aborted || ctx.finished) { this.clientLeft(); return; }
    this.done = true;
    ctx.abortHook = null;
    ws.removeAllListeners();
    const target = this.target!;
    this.plan.group.reportSuccess(target, 101);
    const tunnel = new Tunnel(this.plan.route, ws, this.plan.group, target, this.owner);
    this.owner.adopt(tunnel);
    const head = ownHead(ctx, 101, this.upgradeHead);
    this.sink.writer.headPhase(ctx, head);
    const res = ctx.res;
    // Known: uWS 20.57's cork() may close a socket upgrade() reallocated in
    // place (1006 at once; uWebSockets fe7c01a fixes it). Upgrading outside a
    // cork avoids that but prints a uWS.js warning per upgrade; kept until a
    // uWS.js build with the fix is available.
    try {
      res.cork(() => {
        writeHead(ctx, head);
        res.upgrade<ClientData>({ tunnel }, ctx.header('sec-websocket-key'), this.subprotocol, '', ctx.wsContext!);
      });
    } catch {
      // uWS refused the upgrade (never expected: the socket is open, or onAborted would have run).
    }
    // uWS opened the client leg inside upgrade(); if it did not, the upstream leg has no client.
    if (tunnel.client === null) tunnel.abandon();
    markFinished(ctx);
    this.sink.complete(ctx);
  }

  /** The upstream answered something other than 101: relay its answer (body bounded, within the headers timeout). */
  private refused(ws: WsClient, req: ClientRequest, res: IncomingMessage): void {
    this.answered = true;
    this.disarm();
    if (this.done) { req.destroy(); return; }
    const status = res.statusCode ?? 502;
    this.plan.group.reportSuccess(this.target!, status);
    if (status >= 500) this.owner.upstreamError(this.plan.group.name, '5xx');
    readRefusalBody(res, (body) => {
      if (this.done) return;
      this.done = true;
      this.disarm();
      ws.removeAllListeners();
      ws.on('error', ignore);
      ws.terminate();
      this.release();
      this.ctx.abortHook = null;
      answerWithRefusal(this.sink, this.ctx, status, res.rawHeaders, body);
    });
    this.arm(this.plan.headersMs);
  }

  /** The handshake failed before the upstream accepted (connect, TLS, timeout, or an invalid 101). */
  private errored(ws: WsClient, err: Error): void {
    if (this.done || ws !== this.ws) return;
    this.disarm();
    const target = this.target!;
    this.release();
    const name = this.plan.group.name;
    if (this.timedOut) {
      this.plan.group.reportFailure(target, 'timeout');
      this.owner.upstreamError(name, 'timeout');
      this.fail(new GatewayError(ErrorCodes.UPSTREAM_TIMEOUT, this.answered ? 'The upstream did not finish its answer in time'
        : 'The upstream did not complete the WebSocket handshake in time'));
      return;
    }
    if (this.answered) {
      this.owner.upstreamError(name, 'bad_response');
      this.fail(new GatewayError(ErrorCodes.UPSTREAM_BAD_RESPONSE, `The upstream's WebSocket handshake answer is invalid (${err.message})`));
      return;
    }
    const kind = failureKind(err);
    if (kind === 'connect' || kind === 'tls') this.plan.group.reportFailure(target, kind);
    this.owner.upstreamError(name, kind);
    if ((kind === 'connect' || kind === 'tls') && this.attempts < 2 && this.plan.group.targets.length > 1 && !this.ctx.aborted) {
      this.ws = null;
      this.attempt(err);
      return;
    }
    this.fail(mapUpstreamError(err));
  }

  /** A close before the handshake ended without an error (not expected from ws; handled as a lost connection). */
  private closedEarly(ws: WsClient): void {
    if (this.done || ws !== this.ws) return;
    this.errored(ws, Object.assign(new Error('the upstream closed the connection during the handshake'), { code: 'ECONNRESET' }));
  }

  /** Answers the client with a problem (unless it left). */
  private fail(err: GatewayError): void {
    this.done = true;
    this.disarm();
    this.ctx.abortHook = null;
    this.sink.problem(this.ctx, err, null, false);
  }

  /** The attempt's target is no longer in use. */
  private release(): void {
    if (this.target !== null) { this.plan.group.onFinish(this.target); this.target = null; }
  }

  /** The client went away during the handshake: drop the upstream attempt. */
  private clientLeft(): void {
    if (this.done) return;
    this.done = true;
    this.disarm();
    const ws = this.ws;
    if (ws !== null) {
      ws.removeAllListeners();
      ws.on('error', ignore);
      ws.terminate();
    }
    this.release();
  }
}

function ignore(): void {}
