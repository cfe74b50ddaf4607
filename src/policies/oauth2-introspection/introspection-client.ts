/**
 * The HTTP side of token introspection (RFC 7662 §2): one keep-alive undici
 * Pool to the endpoint's origin; each call POSTs the token as a form with
 * the client's credentials, bounded in time (the whole call, body included)
 * and in response size, and never throws: every failure is a value.
 */
import type { Readable } from 'node:stream';
import { rootCertificates } from 'node:tls';
import { Pool } from 'undici';
import { formEncode, MAX_RESPONSE_BYTES, type IntrospectionSettings } from './settings.js';

/** Why a call produced no usable answer (metrics label and log field). */
export type CallFailure = 'timeout' | 'unreachable' | 'http_status' | 'bad_response';

/** What one call produced: the endpoint's JSON object, or why there is none. */
export type CallResult =
  | { readonly ok: true; readonly body: Record<string, unknown> }
  | { readonly ok: false; readonly failure: CallFailure; readonly status: number; readonly detail: string };

/** Posts tokens to one introspection endpoint. */
export class IntrospectionClient {
  private readonly pool: Pool;
  private readonly path: string;
  private readonly headers: Record<string, string>;

  constructor(private readonly settings: IntrospectionSettings) {
    const url = settings.url;
    this.path = url.pathname + url.search;
    this.headers = {
      'content-type': 'application/x-www-form-urlencoded',
      accept: 'application/json',
      ...(settings.authorization === null ? {} : { authorization: settings.authorization }),
    };
    this.pool = new Pool(url.origin, {
      connections: settings.maxInFlight,
      headersTimeout: settings.timeoutMs,
      bodyTimeout: settings.timeoutMs,
      connect: {
        timeout: settings.timeoutMs,
        // why: a `ca` option replaces node's store; the configured CA is trusted in addition to it.
        ...(settings.ca === null ? {} : { ca: [...rootCertificates, settings.ca] }),
      },
    });
  }

  /** Introspects one token; resolves within about `timeout` whatever the endpoint does. */
  async introspect(token: string): Promise<CallResult> {
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), this.settings.timeoutMs);
    try {
      const res = await this.pool.request({
        path: this.path,
        method: 'POST',
        headers: this.headers,
        body: 'token=' + formEncode(token) + this.settings.formTail,
        signal: abort.signal,
      });
      if (res.statusCode !== 200) {
        discard(res.body);
        const who = res.statusCode === 401 || res.statusCode === 403 ? ' (it refused the gateway\'s clientId/clientSecret)' : '';
        return failed('http_status', res.statusCode, 'the endpoint answered ' + res.statusCode + who);
      }
      const declared = Number(res.headers['content-length'] ?? -1);
      if (declared > MAX_RESPONSE_BYTES) {
        discard(res.body);
        return failed('bad_response', 200, 'response larger than ' + MAX_RESPONSE_BYTES + ' bytes');
      }
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of res.body) {
        size += (chunk as Buffer).length;
        if (size > MAX_RESPONSE_BYTES) {
          discard(res.body);
          return failed('bad_response', 200, 'response larger than ' + MAX_RESPONSE_BYTES + ' bytes');
        }
        chunks.push(chunk as Buffer);
      }
      let parsed: unknown;
      try {
        parsed = JSON.parse(Buffer.concat(chunks, size).toString('utf8'));
      } catch {
        return failed('bad_response', 200, 'response is not JSON');
      }
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return failed('bad_response', 200, 'response is not a JSON object');
      return { ok: true, body: parsed as Record<string, unknown> };
    } catch (err) {
      if (abort.signal.aborted) return failed('timeout', 0, 'no answer within ' + this.settings.timeoutMs + ' ms');
      const e = err as { code?: string; message?: string };
      if (e.code === 'UND_ERR_HEADERS_TIMEOUT' || e.code === 'UND_ERR_BODY_TIMEOUT' || e.code === 'UND_ERR_CONNECT_TIMEOUT') {
        return failed('timeout', 0, 'no answer within ' + this.settings.timeoutMs + ' ms');
      }
      return failed('unreachable', 0, e.code ?? e.message ?? String(err));
    } finally {
      clearTimeout(timer);
    }
  }

  /** Closes the pool (worker drain); calls in flight are aborted. */
  async close(): Promise<void> {
    await this.pool.destroy().catch(() => undefined);
  }
}

function ignore(): void {}

/** Drops a response body: undici's body reports a destroy before its end as an error, which nobody needs. */
function discard(body: Readable): void {
  body.on('error', ignore);
  body.destroy();
}

function failed(failure: CallFailure, status: number, detail: string): CallResult {
  return { ok: false, failure, status, detail };
}
