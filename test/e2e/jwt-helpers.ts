/**
 * Helpers of the jwt end-to-end tests (policy-jwt*.test.ts): requests,
 * tokens, config snippets, refusal checks, and the attack table the tests
 * fill and print (case, status, code, reason).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { b64url, epoch } from '../../src/policies/jwt/test-support.js';
import { nodeRequest, type TestGateway } from './helpers.js';

export const ISS = 'https://id.example.com/';
export const SECRET = 'an-e2e-hmac-secret-of-more-than-32-bytes';

export interface Reply { status: number; headers: IncomingHttpHeaders; body: string; json: Record<string, unknown> | null }

export async function get(gw: TestGateway, path: string, headers: Record<string, string> = {}): Promise<Reply> {
  const r = await nodeRequest(gw.port, path, headers);
  const json = /json/.test(String(r.headers['content-type'])) ? JSON.parse(r.body) as Record<string, unknown> : null;
  return { ...r, json };
}

export function bearer(token: string): Record<string, string> {
  return { authorization: 'Bearer ' + token };
}

/** What the echo upstream received (its JSON echo). */
export function upstreamHeaders(r: Reply): Record<string, string> {
  assert.equal(r.status, 200, r.body);
  return (r.json as { headers: Record<string, string> }).headers;
}

export function claims(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { iss: ISS, aud: 'orders-api', sub: 'alice', exp: epoch(300), groups: ['admins', 'ops'], tenant: 't-1', ...extra };
}

/** The attack table of the report: case, status, code, reason. */
export const table: string[][] = [];

export function record(name: string, r: Reply): Reply {
  table.push([name, String(r.status), String(r.json?.code ?? '-'), String(r.json?.reason ?? '-')]);
  return r;
}

export function assertRefused(r: Reply, status: number, code: string, reason?: string): void {
  assert.equal(r.status, status, r.body);
  assert.equal(r.headers['content-type'], 'application/problem+json');
  assert.equal(r.json?.code, code, r.body);
  if (reason !== undefined) {
    assert.equal(r.json?.reason, reason, r.body);
    assert.equal(r.headers['www-authenticate'], `Bearer realm="turnpike", error="invalid_token", error_description="${reason}"`);
  }
  assert.doesNotMatch(r.body, /ERR_|jose|at \w+ \(/, 'no library message or stack');
}

/** A hand-made token with header `h` and a junk signature (never reaches a signature check). */
export function junkToken(h: Record<string, unknown>): string {
  return b64url(h) + '.' + b64url(claims()) + '.' + randomBytes(32).toString('base64url');
}

export function yamlFor(upstream: string, policies: string, routes: string): string {
  return `server: { workers: 1, logLevel: error }
upstreams:
  up: { targets: [ { url: "${upstream}" } ] }
policies:
${policies}
routes:
${routes}`;
}

export function jwks(url: string, extra = ''): string {
  return `{ url: "${url}", cacheTtl: 10m, cooldown: 30s, timeout: 1s, maxStale: 1h${extra} }`;
}

/** Prints the attack table collected so far (as a markdown table). */
export function printTable(): void {
  if (table.length > 0) console.log('\n| case | status | code | reason |\n|---|---|---|---|\n' + table.map((r) => '| ' + r.join(' | ') + ' |').join('\n'));
}
