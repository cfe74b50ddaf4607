import { after, test } from 'node:test';
import { DEFAULT_ACCESS_LOG_FIELDS, DEFAULT_REDACT_QUERY } from './log-config.js';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ConfigError, DEFAULTS, ENV_VARS, loadConfig, parseConfig, resolveConfigPath } from './index.js';
import { configError } from './config-test-support.js';
import type { GatewayConfig, UpstreamConfig } from './types.js';

const dir = mkdtempSync(join(tmpdir(), 'turnpike-config-'));
after(() => rmSync(dir, { recursive: true, force: true }));


function fixture(name: string, text: string): string {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

const FULL = `server:
  host: 127.0.0.2
  port: 8081
  workers: 3
  maxBodySize: 1mb
  maxHeaderSize: 8192
  workerHeap: 128mb
  gracePeriod: 1m
  trustedProxies: [10.0.0.0/8, "::1"]
  bufferBodySize: 32kb
  logLevel: debug
admin: { host: 0.0.0.0, port: 9000 }
upstreams:
  users:
    targets:
      - { url: "http://127.0.0.1:3001", weight: 3 }
      - url: http://127.0.0.1:3002/
    balance: hash
    hashOn: header:X-User-Id
    healthCheck: { path: /health, interval: 5s, timeout: 500ms, healthyThreshold: 2, unhealthyThreshold: 3, expectStatus: 204 }
    passiveHealth: { consecutiveFailures: 0, ejectTime: 10s, count5xx: false }
    connections: 16
    keepAliveTimeout: 4s
    protocol: http
  orders-v1: { targets: [ { url: "https://Orders.Example.com:443" } ] }
  orders-v2:
    targets: [ { url: "http://[::1]:3003" } ]
    balance: least-request
    healthCheck: { path: /ready, expectStatus: "200-299" }
routes:
  - name: get-user
    match: { path: /users/:id, methods: [get, Post], host: API.example.com, headers: { X-Client: mobile }, query: { beta: "1" } }
    upstream: users
    rewrite: /v1/users/:id
    preserveHost: true
    timeout: 2s
  - name: orders-canary
    match: { path: /orders/*, host: "*.example.com" }
    split: [ { upstream: orders-v1, weight: 90 }, { upstream: orders-v2, weight: 10 } ]
    sticky: header:X-User-Id
    rewrite: /api/orders/*
    timeout: { connect: 1s, request: 0 }
  - match: { path: /api/* }
    upstream: users
    stripPrefix: /api
    timeout: 10s
`;

const passive = { consecutiveFailures: 5, ejectMs: 30_000, count5xx: true };
const defaultTimeouts = { connectMs: 5000, headersMs: 30_000, requestMs: 60_000 };

function upstream(name: string, over: Partial<UpstreamConfig>): UpstreamConfig {
  return {
    name, targets: [], balance: 'round-robin', hashOn: 'ip', healthCheck: null, passiveHealth: passive,
    connections: 128, keepAliveTimeoutMs: 60_000, protocol: 'http', tls: null,
    panicThresholdPercent: 50, circuitBreaker: null, limits: null, ...over,
  };
}

test('a full config normalises exactly', () => {
  const file = fixture('full.yaml', FULL);
  const expected: GatewayConfig = {
    server: {
      host: '127.0.0.2', port: 8081, workers: 3, maxBodyBytes: 1024 * 1024, maxHeaderBytes: 8192, workerHeapBytes: 128 * 1024 * 1024, gracePeriodMs: 60_000,
      trustedProxies: ['10.0.0.0/8', '::1'], bufferBodyBytes: 32 * 1024, maxBodyBacklogBytes: 64 * 1024 * 1024, logLevel: 'debug', tls: null, redirectHttp: null,
    },
    admin: { host: '0.0.0.0', port: 9000, tokenSha256: null },
    upstreams: {
      users: upstream('users', {
        targets: [{ url: 'http://127.0.0.1:3001', weight: 3 }, { url: 'http://127.0.0.1:3002', weight: 1 }],
        balance: 'hash', hashOn: 'header:x-user-id',
        healthCheck: { path: '/health', intervalMs: 5000, timeoutMs: 500, healthyThreshold: 2, unhealthyThreshold: 3, expectStatus: [204, 204] },
        passiveHealth: { consecutiveFailures: 0, ejectMs: 10_000, count5xx: false },
        connections: 16, keepAliveTimeoutMs: 4000,
      }),
      'orders-v1': upstream('orders-v1', {
        targets: [{ url: 'https://orders.example.com', weight: 1 }],
        tls: { ca: null, cert: null, key: null, passphrase: null, serverName: null, minVersion: 'TLSv1.2' },
      }),
      'orders-v2': upstream('orders-v2', {
        targets: [{ url: 'http://[::1]:3003', weight: 1 }], balance: 'least-request',
        healthCheck: { path: '/ready', intervalMs: 10_000, timeoutMs: 2000, healthyThreshold: 1, unhealthyThreshold: 2, expectStatus: [200, 299] },
      }),
    },
    routes: [
      {
        name: 'get-user', index: 0,
        match: { path: '/users/:id', methods: ['GET', 'POST'], host: 'api.example.com', headers: { 'x-client': 'mobile' }, query: { beta: '1' } },
        upstream: 'users', split: null, sticky: null, rewrite: '/v1/users/:id', stripPrefix: null, preserveHost: true,
        timeout: { connectMs: 2000, headersMs: 2000, requestMs: 2000 }, rateLimit: [], policies: [], maxBodyBytes: null,
      },
      {
        name: 'orders-canary', index: 1,
        match: { path: '/orders/*', methods: null, host: '*.example.com', headers: {}, query: {} },
        upstream: null, split: [{ upstream: 'orders-v1', weight: 90 }, { upstream: 'orders-v2', weight: 10 }],
        sticky: 'header:x-user-id', rewrite: '/api/orders/*', stripPrefix: null, preserveHost: false,
        timeout: { connectMs: 1000, headersMs: 30_000, requestMs: 0 }, rateLimit: [], policies: [], maxBodyBytes: null,
      },
      {
        name: 'route-2', index: 2,
        match: { path: '/api/*', methods: null, host: null, headers: {}, query: {} },
        upstream: 'users', split: null, sticky: null, rewrite: null, stripPrefix: '/api', preserveHost: false,
        timeout: { connectMs: 5000, headersMs: 10_000, requestMs: 10_000 }, rateLimit: [], policies: [], maxBodyBytes: null,
      },
    ],
    redis: { url: null, commandTimeoutMs: 100, instances: 1 },
    rateLimits: [],
    globalRateLimits: [],
    policies: {},
    globalPolicies: [],
    consumers: [],
    rateLimitConsumerHeader: 'x-api-key',
    grpc: [],
    tracing: {
      enabled: false, endpoint: 'http://127.0.0.1:4318/v1/traces', sampleRatio: 0.01, serviceName: 'turnpike', headers: {},
      batch: { maxQueueSize: 2048, maxExportBatchSize: 512, scheduledDelayMs: 1000, exportTimeoutMs: 10_000 },
    },
    source: file,
    log: { access: { enabled: true, file: null, fields: DEFAULT_ACCESS_LOG_FIELDS, successSampleRatio: 1 }, redactQuery: DEFAULT_REDACT_QUERY },
  };
  assert.deepStrictEqual(loadConfig(file, {}), expected);
});

test('an empty file is all defaults', () => {
  const config = loadConfig(fixture('empty.yaml', '# nothing here\n'), {});
  assert.deepStrictEqual(config, {
    server: {
      host: '0.0.0.0', port: 8080, workers: availableParallelism(), maxBodyBytes: 10 * 1024 * 1024, maxHeaderBytes: 16 * 1024, workerHeapBytes: 64 * 1024 * 1024,
      gracePeriodMs: 30_000, trustedProxies: [], bufferBodyBytes: 64 * 1024, maxBodyBacklogBytes: 64 * 1024 * 1024, logLevel: 'info', tls: null, redirectHttp: null,
    },
    admin: { host: '127.0.0.1', port: 9901, tokenSha256: null },
    upstreams: {},
    routes: [],
    redis: { url: null, commandTimeoutMs: 100, instances: 1 },
    rateLimits: [],
    globalRateLimits: [],
    policies: {},
    globalPolicies: [],
    consumers: [],
    rateLimitConsumerHeader: 'x-api-key',
    grpc: [],
    tracing: {
      enabled: false, endpoint: 'http://127.0.0.1:4318/v1/traces', sampleRatio: 0.01, serviceName: 'turnpike', headers: {},
      batch: { maxQueueSize: 2048, maxExportBatchSize: 512, scheduledDelayMs: 1000, exportTimeoutMs: 10_000 },
    },
    source: join(dir, 'empty.yaml'),
    log: { access: { enabled: true, file: null, fields: DEFAULT_ACCESS_LOG_FIELDS, successSampleRatio: 1 }, redactQuery: DEFAULT_REDACT_QUERY },
  });
  const emptySections = parseConfig('server:\nadmin:\nupstreams:\n  # none yet\nroutes:\n', join(dir, 'empty.yaml'), {});
  assert.deepStrictEqual(emptySections, config);
});

test('a minimal route and upstream get every default', () => {
  const config = parseConfig('upstreams:\n  a: { targets: [ { url: "http://127.0.0.1:1" } ] }\nroutes:\n  - { match: { path: / }, upstream: a }\n', 'min.yaml', {});
  assert.deepStrictEqual(config.upstreams.a, upstream('a', { targets: [{ url: 'http://127.0.0.1:1', weight: 1 }] }));
  assert.deepStrictEqual(config.routes[0], {
    name: 'route-0', index: 0, match: { path: '/', methods: null, host: null, headers: {}, query: {} },
    upstream: 'a', split: null, sticky: null, rewrite: null, stripPrefix: null, preserveHost: false, timeout: defaultTimeouts,
    rateLimit: [], policies: [], maxBodyBytes: null,
  });
  assert.equal(config.source, resolve('min.yaml'));
  assert.equal(DEFAULTS.requestMs, 60_000);
});

test('a single route timeout caps connect at 5s', () => {
  const config = parseConfig('upstreams:\n  a: { targets: [ { url: "http://127.0.0.1:1" } ] }\nroutes:\n  - { match: { path: / }, upstream: a, timeout: 2m }\n', 'cap.yaml', {});
  assert.deepStrictEqual(config.routes[0].timeout, { connectMs: 5000, headersMs: 120_000, requestMs: 120_000 });
});

test('environment variables override the file', () => {
  const file = fixture('env.yaml', 'server: { host: 127.0.0.1, port: 8081, workers: 1, logLevel: warn }\nadmin: { port: 9000 }\n');
  const config = loadConfig(file, {
    TURNPIKE_HOST: '::', TURNPIKE_PORT: '9090', TURNPIKE_WORKERS: '4', TURNPIKE_ADMIN_PORT: '9999', TURNPIKE_ADMIN_HOST: '0.0.0.0',
    TURNPIKE_LOG_LEVEL: 'error', TURNPIKE_GRACE_PERIOD: '2s', TURNPIKE_MAX_BODY_SIZE: '1kb', TURNPIKE_MAX_HEADER_SIZE: '2048',
    TURNPIKE_WORKER_HEAP: '0',
  });
  assert.deepStrictEqual(config.server, {
    host: '::', port: 9090, workers: 4, maxBodyBytes: 1024, maxHeaderBytes: 2048, workerHeapBytes: 0, gracePeriodMs: 2000,
    trustedProxies: [], bufferBodyBytes: 64 * 1024, maxBodyBacklogBytes: 64 * 1024 * 1024, logLevel: 'error', tls: null, redirectHttp: null,
  });
  assert.deepStrictEqual(config.admin, { host: '0.0.0.0', port: 9999, tokenSha256: null });
  assert.equal(loadConfig(file, { TURNPIKE_WORKERS: 'auto', TURNPIKE_PORT: '' }).server.workers, availableParallelism());
  assert.equal(loadConfig(file, { TURNPIKE_PORT: '' }).server.port, 8081, 'an empty variable counts as unset');
});

test('invalid environment values are errors naming the variable, all at once', () => {
  const env = {
    TURNPIKE_PORT: 'abc', TURNPIKE_ADMIN_PORT: '70000', TURNPIKE_WORKERS: '0', TURNPIKE_LOG_LEVEL: 'loud',
    TURNPIKE_GRACE_PERIOD: '5 minutes', TURNPIKE_MAX_BODY_SIZE: '1tb', TURNPIKE_MAX_HEADER_SIZE: 'big',
    TURNPIKE_WORKER_HEAP: 'lots',
  };
  const err = configError(() => parseConfig('', 'x.yaml', env));
  assert.deepStrictEqual(err.message.split('\n'), [
    'invalid configuration (8 errors):',
    'TURNPIKE_PORT: must be an integer 1-65535, got "abc"',
    'TURNPIKE_ADMIN_PORT: must be an integer 1-65535, got "70000"',
    'TURNPIKE_WORKERS: must be an integer >= 1 or "auto", got "0"',
    'TURNPIKE_LOG_LEVEL: must be one of: fatal, error, warn, info, debug, trace, silent, got "loud"',
    'TURNPIKE_GRACE_PERIOD: must be a duration like 250ms, 5s, 1m, 1h or integer milliseconds, got "5 minutes"',
    'TURNPIKE_MAX_BODY_SIZE: must be a size like 512kb, 10mb, 1gb or integer bytes, got "1tb"',
    'TURNPIKE_MAX_HEADER_SIZE: must be a size like 512kb, 10mb, 1gb or integer bytes, got "big"',
    'TURNPIKE_WORKER_HEAP: must be a size like 512kb, 10mb, 1gb or integer bytes, got "lots"',
  ]);
  assert.deepStrictEqual(err.issues[0], { file: 'env', line: 0, column: 0, path: 'TURNPIKE_PORT', message: 'must be an integer 1-65535, got "abc"' });
});

test('file errors and env errors are reported together', () => {
  const err = configError(() => parseConfig('server:\n  port: 0\n', 'both.yaml', { TURNPIKE_PORT: 'x' }));
  assert.deepStrictEqual(err.issues.map((i) => `${i.path}: ${i.line}`), ['server.port: 2', 'TURNPIKE_PORT: 0']);
});

test('ENV_VARS documents every variable the loader reads', () => {
  const names = ENV_VARS.map((v) => v.name);
  assert.deepStrictEqual(names, [
    'TURNPIKE_CONFIG', 'TURNPIKE_HOST', 'TURNPIKE_PORT', 'TURNPIKE_WORKERS', 'TURNPIKE_ADMIN_HOST', 'TURNPIKE_ADMIN_PORT', 'TURNPIKE_ADMIN_TOKEN',
    'TURNPIKE_LOG_LEVEL', 'TURNPIKE_GRACE_PERIOD', 'TURNPIKE_MAX_BODY_SIZE', 'TURNPIKE_MAX_HEADER_SIZE', 'TURNPIKE_WORKER_HEAP',
    'REDIS_URL', 'TURNPIKE_REDIS_URL', 'TURNPIKE_ACCESS_LOG', 'TURNPIKE_OTLP_ENDPOINT',
  ]);
  for (const v of ENV_VARS) assert.ok(v.description.length > 10, v.name);
  // Every override variable is read: an invalid value for each one is reported.
  // (Hosts and the access log destination, a file path, take any text.)
  const free = new Set(['TURNPIKE_CONFIG', 'TURNPIKE_ACCESS_LOG']);
  const env = Object.fromEntries(names.filter((n) => !free.has(n) && !n.endsWith('HOST')).map((n) => [n, 'not valid!']));
  const err = configError(() => parseConfig('', 'x.yaml', env));
  assert.deepStrictEqual(err.issues.map((i) => i.path).sort(), Object.keys(env).sort());
});

test('log: the access log is on by default; a section and TURNPIKE_ACCESS_LOG change it', () => {
  const on = parseConfig('', 'x.yaml', {}).log;
  assert.deepStrictEqual(on.access, { enabled: true, file: null, fields: DEFAULT_ACCESS_LOG_FIELDS, successSampleRatio: 1 });
  const set = parseConfig('log: { access: { file: logs/a.log, fields: [ status, path ], successSampleRatio: 0.1 }, redactQuery: [ Sig ] }', 'x.yaml', {}).log;
  assert.deepStrictEqual(set, { access: { enabled: true, file: resolve('logs/a.log'), fields: ['status', 'path'], successSampleRatio: 0.1 }, redactQuery: ['sig'] });
  assert.equal(parseConfig('log: { access: false }', 'x.yaml', {}).log.access.enabled, false);
  assert.equal(parseConfig('', 'x.yaml', { TURNPIKE_ACCESS_LOG: 'off' }).log.access.enabled, false);
  assert.deepStrictEqual(parseConfig('log: { access: false }', 'x.yaml', { TURNPIKE_ACCESS_LOG: '/var/log/a.log' }).log.access.file, '/var/log/a.log');
  assert.equal(parseConfig('log: { access: { file: /x } }', 'x.yaml', { TURNPIKE_ACCESS_LOG: 'stdout' }).log.access.file, null);
  const bad = configError(() => parseConfig('log:\n  access: { fields: [ status, password ], successSampleRatio: 2 }\n', 'x.yaml', {}));
  assert.deepStrictEqual(bad.issues.map((i) => [i.line, i.path]), [[2, 'log.access.fields[1]'], [2, 'log.access.successSampleRatio']]);
});

test('resolveConfigPath prefers the CLI flag, then TURNPIKE_CONFIG, then config/gateway.yaml', () => {
  assert.equal(resolveConfigPath('a.yaml', { TURNPIKE_CONFIG: 'b.yaml' }), resolve('a.yaml'));
  assert.equal(resolveConfigPath(undefined, { TURNPIKE_CONFIG: '/etc/turnpike.yaml' }), '/etc/turnpike.yaml');
  assert.equal(resolveConfigPath('', { TURNPIKE_CONFIG: '' }), resolve('config/gateway.yaml'));
  assert.equal(resolveConfigPath(undefined, {}), resolve('config/gateway.yaml'));
});

test('a missing file is a ConfigError naming it', () => {
  const file = join(dir, 'missing.yaml');
  assert.throws(() => loadConfig(file, {}), (err: unknown) => {
    assert.ok(err instanceof ConfigError);
    assert.deepStrictEqual(err.issues, [{ file, line: 0, column: 0, path: '', message: 'cannot read config file (ENOENT)' }]);
    assert.equal(err.message, `invalid configuration (1 error):\n${file}: cannot read config file (ENOENT)`);
    return true;
  });
});
