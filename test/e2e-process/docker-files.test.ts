// The Dockerfile, checked without a container engine (none on these
// machines): the image's base, user and healthcheck; that every COPY source
// exists and is not .dockerignored; and, by laying out the runtime stage's
// files in a temp dir (fixtures/docker-stage.ts) and running the image's
// ENTRYPOINT + CMD from there, that they hold everything the gateway reads.
// docker-compose.yaml: compose-files.test.ts.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, matchesGlob, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, test } from 'node:test';
import { Redis } from 'ioredis';
import { argList, copies, instructions, lastOf, splitFlags } from './fixtures/dockerfile.js';
import { openRuntimeStage } from './fixtures/docker-stage.js';
import { freePort, freePortRange, httpGet, waitUntil } from './fixtures/gateway-process.js';

const image = openRuntimeStage();
const { root: ROOT, stages, runtime, build, dir: STAGE } = image;
// why: the test's own compiled tree stands for the build stage's dist/.
const BUILD = fileURLToPath(new URL('../../', import.meta.url));
const REDIS_DB = 13;

after(() => image.close());

function dockerignore(): string[] {
  return readFileSync(join(ROOT, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
}

function files(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) files(p, out);
    else out.push(p);
  }
  return out;
}

test('Dockerfile: every stage is Debian 13 (trixie) slim on the newest Node LTS line uWebSockets.js ships binaries for', () => {
  // NODE_MODULE_VERSION by Node major (node's doc/abi_version_registry.json); extend when uWS ships a new ABI.
  const ABI_TO_NODE: Record<string, number> = { 108: 18, 115: 20, 120: 21, 127: 22, 131: 23, 137: 24, 141: 25 };
  const uws = join(ROOT, 'node_modules', 'uWebSockets.js');
  const majors = new Map<string, Set<number>>();
  for (const f of readdirSync(uws)) {
    const m = /^uws_linux_(x64|arm64)_(\d+)\.node$/.exec(f);
    if (m === null) continue;
    assert.ok(ABI_TO_NODE[m[2]] !== undefined, `uWS ships ABI ${m[2]}: add its Node major to ABI_TO_NODE`);
    if (!majors.has(m[1])) majors.set(m[1], new Set());
    majors.get(m[1])!.add(ABI_TO_NODE[m[2]]);
  }
  const lts = [...majors.get('x64')!].filter((n) => n % 2 === 0 && majors.get('arm64')!.has(n));
  const newest = Math.max(...lts);
  assert.ok(stages.length >= 2, 'a build stage and a runtime stage');
  for (const stage of stages) {
    const m = /^node:(\d+)-trixie-slim$/.exec(stage.image);
    assert.ok(m !== null, `${stage.image}: expected node:<major>-trixie-slim (Debian 13 slim)`);
    assert.equal(Number(m[1]), newest, `${stage.image}: Node ${newest} is the newest LTS line with uWS binaries`);
  }
  const engines = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { engines: { node: string } }).engines.node;
  assert.ok(Number(/^>=(\d+)/.exec(engines)![1]) <= newest, `package.json engines ${engines} admits Node ${newest}`);
});

test('Dockerfile: the runtime stage runs as a non-root user, starts bin/turnpike.js and its HEALTHCHECK asks /readyz', () => {
  const user = lastOf(runtime, 'USER')?.args;
  assert.ok(user !== undefined && !/^(root|0)(:|$)/.test(user), `USER ${user}: must not be root`);
  assert.deepEqual(argList(lastOf(runtime, 'ENTRYPOINT')!.args), ['node', 'bin/turnpike.js']);
  const hc = splitFlags(lastOf(runtime, 'HEALTHCHECK')!.args);
  for (const flag of ['interval', 'timeout', 'start-period']) assert.ok(hc.flags[flag], `HEALTHCHECK --${flag}`);
  assert.match(hc.rest, /^CMD \[/);
  assert.match(argList(hc.rest.slice(4)).join(' '), /\/readyz/);
});

test('Dockerfile: COPY sources exist and are not .dockerignored; --from=build copies what the build stage makes', () => {
  const ignore = dockerignore();
  for (const must of ['node_modules', 'dist', 'results', '.git']) assert.ok(ignore.includes(must), `.dockerignore lists ${must}`);
  const ignored = (p: string): boolean => ignore.some((pat) => p === pat || p.startsWith(`${pat}/`) || matchesGlob(p, pat));
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  const tsconfig = JSON.parse(readFileSync(join(ROOT, 'tsconfig.json'), 'utf8')) as { compilerOptions: { outDir: string }; include: string[] };
  const buildRuns = instructions(build, 'RUN').map((i) => i.args).join('\n');
  const intoBuild = copies(build).filter((c) => c.from === null).flatMap((c) => c.sources);
  for (const stage of stages) {
    for (const copy of copies(stage)) {
      for (const source of copy.sources) {
        const where = `Dockerfile:${copy.line}: ${source}`;
        if (copy.from === null) {
          assert.ok(existsSync(join(ROOT, source)), `${where} exists in the build context`);
          assert.ok(!ignored(source), `${where} is not excluded by .dockerignore`);
          continue;
        }
        assert.equal(copy.from, build.name, where);
        const rel = relative(lastOf(build, 'WORKDIR')!.args, source);
        if (rel === 'node_modules') {
          assert.match(buildRuns, /npm ci\b/, 'the build stage installs with npm ci');
          assert.match(buildRuns, /npm prune --omit=dev/, 'and keeps only production packages');
        } else {
          assert.match(rel, /^dist(\/|$)/, `${where}: the build stage makes node_modules and dist/ only`);
          // npm ci runs `prepare`: tsc into dist/, then copy-assets; every tsconfig root is in the build stage.
          assert.match(pkg.scripts.prepare, /tsc -p tsconfig\.json && node scripts\/copy-assets\.mjs/);
          assert.equal(tsconfig.compilerOptions.outDir, 'dist');
          for (const input of ['package.json', 'package-lock.json', 'tsconfig.json', 'scripts', ...tsconfig.include.map((g) => g.split('/')[0])]) {
            assert.ok(intoBuild.includes(input), `the build stage copies ${input}`);
          }
          assert.ok(existsSync(join(BUILD, rel.slice('dist'.length))), `${where}: the build makes it`);
        }
      }
    }
  }
});

test('Dockerfile: the runtime stage holds every path `npm start` names and every file the compiled code reads beside itself', () => {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: { start: string }; bin: Record<string, string> };
  const named = [...pkg.scripts.start.split(/\s+/).filter((t) => t.includes('/')), ...Object.values(pkg.bin)];
  assert.ok(named.includes('bin/turnpike.js') && named.includes('config/gateway.yaml'), pkg.scripts.start);
  for (const p of named) assert.ok(existsSync(join(STAGE, p)), `the image has ${p}`);
  // Non-TypeScript files of src/ (JSON schema, Lua scripts, ...) must reach dist/src/ (tsc or scripts/copy-assets.mjs).
  const assets = files(join(ROOT, 'src')).filter((f) => !/\.(ts|md)$/.test(f) && !/\/(fixtures|testing)\//.test(f));
  assert.ok(assets.length > 0);
  for (const f of assets) assert.ok(existsSync(join(STAGE, 'dist', relative(ROOT, f))), `the image has dist/${relative(ROOT, f)}`);
  // `new URL('./x', import.meta.url)` in the shipped code (workers, codec pool) points at shipped files.
  for (const js of files(join(STAGE, 'dist', 'src')).filter((f) => f.endsWith('.js') && !f.endsWith('.test.js'))) {
    for (const m of readFileSync(js, 'utf8').matchAll(/new URL\(\s*'([^']+)',\s*import\.meta\.url\s*\)/g)) {
      assert.ok(existsSync(join(dirname(js), m[1])), `${relative(STAGE, js)} reads ${m[1]}`);
    }
  }
});

test('the runtime stage\'s files run the image\'s ENTRYPOINT + CMD: the HEALTHCHECK passes, demo routes answer through Redis rate limits, the uWS cache is only read', async () => {
  // The build stage's uWS warm-up, as the image runs it (WORKDIR paths moved into the stage).
  const warm = instructions(build, 'RUN').filter((i) => i.args.includes('uws-loader'));
  assert.equal(warm.length, 1, 'the build stage writes the patched uWS copy');
  const buildWorkdir = lastOf(build, 'WORKDIR')!.args;
  const warmProc = image.spawnExec(['sh', '-c', warm[0].args.replaceAll(`${buildWorkdir}/`, `${STAGE}/`)], {});
  assert.equal((await warmProc.exited).code, 0, warmProc.out.stderr);
  const info = JSON.parse(warmProc.out.stdout.trim().split('\n').at(-1)!) as { recvYield: boolean; binaryPath: string };
  const cacheDir = join(STAGE, 'node_modules', '.cache', 'turnpike-uws');
  if (info.recvYield) assert.ok(info.binaryPath.startsWith(cacheDir), `the warm-up wrote into the image's node_modules: ${info.binaryPath}`);
  const snapshot = (): string[] => (existsSync(cacheDir) ? readdirSync(cacheDir).map((f) => `${f}@${statSync(join(cacheDir, f)).mtimeMs}`).sort() : []);
  const cacheBefore = snapshot();

  const redis = new Redis({ port: 6379, host: '127.0.0.1', db: REDIS_DB, lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  try {
    const stale = await redis.keys('tp:rl:{per-ip:*');
    if (stale.length > 0) await redis.del(...stale);
    const [port, adminPort, demoBase] = [await freePort(), await freePort(), await freePortRange(4)];
    const env = {
      ...image.imageEnv(), TURNPIKE_ADMIN_HOST: '127.0.0.1', TURNPIKE_PORT: String(port), TURNPIKE_ADMIN_PORT: String(adminPort),
      TURNPIKE_WORKERS: '1', TURNPIKE_GRACE_PERIOD: '2s', TURNPIKE_DEMO_PORT_BASE: String(demoBase), REDIS_URL: `redis://127.0.0.1:6379/${REDIS_DB}`,
    };
    const gw = image.spawnExec([...argList(lastOf(runtime, 'ENTRYPOINT')!.args), ...argList(lastOf(runtime, 'CMD')!.args)], env);
    const healthcheck = argList(splitFlags(lastOf(runtime, 'HEALTHCHECK')!.args).rest.slice(4));
    await waitUntil(`the HEALTHCHECK passes (stderr: ${gw.out.stderr})`, () => image.exitsZero(healthcheck, { TURNPIKE_ADMIN_PORT: String(adminPort) }), 30_000);
    const users = await httpGet(port, '/users');
    assert.equal(users.status, 200, users.body);
    assert.ok((JSON.parse(users.body) as Array<{ name: string }>).some((u) => u.name === 'Ada Lovelace'));
    assert.ok((await redis.keys('tp:rl:{per-ip:*')).length > 0, 'the per-ip limit ran its Lua script in Redis');
    if (info.recvYield) assert.ok(!gw.lines.some((l) => String(l.msg).includes('uWS read loop not patched')), 'the workers loaded the patched copy');
    process.kill(gw.pid, 'SIGTERM');
    assert.deepEqual(await gw.exited, { code: 0, signal: null });
    assert.deepEqual(snapshot(), cacheBefore, 'the runtime user never writes the uWS cache');
  } finally {
    redis.disconnect();
  }
});
