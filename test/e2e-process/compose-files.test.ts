// docker-compose.yaml and its etcd overlay, checked without a container
// engine (none on these machines): they parse, name existing paths,
// services and healthchecks; the gateways' config validates with the
// gateway's own loader and with the CLI run from the image's files (laid
// out by fixtures/docker-stage.ts); the demo service's command and
// healthcheck run from those files too.
import assert from 'node:assert/strict';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { loadConfig } from '../../src/config/index.js';
import { DEFAULT_DEMO_PORT_BASE, DEMO_SERVICES } from '../../src/demo/demo-services.js';
import { argList, lastOf } from './fixtures/dockerfile.js';
import { openRuntimeStage } from './fixtures/docker-stage.js';
import { freePortRange, httpGet, waitUntil } from './fixtures/gateway-process.js';
import { composeEnv, composeServices, hostPort, type ComposeService } from './fixtures/compose-file.js';

const image = openRuntimeStage();
const { root: ROOT, runtime } = image;

after(() => image.close());

function gatewayCount(services: Record<string, ComposeService>): number {
  return Object.values(services).filter((s) => s.command?.[0] === 'start').length;
}

test('docker-compose.yaml: 2 gateways, Redis, etcd and the demo; builds, volumes and depends_on resolve; host ports are distinct', () => {
  const { services, volumes } = composeServices(ROOT, 'docker-compose.yaml');
  for (const name of ['gateway-1', 'gateway-2', 'redis', 'etcd', 'demo']) assert.ok(services[name], `service ${name}`);
  assert.ok(gatewayCount(services) >= 2, 'two gateway instances');
  const published = new Set<string>();
  for (const [name, s] of Object.entries(services)) {
    if (s.build !== undefined) {
      assert.ok(statSync(join(ROOT, s.build.context)).isDirectory(), `${name}: build context`);
      assert.ok(existsSync(join(ROOT, s.build.context, s.build.dockerfile ?? 'Dockerfile')), `${name}: dockerfile`);
    } else {
      assert.match(s.image ?? '', /:[^:]*\d[^:]*$/, `${name}: a pinned image version`);
      assert.ok(s.healthcheck?.test !== undefined, `${name}: a healthcheck`);
    }
    for (const v of s.volumes ?? []) {
      const [src] = v.split(':');
      if (src.startsWith('.') || src.startsWith('/')) assert.ok(existsSync(join(ROOT, src)), `${name}: volume ${src} exists`);
      else assert.ok(volumes.includes(src), `${name}: volume ${src} is declared`);
    }
    for (const [dep, { condition }] of Object.entries(s.depends_on ?? {})) {
      assert.ok(services[dep], `${name} depends on ${dep}`);
      const healthy = services[dep].healthcheck !== undefined || (services[dep].build !== undefined && lastOf(runtime, 'HEALTHCHECK') !== null);
      if (condition === 'service_healthy') assert.ok(healthy, `${dep} has a healthcheck`);
    }
    for (const p of s.ports ?? []) {
      const { host } = hostPort(p);
      assert.ok(!published.has(host), `${name}: host port ${host} published once`);
      published.add(host);
    }
  }
});

test('docker-compose.yaml: the gateways\' config validates with the gateway\'s loader and the staged CLI, and points at compose services', async () => {
  const { services } = composeServices(ROOT, 'docker-compose.yaml');
  const validated = new Map<string, NodeJS.ProcessEnv>(); // the image's config file -> env, run once each through the CLI
  for (const name of ['gateway-1', 'gateway-2']) {
    const s = services[name];
    const inContainer = s.command![s.command!.indexOf('--config') + 1];
    const bind = (s.volumes ?? []).map((v) => v.split(':')).find(([, to]) => to === inContainer);
    const file = bind !== undefined ? join(ROOT, bind[0]) : image.inImage(inContainer);
    assert.ok(existsSync(image.inImage(inContainer)), `${name}: the image has ${inContainer} too`);
    const env = { ...image.imageEnv(), ...composeEnv(s) };
    const config = loadConfig(file, env);
    assert.ok(config.redis.url !== null, `${name}: rate limits shared through Redis`);
    assert.equal(config.redis.instances, gatewayCount(services), `${name}: redis.instances counts the gateways`);
    for (const url of [config.redis.url, env.TURNPIKE_ETCD_ENDPOINTS].filter((u): u is string => typeof u === 'string')) {
      assert.ok(services[new URL(url).hostname], `${name}: ${url} names a compose service`);
    }
    for (const target of Object.values(config.upstreams).flatMap((u) => u.targets)) {
      const url = new URL(target.url);
      assert.equal(services[url.hostname]?.command?.[0], 'demo', `${name}: ${target.url} is the compose service running \`turnpike demo\``);
      const offset = Number(url.port) - DEFAULT_DEMO_PORT_BASE;
      assert.ok(DEMO_SERVICES.some((d) => d.offset === offset), `${name}: ${target.url} is a demo service port`);
    }
    const ports = (s.ports ?? []).map((p) => hostPort(p).container);
    assert.deepEqual(ports.sort(), [config.server.port, config.admin.port].sort(), `${name}: publishes its gateway and admin ports`);
    validated.set(image.inImage(inContainer), env);
  }
  for (const [file, env] of validated) {
    const cli = image.spawnExec(['node', 'bin/turnpike.js', 'validate', '--config', file], env);
    assert.equal((await cli.exited).code, 0, cli.out.stderr);
    assert.match(cli.out.stdout, /: OK \(/);
  }
});

test('docker-compose.yaml: the demo service\'s command runs from the runtime files and its healthcheck passes', async () => {
  const demo: ComposeService = composeServices(ROOT, 'docker-compose.yaml').services.demo;
  const base = await freePortRange(4);
  const env = { ...image.imageEnv(), TURNPIKE_DEMO_PORT_BASE: String(base) };
  const proc = image.spawnExec([...argList(lastOf(runtime, 'ENTRYPOINT')!.args), ...demo.command!], env);
  const [kind, ...check] = demo.healthcheck!.test!;
  assert.equal(kind, 'CMD');
  await waitUntil(`the demo healthcheck passes (stderr: ${proc.out.stderr})`, () => image.exitsZero(check, env), 15_000);
  const orders = await httpGet(base + 2, '/v1/orders?user=42');
  assert.equal((JSON.parse(orders.body) as { version: string }).version, 'v2');
  process.kill(proc.pid, 'SIGTERM');
  assert.deepEqual(await proc.exited, { code: 0, signal: null });
});

test('docker-compose.etcd.yaml: overlays existing services; config-push\'s command (issue 14\'s `config push` contract) names a valid config and the prefix the gateways watch', () => {
  const base = composeServices(ROOT, 'docker-compose.yaml').services;
  const { services } = composeServices(ROOT, 'docker-compose.etcd.yaml');
  const push = services['config-push'];
  // The contract of issue 14: `turnpike config push --config F --etcd URL --prefix P`.
  const [cmd, sub, ...rest] = push.command!;
  assert.deepEqual([cmd, sub], ['config', 'push']);
  const opt = (flag: string): string => rest[rest.indexOf(flag) + 1];
  const file = image.inImage(opt('--config'));
  loadConfig(file, { ...image.imageEnv(), ...composeEnv(base['gateway-1']) });
  assert.ok(base[new URL(opt('--etcd')).hostname], 'config-push talks to the compose etcd');
  for (const [name, s] of Object.entries(services)) {
    if (name === 'config-push') continue;
    assert.ok(base[name], `${name} exists in docker-compose.yaml`);
    const source = new URL(composeEnv(s).TURNPIKE_CONFIG_SOURCE!);
    assert.equal(source.protocol, 'etcd:');
    assert.ok(base[source.hostname], `${name}: ${source.href} names a compose service`);
    assert.equal(source.pathname, opt('--prefix'), `${name} watches the pushed prefix`);
    assert.equal(s.depends_on?.['config-push']?.condition, 'service_completed_successfully');
  }
});
