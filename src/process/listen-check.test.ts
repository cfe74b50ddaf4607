import assert from 'node:assert/strict';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { test } from 'node:test';
import { assertCanListen, formatHostPort, ListenError } from './listen-check.js';

async function listen(host: string, port = 0): Promise<Server> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port }, resolve);
  });
  return server;
}

function close(server: Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

test('a free port passes and stays free; port 0 always passes', async () => {
  const probe = await listen('127.0.0.1');
  const port = (probe.address() as AddressInfo).port;
  await close(probe);
  await assertCanListen('127.0.0.1', port, 'gateway');
  const again = await listen('127.0.0.1', port);
  await close(again);
  await assertCanListen('127.0.0.1', 0, 'gateway');
});

/** Whether this host can bind IPv6 at all (some containers cannot). */
async function ipv6(): Promise<boolean> {
  try {
    await close(await listen('::1'));
    return true;
  } catch {
    return false;
  }
}

test('a port held on 127.0.0.1 is refused for 127.0.0.1, 0.0.0.0 and :: with one line naming host:port and role', async (t) => {
  const held = await listen('127.0.0.1');
  t.after(() => close(held));
  const port = (held.address() as AddressInfo).port;
  for (const host of ['127.0.0.1', '0.0.0.0', ...((await ipv6()) ? ['::'] : [])]) {
    await assert.rejects(assertCanListen(host, port, 'gateway'), (err: unknown) => {
      assert.ok(err instanceof ListenError);
      assert.equal(err.code, 'EADDRINUSE');
      assert.equal(err.message, `cannot listen on ${formatHostPort(host, port)} (gateway): address in use`);
      return true;
    });
  }
});

test('a port held on the wildcard (:: dual-stack where IPv6 exists) is refused for 0.0.0.0', async (t) => {
  const held = await listen((await ipv6()) ? '::' : '0.0.0.0');
  t.after(() => close(held));
  const port = (held.address() as AddressInfo).port;
  await assert.rejects(assertCanListen('0.0.0.0', port, 'gateway'), /^ListenError: cannot listen on 0\.0\.0\.0:\d+ \(gateway\): address in use$/);
});

test('an address the host does not have is reported as such, with the hint', async () => {
  // 192.0.2.0/24 is TEST-NET-1: never a local address.
  await assert.rejects(
    assertCanListen('192.0.2.1', 8080, 'gateway'),
    (err: Error) => err.message === 'cannot listen on 192.0.2.1:8080 (gateway): address not available on this host',
  );
  const withHint = new ListenError('::1', 9901, 'admin', Object.assign(new Error('x'), { code: 'EADDRINUSE' }), 'try another port');
  assert.equal(withHint.message, 'cannot listen on [::1]:9901 (admin): address in use; try another port');
});
