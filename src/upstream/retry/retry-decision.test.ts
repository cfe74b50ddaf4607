import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer as createTcpServer, type Server as TcpServer } from 'node:net';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { errors, request } from 'undici';
import { parseConfig } from '../../config/load.js';
import { UpstreamTlsError } from '../../errors/tls-failure.js';
import { compileRoute } from '../../router/compiled-route.js';
import { createUpstreamGroup, type UpstreamGroup } from '../upstream-group.js';
import { UpstreamCall } from '../upstream-call.js';
import { setRetryRandom } from './backoff.js';
import { failureReason, failureRetry, planRetry, reasonLabel, retryTarget, statusRetry, type RetryObserver } from './retry-decision.js';
import { compileRetryPolicy, RetryReason } from './retry-policy.js';
import { RetryState, type RetryOwner } from './retry-state.js';

/** Records what the decisions report (the worker's metrics observer in production). */
class Recorder implements RetryObserver {
  readonly retries: string[] = [];
  readonly exhausted: string[] = [];
  upstreamRetry(upstream: string, reason: string): void { this.retries.push(`${upstream}:${reason}`); }
  retryBudgetExhausted(upstream: string): void { this.exhausted.push(upstream); }
}

const noOwner: RetryOwner = { retryTimer() { /* decisions never fire timers */ } };

async function listen(server: Server | TcpServer): Promise<number> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as AddressInfo).port;
}

async function errorOf(url: string): Promise<unknown> {
  try {
    const r = await request(url, { headersTimeout: 5000 });
    await r.body.dump();
  } catch (err) {
    return err;
  }
  assert.fail('expected the request to fail');
}

describe('failureReason classifies real undici failures', () => {
  let resetServer: Server; let garbage: TcpServer; let refusedPort: number;
  before(async () => {
    resetServer = createServer((req) => req.socket.destroy());
    garbage = createTcpServer((s) => s.end('NOT HTTP AT ALL\r\n\r\n'));
    const probe = createServer();
    refusedPort = await listen(probe);
    await new Promise<void>((r) => probe.close(() => r()));
  });
  after(() => { resetServer.close(); garbage.close(); });

  test('refused, reset, timeouts, TLS, malformed, after headers', async () => {
    assert.equal(failureReason(await errorOf(`http://127.0.0.1:${refusedPort}/`), false), RetryReason.Connect);
    const resetPort = await listen(resetServer);
    assert.equal(failureReason(await errorOf(`http://127.0.0.1:${resetPort}/`), false), RetryReason.Reset);
    const garbagePort = await listen(garbage);
    assert.equal(failureReason(await errorOf(`http://127.0.0.1:${garbagePort}/`), false), RetryReason.None, 'a malformed response is not retried');
    assert.equal(failureReason(new errors.ConnectTimeoutError(), false), RetryReason.ConnectTimeout);
    assert.equal(failureReason(new errors.HeadersTimeoutError('per-try'), false), RetryReason.Timeout);
    assert.equal(failureReason(new UpstreamTlsError('certificate verify failed', new Error('x')), false), RetryReason.Connect);
    const wholeRequest = Object.assign(new Error('request deadline exceeded'), { code: 'TURNPIKE_REQUEST_TIMEOUT' });
    assert.equal(failureReason(wholeRequest, false), RetryReason.None, 'the route\'s request timeout ends the sequence');
    assert.equal(failureReason(new errors.SocketError('other side closed'), true), RetryReason.None, 'after the headers: never');
    assert.deepEqual([RetryReason.Connect, RetryReason.ConnectTimeout, RetryReason.Reset, RetryReason.Timeout].map(reasonLabel),
      ['connect-failure', 'connect-failure', 'reset', 'timeout']);
  });
});

describe('planRetry, statusRetry, failureRetry and retryTarget', () => {
  const yaml = (budget: string): string => `
upstreams:
  two: { targets: [ { url: "http://127.0.0.1:1" }, { url: "http://127.0.0.1:2" } ]${budget} }
  one: { targets: [ { url: "http://127.0.0.1:3" } ] }
routes:
  - { name: r, match: { path: /r }, upstream: two, timeout: { request: 1s }, retry: { attempts: 2, on: [ 503, reset ], backoff: { base: 100ms, max: 100ms } } }
  - { name: none, match: { path: /n }, upstream: two }
  - { name: single, match: { path: /s }, upstream: one }
`;
  const groups: UpstreamGroup[] = [];
  after(async () => { setRetryRandom(null); await Promise.all(groups.map((g) => g.close())); });

  function setup(budget = ''): { group: UpstreamGroup; call: (i?: number, upstream?: string) => UpstreamCall } {
    const config = parseConfig(yaml(budget), 'retry.yaml', {});
    const group = createUpstreamGroup(config.upstreams.two);
    const one = createUpstreamGroup(config.upstreams.one);
    groups.push(group, one);
    const call = (i = 0, upstream = 'two'): UpstreamCall => {
      const c = new UpstreamCall(compileRoute(config.routes[i]), upstream === 'two' ? group : one, '/', []);
      c.startMs = performance.now();
      if (config.routes[i].retry !== undefined) c.retry = new RetryState(compileRetryPolicy(config.routes[i].retry!), c, noOwner);
      return c;
    };
    return { group, call };
  }

  test('a retry takes a budget slot, counts, and waits its jittered backoff; the slot comes back when its try ends', () => {
    setRetryRandom(() => 0.5);
    const { group, call } = setup();
    const obs = new Recorder();
    const c = call();
    assert.equal(planRetry(c.retry!, c, 'GET', '503', obs, false), 50, 'half of the 100 ms span');
    assert.equal(c.retry!.retries, 1);
    assert.equal(group.retryBudget.inFlight, 1);
    assert.deepEqual(obs.retries, ['two:503']);
    c.retry!.tryEnded();
    assert.equal(group.retryBudget.inFlight, 0);
    assert.equal(planRetry(c.retry!, c, 'GET', '503', obs, false), 50, 'the second retry: (2^2 - 1) x 100 capped at 100');
    assert.equal(planRetry(c.retry!, c, 'GET', '503', obs, false), -1, 'attempts: 2 used up');
    c.retry!.end();
    assert.equal(group.retryBudget.inFlight, 0);
  });

  test('methods gate retries, except for a try that never connected', () => {
    const { call } = setup();
    const c = call();
    assert.equal(planRetry(c.retry!, c, 'POST', '503', null, false), -1);
    assert.equal(planRetry(c.retry!, c, 'PATCH', 'reset', null, false), -1);
    assert.ok(planRetry(c.retry!, c, 'POST', 'connect-failure', null, true) >= 0, 'nothing was sent: any method');
    c.retry!.end();
  });

  test('a streamed body is never retried', () => {
    const { call } = setup();
    const c = call();
    c.body = Readable.from([Buffer.from('chunk')]);
    assert.equal(planRetry(c.retry!, c, 'PUT', 'connect-failure', null, true), -1);
    c.body = Buffer.from('whole');
    assert.ok(planRetry(c.retry!, c, 'PUT', '503', null, false) >= 0, 'a buffered one is');
    c.retry!.end();
  });

  test('no retry whose backoff would end past the route\'s request timeout', () => {
    setRetryRandom(() => 0.99);
    const { call } = setup();
    const c = call();
    c.startMs = performance.now() - 950; // 50 ms left of 1 s; the wait would be 99 ms
    assert.equal(planRetry(c.retry!, c, 'GET', '503', null, false), -1);
    c.startMs = performance.now() - 800;
    assert.equal(planRetry(c.retry!, c, 'GET', '503', null, false), 99);
    c.retry!.end();
  });

  test('an exhausted budget refuses and is counted; minRetries hold with no load', () => {
    const { group, call } = setup(', retryBudget: { ratio: 50%, minRetries: 1 }');
    const obs = new Recorder();
    const a = call(); const b = call(); const d = call();
    assert.ok(planRetry(a.retry!, a, 'GET', '503', obs, false) >= 0, 'minRetries 1 with nothing active');
    assert.equal(planRetry(b.retry!, b, 'GET', '503', obs, false), -1);
    assert.deepEqual(obs.exhausted, ['two']);
    // Four requests in flight: 50% → 2 retries in flight allowed.
    group.onStart(group.targets[0]); group.onStart(group.targets[0]); group.onStart(group.targets[1]); group.onStart(group.targets[1]);
    assert.equal(group.inflight, 4);
    assert.ok(planRetry(b.retry!, b, 'GET', '503', obs, false) >= 0);
    assert.equal(planRetry(d.retry!, d, 'GET', '503', obs, false), -1);
    a.retry!.end(); b.retry!.end();
    assert.equal(group.retryBudget.inFlight, 0);
    for (const t of [0, 0, 1, 1]) group.onFinish(group.targets[t]);
    assert.equal(group.inflight, 0);
  });

  test('statusRetry drops only listed statuses; failureRetry honours on, and builds the legacy state on demand', () => {
    setRetryRandom(() => 0);
    const { group, call } = setup();
    const c = call();
    assert.equal(statusRetry(c.retry!, c, 'GET', 500, null), -1, '500 is not listed');
    assert.equal(statusRetry(c.retry!, c, 'GET', 503, null), 0);
    assert.match(String((c.retry!.lastError as Error).message), /No healthy target left in upstream "two" to retry a 503/);
    assert.equal(failureRetry(c, 'GET', new errors.HeadersTimeoutError(), 'timeout', noOwner, null), -1, 'timeout is not listed');
    assert.equal(group.retryBudget.inFlight, 0, 'the try that timed out gave its slot back');
    assert.equal(failureRetry(c, 'GET', new errors.SocketError('other side closed'), 'reset', noOwner, null), 0);
    c.retry!.end();
    // A route without retry: the legacy retry, for any method, on a refused connection only.
    const refused = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    const n = call(1);
    assert.equal(n.retry, null);
    assert.equal(failureRetry(n, 'POST', new errors.SocketError('reset'), 'reset', noOwner, null), -1);
    assert.equal(n.retry, null, 'no state made for a failure the legacy retry ignores');
    assert.equal(failureRetry(n, 'POST', refused, 'connect', noOwner, null), 0);
    assert.equal(n.retry!.policy.legacy, true);
    assert.equal(failureRetry(n, 'POST', refused, 'connect', noOwner, null), -1, 'once');
    n.retry!.end();
    const s = call(2, 'one');
    assert.equal(failureRetry(s, 'GET', refused, 'connect', noOwner, null), -1, 'one target: nowhere else to go');
    assert.equal(s.retry, null);
  });

  test('retryTarget prefers another target; the legacy retry goes nowhere else', () => {
    const { group, call } = setup();
    const c = call();
    c.triedTarget = group.pick();
    for (let i = 0; i < 5; i++) assert.notEqual(retryTarget(c), c.triedTarget);
    const n = call(1);
    failureRetry(n, 'GET', Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }), 'connect', noOwner, null);
    n.triedTarget = group.targets[0];
    group.targets[1].ejectedUntil = Date.now() + 60_000;
    assert.equal(retryTarget(n), null, 'only the tried target is left');
    c.triedTarget = group.targets[0];
    assert.equal(retryTarget(c), group.targets[0], 'a policy retry goes back to it rather than nowhere');
    group.targets[1].ejectedUntil = 0;
    c.retry!.end(); n.retry!.end();
  });
});
