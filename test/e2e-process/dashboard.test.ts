// The dashboard in real headless Chromium (Debian's `chromium`, driven by
// playwright-core) against a spawned gateway with an admin token: the page
// asks for the token, shows non-zero requests/s while a light load runs,
// logs no console or page error, and a screenshot goes to results/dashboard.png.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { request } from 'node:http';
import { chromium, type BrowserContext } from 'playwright-core';
import { freePort, httpGet, sleep, startGateway, type Gateway, type Reply } from './fixtures/gateway-process.js';
import { startUpstream, type Upstream } from './fixtures/upstreams.js';

const CHROMIUM = '/usr/bin/chromium';
const SCREENSHOT = fileURLToPath(new URL('../../../results/dashboard.png', import.meta.url));
const TOKEN = 'dashboard-e2e-token_0123456789';

let up: Upstream;
let gw: Gateway;
let browser: BrowserContext | null = null;
let profile = '';

/** What the in-page functions use of `document`. */
interface PageDoc {
  document: {
    getElementById(id: string): { textContent: string | null } | null;
    querySelectorAll(selector: string): { length: number };
  };
}

/** GET on the admin port with the bearer token. */
function adminGet(path: string, token: string | null): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const headers = token === null ? {} : { authorization: `Bearer ${token}` };
    const req = request({ host: '127.0.0.1', port: gw.adminPort, path, headers, agent: false, timeout: 5000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
    });
    req.on('error', reject);
    req.end();
  });
}

before(async () => {
  // Skip nothing: CI installs chromium, and a missing browser is a failure.
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} not found: install Debian's chromium package (apt-get install chromium) to run the dashboard test`);
  up = await startUpstream('A');
  const port = await freePort();
  const adminPort = await freePort();
  const nothing = await freePort(); // nothing listens there: the broken upstream fails to connect
  gw = await startGateway(`server: { host: 127.0.0.1, port: ${port}, workers: 2, gracePeriod: 1s }
admin: { host: 127.0.0.1, port: ${adminPort} }
upstreams:
  app: { targets: [ { url: "${up.url}" } ] }
  broken:
    targets: [ { url: "http://127.0.0.1:${nothing}" } ]
    passiveHealth: { consecutiveFailures: 0 }
    circuitBreaker: { consecutiveFailures: 3, openFor: 2s }
rateLimits:
  - { name: per-ip, key: ip, limit: 20, window: 1s, burst: 5 }
policies:
  page-cache: { cache: { ttl: 60s } }
routes:
  - { name: api, match: { path: /api/* }, upstream: app }
  - { name: catalog, match: { path: /catalog/* }, upstream: app, policies: [ page-cache ] }
  - { name: limited, match: { path: /limited }, upstream: app, rateLimit: per-ip }
  - { name: broken, match: { path: /broken }, upstream: broken }
`, { env: { TURNPIKE_ADMIN_TOKEN: TOKEN } });
  profile = mkdtempSync(join(tmpdir(), 'turnpike-chromium-'));
});

after(async () => {
  await browser?.close();
  gw?.cleanup();
  await up?.close();
  if (profile !== '') rmSync(profile, { recursive: true, force: true });
});

test('the snapshot API needs the token; healthz, readyz and the page shell do not', async () => {
  const denied = await adminGet('/ui/api/snapshot', null);
  assert.equal(denied.status, 401);
  assert.equal(denied.headers['www-authenticate'], 'Bearer realm="turnpike-admin"');
  assert.equal((await adminGet('/metrics', 'wrong-token')).status, 401);
  assert.equal((await adminGet('/healthz', null)).status, 200);
  const ready = await adminGet('/readyz', null);
  assert.deepEqual([ready.status, JSON.parse(ready.body)], [200, { ready: true }]);
  assert.equal((await adminGet('/ui', null)).status, 200);
  const snap = await adminGet('/ui/api/snapshot', TOKEN);
  assert.equal(snap.status, 200);
  const body = JSON.parse(snap.body) as { workers: Array<{ pid: number; residentBytes: number | null }>; config: { generation: number } };
  assert.equal(body.workers.length, 2);
  for (const w of body.workers) assert.ok(w.residentBytes !== null && w.residentBytes > 0, 'each worker reports its memory over IPC');
  assert.equal(body.config.generation, 1);
});

test('an admin listener reachable from other hosts without a token is warned about at start', async () => {
  const other = await startGateway(`server: { host: 127.0.0.1, port: ${await freePort()}, workers: 1, gracePeriod: 1s }
admin: { host: 0.0.0.0, port: ${await freePort()} }
`);
  try {
    const warned = other.lines.find((l) => l.msg === 'the admin listener is reachable from other hosts and has no token: set admin.token or TURNPIKE_ADMIN_TOKEN');
    assert.ok(warned !== undefined, 'the warning is logged before "ready"');
    assert.equal(warned.level, 'warn');
    assert.equal(warned.host, '0.0.0.0');
    assert.equal(gw.lines.filter((l) => l.level === 'warn' && String(l.msg).startsWith('the admin listener')).length, 0, 'not with a token on 127.0.0.1');
  } finally {
    other.cleanup();
  }
});

test('the dashboard in headless Chromium: token form, live numbers under load, no console errors, screenshot', async () => {
  // A persistent context on a fresh profile directory (playwright's way of passing --user-data-dir).
  browser = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1400, height: 1000 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
  const page = await browser.newPage();
  const problems: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console error: ${m.text()}`);
  });
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()} ${r.failure()?.errorText ?? ''}`));

  await page.goto(`http://127.0.0.1:${gw.adminPort}/ui`);
  await page.locator('#token-form').waitFor({ state: 'visible', timeout: 10_000 });
  // A wrong token: the API answers 401 and the page asks again (Chromium logs that 401 as a console error).
  await page.fill('#token-input', 'not-the-token');
  await page.click('#token-form button[type=submit]');
  await page.locator('#token-error').filter({ hasText: 'the token was refused' }).waitFor({ timeout: 10_000 });
  assert.ok(await page.locator('#token-form').isVisible());
  assert.deepEqual(problems.filter((p) => !/status of 401/.test(p)), [], 'nothing but the refused call');
  problems.length = 0;
  await page.fill('#token-input', TOKEN);
  await page.click('#token-form button[type=submit]');
  await page.locator('#token-form').waitFor({ state: 'hidden', timeout: 10_000 });

  // A light load: a few sequential loops over the routes until the page is checked.
  let loading = true;
  let sent = 0;
  const paths = ['/api/users', '/api/orders', '/catalog/item-1', '/catalog/item-2', '/limited', '/api/users', '/broken'];
  const loops = [0, 1, 2].map(async (n) => {
    for (let i = n; loading; i++) {
      await httpGet(gw.port, paths[i % paths.length], { keepAlive: true }).catch(() => undefined);
      sent++;
      await sleep(5);
    }
  });
  try {
    // Functions run in the page (the CSP forbids string evaluation); this file has no DOM typings, hence PageDoc.
    const showsRate = (): boolean => parseFloat((globalThis as unknown as PageDoc).document.getElementById('rps')?.textContent ?? '') > 0;
    await page.waitForFunction(showsRate, undefined, { timeout: 20_000 });
    await page.waitForFunction(() => {
      const d = (globalThis as unknown as PageDoc).document;
      return d.querySelectorAll('#upstreams tbody tr').length >= 2 && parseFloat(d.getElementById('rps')?.textContent ?? '') > 0
        && (d.getElementById('p99')?.textContent ?? '').endsWith('ms');
    }, undefined, { timeout: 20_000 });
    // Some seconds more, so the charts draw lines, then the numbers are checked under load.
    await sleep(3000);
    await page.waitForFunction(showsRate, undefined, { timeout: 10_000 });
  } finally {
    loading = false;
    await Promise.all(loops);
  }
  assert.ok(sent > 50, `the load ran (${sent} requests)`);
  const text = await page.locator('body').innerText();
  const rps = parseFloat(await page.locator('#rps').innerText());
  assert.ok(rps > 0, `requests/s in the page text: ${rps}`);
  assert.match(await page.locator('#p99').innerText(), /^\d+(\.\d+)? ms$/);
  assert.match(await page.locator('#error-rate').innerText(), /^\d+\.\d+ %$/);
  assert.ok(parseFloat(await page.locator('#error-rate').innerText()) > 0, 'the broken route\'s 502s show in the error rate');
  assert.match(await page.locator('#cache-ratio').innerText(), /^\d+\.\d %$/);
  assert.equal(await page.locator('#worker-count').innerText(), '2');
  assert.match(text, new RegExp(up.url.replace(/[.]/g, '\\.')), 'the app upstream\'s target is listed');
  assert.match(await page.locator('#ratelimits tbody').innerText(), /per-ip/);
  assert.equal(await page.locator('canvas').count(), 7, 'seven uPlot charts');
  assert.match(await page.locator('#config-generation').innerText(), /^1$/);

  mkdirSync(dirname(SCREENSHOT), { recursive: true });
  await page.screenshot({ path: SCREENSHOT, fullPage: true });
  assert.deepEqual(problems, [], 'no console errors, page errors or failed requests');
});
