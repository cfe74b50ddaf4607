// Access policies on the WebSocket handshake (the same access phase as any
// request): a JWT-protected upgrade, API keys with the consumer's identity
// passed upstream, IP rules and rate limits; refusals are problem+json and
// nothing reaches the upstream.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { GatewayWorker } from '../../src/ingress/contract.js';
import { startWorker } from '../../src/ingress/gateway-worker.js';
import { hmacToken } from '../../src/policies/jwt/test-support.js';
import { configFromYaml } from './helpers.js';
import { bearer, claims, ISS, SECRET } from './jwt-helpers.js';
import { messages, openClient, refusal, startWsUpstream, type WsUpstream } from './websocket-helpers.js';

const API_KEY = 'ws-e2e-key-4b1d9c7a2f';
const sha = (key: string): string => createHash('sha256').update(key).digest('hex');

describe('WebSocket proxying: access policies run on the upgrade request', () => {
  let up: WsUpstream;
  let gw: GatewayWorker;
  let base = '';

  before(async () => {
    process.env.TP_WS_JWT_SECRET = SECRET;
    up = await startWsUpstream();
    gw = await startWorker(configFromYaml(`server: { workers: 1 }
upstreams:
  up: { targets: [ { url: "${up.url}" } ] }
consumers:
  - { id: acme, username: acme-corp, groups: [ partners ], keys: [ { sha256: "${sha(API_KEY)}" } ] }
policies:
  token:
    jwt:
      issuer: ${ISS}
      audiences: [ orders-api ]
      algorithms: [ HS256 ]
      keys: [ { secret: "env:TP_WS_JWT_SECRET", alg: HS256 } ]
      from: [ "header:authorization:Bearer", "query:access_token" ]
      consumerClaim: sub
      claimsToHeaders: { x-tenant: tenant }
  keys: { key-auth: { header: x-api-key } }
  nobody: { ip-restriction: { deny: [ 127.0.0.0/8 ] } }
  two: { rate-limit: { key: ip, limit: 2, window: 1m } }
routes:
  - { name: jwt, match: { path: /jwt }, upstream: up, websocket: true, policies: [ token ] }
  - { name: keyed, match: { path: /keyed }, upstream: up, websocket: true, policies: [ keys ] }
  - { name: denied, match: { path: /denied }, upstream: up, websocket: true, policies: [ nobody ] }
  - { name: limited, match: { path: /limited }, upstream: up, websocket: true, policies: [ two ] }
`));
    base = `ws://127.0.0.1:${gw.port}`;
  });

  after(async () => {
    await gw.drain(500);
    await up.close();
  });

  test('JWT: no token and a forged token are refused with 401 before any upstream connection; a valid one upgrades', async () => {
    const before = up.conns.length;
    const missing = await refusal(`${base}/jwt`);
    assert.equal(missing.status, 401);
    assert.equal(missing.headers['content-type'], 'application/problem+json');
    assert.equal(missing.json.code, 'unauthorized');
    assert.match(String(missing.headers['www-authenticate']), /^Bearer realm="turnpike"/);
    const forged = await refusal(`${base}/jwt`, [], { headers: bearer(hmacToken('not-the-secret-but-long-enough-to-sign-with', claims())) });
    assert.equal(forged.status, 401);
    assert.equal(forged.json.code, 'invalid_token');
    const expired = await refusal(`${base}/jwt`, [], { headers: bearer(hmacToken(SECRET, claims({ exp: Math.floor(Date.now() / 1000) - 3600 }))) });
    assert.equal(expired.json.reason, 'expired');
    assert.equal(up.conns.length, before, 'no refused handshake reached the upstream');

    const { ws } = await openClient(`${base}/jwt`, [], { headers: { ...bearer(hmacToken(SECRET, claims())), 'x-tenant': 'spoofed' } });
    const conn = up.latest();
    assert.equal(conn.headers['x-consumer-id'], 'alice', 'the identity the policy established goes upstream');
    assert.equal(conn.headers['x-tenant'], 't-1', 'claims mapped to headers replace what the client sent');
    ws.send('authorised');
    assert.equal((await messages(ws, 1))[0].data.toString(), 'authorised');
    ws.close();
  });

  test('JWT from the query (what a browser WebSocket can send)', async () => {
    const { ws } = await openClient(`${base}/jwt?access_token=${hmacToken(SECRET, claims())}`);
    assert.equal(up.latest().headers['x-consumer-id'], 'alice');
    ws.close();
  });

  test('API key: refused without or with a wrong key; the consumer goes upstream, spoofed identity does not', async () => {
    assert.equal((await refusal(`${base}/keyed`)).json.code, 'unauthorized');
    assert.equal((await refusal(`${base}/keyed`, [], { headers: { 'x-api-key': 'wrong' } })).json.code, 'invalid_api_key');
    const { ws } = await openClient(`${base}/keyed`, [], { headers: { 'x-api-key': API_KEY, 'x-consumer-groups': 'admins' } });
    const h = up.latest().headers;
    assert.equal(h['x-consumer-id'], 'acme');
    assert.equal(h['x-consumer-username'], 'acme-corp');
    assert.equal(h['x-consumer-groups'], 'partners');
    ws.close();
  });

  test('IP rules: a denied client gets 403 ip_forbidden', async () => {
    const r = await refusal(`${base}/denied`);
    assert.equal(r.status, 403);
    assert.equal(r.json.code, 'ip_forbidden');
  });

  test('rate limits count upgrades: the third within the window is 429 with Retry-After', async () => {
    const a = await openClient(`${base}/limited`);
    const b = await openClient(`${base}/limited`);
    const third = await refusal(`${base}/limited`);
    assert.equal(third.status, 429);
    assert.equal(third.json.code, 'rate_limited');
    assert.ok(Number(third.headers['retry-after']) > 0);
    a.ws.close();
    b.ws.close();
  });
});
