import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

/** One bundled demo service. */
export interface DemoService {
  name: string;
  port: number;
  server: Server;
}

const USERS = [
  { id: '1', name: 'Ada Lovelace', email: 'ada@example.com' },
  { id: '2', name: 'Alan Turing', email: 'alan@example.com' },
  { id: '42', name: 'Grace Hopper', email: 'grace@example.com' },
];

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
    json(res, 200, { service: 'orders', version, path: url.pathname, user: req.headers['x-user-id'] ?? null });
  };
}

function paymentsApp(req: IncomingMessage, res: ServerResponse): void {
  if (req.url === '/health') return json(res, 200, { status: 'ok' });
  let size = 0;
  req.on('data', (c: Buffer) => { size += c.length; });
  req.on('end', () => json(res, req.method === 'POST' ? 201 : 200, {
    service: 'payments', method: req.method, path: req.url, receivedBytes: size,
    forwardedFor: req.headers['x-forwarded-for'] ?? null, requestId: req.headers['x-request-id'] ?? null,
  }));
}

/** The demo services `npm start` runs next to the gateway (see config/gateway.yaml). */
export const DEMO_SERVICES: ReadonlyArray<{ name: string; port: number; app: (req: IncomingMessage, res: ServerResponse) => void }> = [
  { name: 'users', port: 3001, app: usersApp },
  { name: 'orders-v1', port: 3002, app: ordersApp('v1') },
  { name: 'orders-v2', port: 3003, app: ordersApp('v2') },
  { name: 'payments', port: 3004, app: paymentsApp },
];

/** Starts every demo service on 127.0.0.1 (port offset for tests). */
export async function startDemoServices(portOffset = 0): Promise<DemoService[]> {
  return Promise.all(DEMO_SERVICES.map((d) => new Promise<DemoService>((resolve, reject) => {
    const server = createServer(d.app);
    server.keepAliveTimeout = 65_000;
    server.once('error', reject);
    server.listen(d.port + portOffset, '127.0.0.1', () => resolve({ name: d.name, port: d.port + portOffset, server }));
  })));
}
