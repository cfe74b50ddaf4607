/**
 * `turnpike config push|diff`: put a validated config file into etcd (one
 * key, `<prefix>/config`), or show how it differs from etcd's current one.
 * @module
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../config/index.js';
import { configKey } from '../config-source/etcd-client.js';
import { createEtcdClient } from '../lib/etcd-client.js';
import { CONFIG_SOURCE_VAR } from '../config-source/source-from-env.js';
import { DEFAULT_ETCD_ENDPOINT, etcdEndpointsFromEnv, formatEtcdUrl, normalisePrefix, parseEtcdEndpoints, parseEtcdUrl, type EtcdLocation } from '../lib/etcd-endpoints.js';

/** Flags of `turnpike config`. */
export interface ConfigCommandOptions {
  configPath: string;
  etcd?: string;
  prefix?: string;
  ifRevision?: string;
}

/** A usage problem (exit 2). */
class UsageError extends Error {}

/**
 * Where to push: `--etcd`, else TURNPIKE_ETCD_ENDPOINTS, else the endpoints
 * of TURNPIKE_CONFIG_SOURCE, else http://127.0.0.1:2379; `--prefix`, else
 * the prefix of TURNPIKE_CONFIG_SOURCE.
 */
export function configTarget(options: ConfigCommandOptions, env: NodeJS.ProcessEnv): EtcdLocation {
  const sourceVar = (env[CONFIG_SOURCE_VAR] ?? '').trim();
  const source = sourceVar.startsWith('etcd') ? parseEtcdUrl(sourceVar) : null;
  const endpoints = options.etcd !== undefined ? parseEtcdEndpoints(options.etcd) : etcdEndpointsFromEnv(env) ?? source?.endpoints ?? [DEFAULT_ETCD_ENDPOINT];
  const prefix = options.prefix !== undefined ? normalisePrefix(options.prefix) : source?.prefix;
  if (prefix === undefined) throw new UsageError(`--prefix is required (or set ${CONFIG_SOURCE_VAR}=etcd://host:port/prefix)`);
  return { endpoints, prefix };
}

/** Runs `turnpike config <push|diff>`; resolves with the exit code. */
export async function configCommand(sub: string | undefined, options: ConfigCommandOptions, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  if (sub !== 'push' && sub !== 'diff') {
    process.stderr.write('turnpike config: expected `push` or `diff`, e.g. `turnpike config push --config gateway.yaml --prefix /turnpike/prod`\n');
    return 2;
  }
  let target: EtcdLocation;
  let ifRevision: number | undefined;
  try {
    target = configTarget(options, env);
    if (options.ifRevision !== undefined) {
      if (!/^\d+$/.test(options.ifRevision)) throw new UsageError(`--if-revision must be a revision number (0: the key must not exist), got "${options.ifRevision}"`);
      ifRevision = Number(options.ifRevision);
    }
  } catch (err) {
    process.stderr.write(`turnpike config ${sub}: ${(err as Error).message}\n`);
    return 2;
  }
  // A ConfigError thrown here reaches the CLI's handler: file:line messages, exit 1, nothing written.
  if (sub === 'push') loadConfig(options.configPath, env);
  let text: string;
  try {
    text = readFileSync(options.configPath, 'utf8');
  } catch (err) {
    process.stderr.write(`turnpike config ${sub}: cannot read ${options.configPath} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})\n`);
    return 2;
  }
  const client = createEtcdClient(target.endpoints);
  const key = configKey(target.prefix);
  const url = `${formatEtcdUrl(target)}/config`;
  try {
    const current = await client.get(key).exec();
    const kv = current.kvs[0];
    const etcdText = kv === undefined ? null : kv.value.toString('utf8');
    const etcdRevision = kv === undefined ? 0 : Number(kv.mod_revision);
    if (sub === 'diff') return diffTexts(etcdText ?? '', `${url}@rev${etcdRevision}`, text, options.configPath);
    if (ifRevision === undefined && etcdText === text) {
      process.stdout.write(`${url}: unchanged (revision ${etcdRevision})\n`);
      return 0;
    }
    let revision: number;
    if (ifRevision === undefined) {
      revision = Number((await client.put(key).value(text).exec()).header.revision);
    } else {
      const txn = await client.if(key, 'Mod', '==', ifRevision).then(client.put(key).value(text)).commit();
      if (!txn.succeeded) {
        process.stderr.write(`turnpike config push: not written: ${url} is at revision ${etcdRevision}, not ${ifRevision}\n`);
        return 1;
      }
      revision = Number(txn.header.revision);
    }
    process.stdout.write(`${url}: pushed ${options.configPath} as revision ${revision}\n`);
    return 0;
  } catch (err) {
    process.stderr.write(`turnpike config ${sub}: etcd at ${target.endpoints.join(',')}: ${(err as Error).message}\n`);
    return 2;
  } finally {
    client.close();
  }
}

/**
 * Prints `diff -u` of the two texts (labelled with the etcd revision and the
 * file); 0 when equal, 1 when different, like diff(1).
 */
function diffTexts(etcdText: string, etcdLabel: string, fileText: string, fileLabel: string): number {
  if (etcdText === fileText) return 0;
  const dir = mkdtempSync(join(tmpdir(), 'turnpike-diff-'));
  try {
    const a = join(dir, 'etcd.yaml');
    writeFileSync(a, etcdText);
    // why: diff(1) (diffutils, essential on Debian) is the trusted tool for this.
    const r = spawnSync('diff', ['-u', '--label', etcdLabel, '--label', fileLabel, a, '-'], { input: fileText, encoding: 'utf8' });
    if (r.error !== undefined || (r.status !== 0 && r.status !== 1)) {
      process.stdout.write(`${etcdLabel} and ${fileLabel} differ (cannot run diff: ${r.error?.message ?? r.stderr})\n`);
    } else {
      process.stdout.write(r.stdout);
    }
    return 1;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
