/**
 * Load-time checks of `server.tls` and `server.redirectHttp`: every file is
 * read and parsed with node:crypto and tried in a real TLS context, so a
 * missing file, an unreadable or mismatched key or a wrong passphrase is a
 * config error naming the field, never a worker that uWS fails to start (it
 * only says "App construction failed") or, for an SNI host, silently serves
 * the default certificate.
 */
import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { createSecureContext } from 'node:tls';
import { displayPath, type ConfigPath } from './issues.js';
import { DEFAULTS } from './normalise.js';
import { readSecret, secretProblem } from './secrets.js';
import type { TlsConfig } from './types.js';

type Obj = Record<string, unknown>;
type Issue = (path: ConfigPath, message: string) => void;

const HOST = /^(?:\*\.)?(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/i;
const PEM_CERT = /-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Checks `server.tls` (files, keys, passphrases, SNI entries, client
 * certificates) and `server.redirectHttp` (needs TLS, its own port).
 *
 * @param server the parsed `server` section.
 * @param admin the parsed `admin` section (for port clashes), if any.
 */
export function checkTlsSection(server: Obj, admin: unknown, issue: Issue, env: NodeJS.ProcessEnv = process.env): void {
  const at: ConfigPath = ['server', 'tls'];
  const tls = isObj(server.tls) ? server.tls : null;
  if (server.redirectHttp !== undefined) checkRedirect(server, admin, tls !== null, issue);
  if (tls === null) return;
  checkPair(tls, at, issue, env);
  if (typeof tls.clientCa === 'string') checkClientCa(tls.clientCa, [...at, 'clientCa'], issue);
  else if (tls.clientAuth === 'optional' || tls.clientAuth === 'require') {
    issue([...at, 'clientAuth'], `${tls.clientAuth} needs server.tls.clientCa (the CA bundle client certificates must chain to)`);
  }
  if (!Array.isArray(tls.sni)) return;
  const hosts = new Map<string, number>();
  tls.sni.forEach((entry: unknown, i: number) => {
    if (!isObj(entry)) return;
    const here: ConfigPath = [...at, 'sni', i];
    for (const field of ['clientCa', 'clientAuth'] as const) {
      if (entry[field] === undefined) continue;
      issue([...here, field], `client certificates cannot be configured per SNI host (uWebSockets.js ignores a CA on an SNI host, `
        + `so the host would not ask for certificates): set server.tls.${field}, which applies to every host`);
    }
    if (typeof entry.host === 'string') {
      const host = entry.host.toLowerCase();
      if (!HOST.test(host)) issue([...here, 'host'], 'must be a host name like api.example.com, or *.example.com (no port, no IP address)');
      const first = hosts.get(host);
      if (first !== undefined) issue([...here, 'host'], `duplicate SNI host "${host}" (also ${displayPath([...at, 'sni', first])})`);
      else hosts.set(host, i);
    }
    checkPair(entry, here, issue, env);
  });
}

/** redirectHttp needs TLS to redirect to, and a port of its own. */
function checkRedirect(server: Obj, admin: unknown, hasTls: boolean, issue: Issue): void {
  const at: ConfigPath = ['server', 'redirectHttp'];
  if (!hasTls) issue(at, 'needs server.tls (it redirects plain HTTP requests to the TLS listener)');
  const port = server.redirectHttp;
  if (typeof port !== 'number') return;
  if (port === (server.port ?? DEFAULTS.port)) issue(at, 'must differ from server.port');
  if (port === ((isObj(admin) ? admin.port : undefined) ?? DEFAULTS.adminPort)) issue(at, 'must differ from admin.port');
}

/** A cert/key (and passphrase) triple: readable, parseable, matching, accepted by OpenSSL. */
function checkPair(o: Obj, at: ConfigPath, issue: Issue, env: NodeJS.ProcessEnv): void {
  let passphrase: string | undefined;
  if (typeof o.passphrase === 'string') {
    const problem = secretProblem(o.passphrase, env);
    if (problem !== null) {
      issue([...at, 'passphrase'], problem);
      return;
    }
    passphrase = readSecret(o.passphrase, env);
  }
  const certText = typeof o.cert === 'string' ? readPem(o.cert, [...at, 'cert'], issue) : null;
  const keyText = typeof o.key === 'string' ? readPem(o.key, [...at, 'key'], issue) : null;
  let cert: X509Certificate | null = null;
  if (certText !== null) {
    try {
      cert = new X509Certificate(certText);
    } catch {
      issue([...at, 'cert'], `${resolve(o.cert as string)} holds no PEM certificate`);
    }
  }
  const key = keyText === null ? null : parseKey(keyText, o.key as string, passphrase, at, issue);
  if (cert === null || key === null) return;
  if (!cert.checkPrivateKey(key)) {
    issue([...at, 'key'], `${resolve(o.key as string)} is not the key of the certificate in ${resolve(o.cert as string)}`);
    return;
  }
  try {
    createSecureContext({ cert: certText!, key: keyText!, passphrase });
  } catch (err) {
    issue([...at, 'cert'], `OpenSSL refuses this certificate and key: ${(err as Error).message}`);
  }
}

/** The private key, or null after reporting why it cannot be used. */
function parseKey(text: string, file: string, passphrase: string | undefined, at: ConfigPath, issue: Issue): KeyObject | null {
  try {
    return createPrivateKey({ key: text, format: 'pem', passphrase });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? '';
    const encrypted = text.includes('ENCRYPTED');
    if (passphrase === undefined && (encrypted || code === 'ERR_MISSING_PASSPHRASE' || code === 'ERR_OSSL_CRYPTO_INTERRUPTED_OR_CANCELLED')) {
      issue([...at, 'key'], `${resolve(file)} is encrypted: set ${displayPath([...at, 'passphrase'])} (env:NAME, file:PATH or the text)`);
    } else if (passphrase !== undefined && encrypted) {
      issue([...at, 'passphrase'], `cannot decrypt ${resolve(file)} with this passphrase (wrong passphrase?)`);
    } else {
      issue([...at, 'key'], `${resolve(file)} holds no PEM private key`);
    }
    return null;
  }
}

/**
 * The CA bundle: readable, certificates only, and a self-signed root among
 * them (OpenSSL verifies client certificates up to a root in this file; an
 * intermediate alone would refuse every client).
 */
function checkClientCa(file: string, at: ConfigPath, issue: Issue): void {
  const text = readPem(file, at, issue);
  if (text === null) return;
  const blocks = text.match(PEM_CERT) ?? [];
  if (blocks.length === 0) {
    issue(at, `${resolve(file)} holds no PEM certificate`);
    return;
  }
  let root = false;
  for (const block of blocks) {
    let x: X509Certificate;
    try {
      x = new X509Certificate(block);
    } catch {
      issue(at, `${resolve(file)} holds a certificate node:crypto cannot parse`);
      return;
    }
    if (x.checkIssued(x) && x.verify(x.publicKey)) root = true;
  }
  if (!root) issue(at, `${resolve(file)} holds no self-signed (root) CA certificate: client certificates are verified up to a root in this file`);
}

/** The file's text, or null after reporting why it cannot be read. */
function readPem(file: string, at: ConfigPath, issue: Issue): string | null {
  const abs = resolve(file);
  try {
    return readFileSync(abs, 'utf8');
  } catch (err) {
    issue(at, `cannot read ${abs} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
    return null;
  }
}

/**
 * The same file checks on a normalised {@link TlsConfig}, for a worker about
 * to hand the files to uWS (a reload's new workers re-read them; a file
 * replaced with a broken one since the config was loaded fails the worker's
 * start, and so the reload, instead of reaching uWS). Returns the problems
 * (`server.tls.sni[0].key: …`), empty when there are none.
 */
export function tlsFileProblems(tls: TlsConfig, env: NodeJS.ProcessEnv = process.env): string[] {
  const out: string[] = [];
  const issue: Issue = (path, message) => { out.push(`${displayPath(path)}: ${message}`); };
  const at: ConfigPath = ['server', 'tls'];
  checkPair(tls as unknown as Obj, at, issue, env);
  if (tls.clientCa !== null && tls.clientAuth !== 'none') checkClientCa(tls.clientCa, [...at, 'clientCa'], issue);
  tls.sni.forEach((entry, i) => checkPair(entry as unknown as Obj, [...at, 'sni', i], issue, env));
  return out;
}
