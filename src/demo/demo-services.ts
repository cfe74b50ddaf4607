import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { GatewayConfig } from '../config/types.js';
import { ListenError } from '../process/listen-check.js';

/** One bundled demo service. */
export interface DemoService {
  name: string;
  port: number;
  server: Server;
}

const USERS = [
  {
    id: '1', name: 'Ada Lovelace', email: 'ada@example.com', accountId: 'acc-1001',
    address: { street: '12 St James Square', city: 'London', country: 'GB' },
    preferences: { language: 'en', newsletter: true }, createdAt: '2024-02-11T09:30:00Z',
  },
  {
    id: '2', name: 'Alan Turing', email: 'alan@example.com', accountId: 'acc-1002',
    address: { street: '2 Hamilton Terrace', city: 'Wilmslow', country: 'GB' },
    preferences: { language: 'en', newsletter: false }, createdAt: '2024-05-02T14:05:00Z',
  },
  {
    id: '42', name: 'Grace Hopper', email: 'grace@example.com', accountId: 'acc-4242',
    address: { street: '1 Navy Yard', city: 'Arlington', country: 'US' },
    preferences: { language: 'en', newsletter: true }, createdAt: '2023-12-09T08:00:00Z',
  },
];

/** Orders of a demo user (orders service, `GET /v1/orders?user=ID`): a deterministic list. */
function ordersOf(user: string, version: string): unknown {
  const n = user.length + (user.charCodeAt(0) % 3);
  const items = [];
  for (let i = 1; i <= n; i++) {
    items.push({
      id: `o-${user}-${i}`, status: i === 1 ? 'shipped' : 'delivered', total: { amount: 1250 * i, currency: 'EUR' },
      lines: [ { sku: `sku-${i}`, quantity: i, unitPrice: 1250 } ], placedAt: `2026-11-${String(10 + i).padStart(2, '0')}T10:00:00Z`,
    });
  }
  return { service: 'orders', version, user, items };
}

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function usersApp(req: IncomingMessage, res: ServerResponse): void {
  const url = new URL(req.url ?? '/', 'http://demo');
  if (url.pathname === '/health') return json(res, 200, { status: 'ok' });
  if (url.pathname === '/v1/users') return json(res, 200, USERS);
  const m = /^\/v1\/users\/([^/]+)$/.exec(url.pathname);
  if (m) {
    const user = USERS.find((u) => u.id === decodeURIComponent(m[1]));
    return user ? json(res, 200, user) : json(res, 404, { error: 'no such user' });
  }
  json(res, 404, { error: 'not found', path: url.pathname });
}

function ordersApp(version: string) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    const url = new URL(req.url ?? '/', 'http://demo');
    if (url.pathname === '/health') return json(res, 200, { status: 'ok' });
    const user = url.searchParams.get('user');
    if (url.pathname === '/v1/orders' && user !== null) return json(res, 200, ordersOf(user, version));
    json(res, 200, { service: 'orders', version, path: url.pathname, user: req.headers['x-user-id'] ?? null });
  };
}

function paymentsApp(req: IncomingMessage, res: ServerResponse): void {
  if (req.url === '/health') return json(res, 200, { status: 'ok' });
  const balance = req.method === 'GET' && req.url !== undefined ? /^\/v1\/balance\/(acc-\d+)$/.exec(req.url) : null;
  if (balance !== null) {
    const digits = Number(balance[1].slice(4));
    return json(res, 200, { account: balance[1], amount: { value: (digits * 37) % 10000, currency: 'EUR' }, updatedAt: '2026-12-01T00:00:00Z' });
  }
  let size = 0;
  req.on('data', (c: Buffer) => { size += c.length; });
  req.on('end', () => json(res, req.method === 'POST' ? 201 : 200, {
    service: 'payments', method: req.method, path: req.url, receivedBytes: size,
    forwardedFor: req.headers['x-forwarded-for'] ?? null, requestId: req.headers['x-request-id'] ?? null,
  }));
}

/** First port of the demo services (then +1, +2, +3), as config/gateway.yaml expects them. */
export const DEFAULT_DEMO_PORT_BASE = 3001;

/** The demo services `npm start` runs next to the gateway (see config/gateway.yaml), at base + `offset`. */
export const DEMO_SERVICES: ReadonlyArray<{ name: string; offset: number; app: (req: IncomingMessage, res: ServerResponse) => void }> = [
  { name: 'users', offset: 0, app: usersApp },
  { name: 'orders-v1', offset: 1, app: ordersApp('v1') },
  { name: 'orders-v2', offset: 2, app: ordersApp('v2') },
  { name: 'payments', offset: 3, app: paymentsApp },
];

/**
 * Starts every demo service on `host` (default 127.0.0.1), at `base`
 * (default 3001) and the next three ports. If one cannot listen, the others
 * are closed and the promise rejects with a {@link ListenError} naming the
 * service (`cannot listen on 127.0.0.1:3001 (demo users): address in use; ...`).
 */
export async function startDemoServices(base = DEFAULT_DEMO_PORT_BASE, host = '127.0.0.1'): Promise<DemoService[]> {
  const settled = await Promise.allSettled(DEMO_SERVICES.map((d) => listenDemo(d.name, d.app, host, base + d.offset)));
  const started = settled.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const failure = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failure === undefined) return started;
  await closeDemoServices(started);
  throw failure.reason;
}

/** Closes demo services (and their open connections). */
export async function closeDemoServices(services: DemoService[]): Promise<void> {
  await Promise.all(services.map((s) => new Promise<void>((resolve) => {
    s.server.close(() => resolve());
    s.server.closeAllConnections();
  })));
}

function listenDemo(name: string, app: (req: IncomingMessage, res: ServerResponse) => void, host: string, port: number): Promise<DemoService> {
  return new Promise<DemoService>((resolve, reject) => {
    const server = createServer(app);
    server.keepAliveTimeout = 65_000;
    server.once('error', (err) => reject(new ListenError(host, port, `demo ${name}`, err, `move the demo services with ${DEMO_PORT_BASE_VAR}`)));
    server.listen(port, host, () => resolve({ name, port, server }));
  });
}

/** The variable that moves the demo services. */
export const DEMO_PORT_BASE_VAR = 'TURNPIKE_DEMO_PORT_BASE';

/**
 * Reads `TURNPIKE_DEMO_PORT_BASE` (the demo services' first port; unset or
 * empty = 3001). Returns the base, or an error line for an invalid value.
 */
export function readDemoPortBase(env: NodeJS.ProcessEnv): { base: number } | { error: string } {
  const raw = env[DEMO_PORT_BASE_VAR]?.trim();
  if (raw === undefined || raw === '') return { base: DEFAULT_DEMO_PORT_BASE };
  const max = 65535 - (DEMO_SERVICES.length - 1);
  if (/^\d{1,5}$/.test(raw) && Number(raw) >= 1 && Number(raw) <= max) return { base: Number(raw) };
  return { error: `${DEMO_PORT_BASE_VAR}: must be an integer 1-${max}, got ${JSON.stringify(raw)}` };
}

/**
 * Points the upstream targets at the moved demo services, in place: every
 * target `http://127.0.0.1:<3001-3004>` (or `localhost`) becomes the same
 * service's port from `base`. Other targets are left alone; `base` 3001
 * changes nothing.
 */
export function rewriteDemoTargets(config: GatewayConfig, base: number): GatewayConfig {
  if (base === DEFAULT_DEMO_PORT_BASE) return config;
  for (const upstream of Object.values(config.upstreams)) {
    for (const target of upstream.targets) {
      let url: URL;
      try {
        url = new URL(target.url);
      } catch {
        continue;
      }
      const offset = Number(url.port) - DEFAULT_DEMO_PORT_BASE;
      if (!['127.0.0.1', 'localhost'].includes(url.hostname) || !(offset >= 0 && offset < DEMO_SERVICES.length)) continue;
      url.port = String(base + offset);
      target.url = url.origin;
    }
  }
  return config;
}
