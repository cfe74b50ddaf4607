import { X509Certificate, createPrivateKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { createSecureContext } from 'node:tls';
import type { ConfigPath } from './issues.js';
import { readSecret, secretProblem } from './secrets.js';

type Obj = Record<string, unknown>;
type Issue = (path: ConfigPath, message: string) => void;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Checks what the schema cannot about an upstream's TLS (http and grpc
 * upstreams alike): with `tls` every target is https://, fields that go together
 * (cert + key, passphrase needs key), and the PEM files themselves: readable,
 * parseable, the key decrypts with the passphrase and matches the cert. So a
 * bad file is a config error naming file:line:field, not a failed handshake
 * at run time.
 *
 * @param up the upstream's raw config (values of a wrong shape are skipped: the schema reports them)
 * @param at the upstream's path (`['upstreams', name]`)
 * @param issue reports one problem
 * @param env where `passphrase: env:NAME` is looked up
 */
export function checkUpstreamTls(up: Obj, at: ConfigPath, issue: Issue, env: NodeJS.ProcessEnv = process.env): void {
  const tls = up.tls;
  if (!isObj(tls)) return;
  if (Array.isArray(up.targets)) {
    up.targets.forEach((t: unknown, i: number) => {
      if (!isObj(t) || typeof t.url !== 'string') return;
      const scheme = /^([A-Za-z0-9]+):/.exec(t.url)?.[1].toLowerCase();
      if (scheme !== 'https') issue([...at, 'targets', i, 'url'], 'must be https:// when tls is set (tls applies to every target of the upstream)');
    });
  }
  const tat: ConfigPath = [...at, 'tls'];
  if (typeof tls.serverName === 'string' && isIP(tls.serverName) !== 0) {
    issue([...tat, 'serverName'], 'must be a host name, not an IP address (for an IP target leave it out: the certificate is then checked for that IP)');
  }
  const hasCert = tls.cert !== undefined;
  const hasKey = tls.key !== undefined;
  if (hasCert && !hasKey) issue([...tat, 'key'], 'is required with cert (the client certificate\'s private key)');
  if (hasKey && !hasCert) issue([...tat, 'cert'], 'is required with key (the client certificate)');
  if (tls.passphrase !== undefined && !hasKey) issue([...tat, 'passphrase'], 'only applies with key');
  checkPemFiles(tls, tat, issue, env);
}

/** Reads and parses ca, cert and key; checks that key and cert belong together and that Node's TLS accepts them. */
function checkPemFiles(tls: Obj, tat: ConfigPath, issue: Issue, env: NodeJS.ProcessEnv): void {
  let ok = true;
  const fail = (field: string, message: string): void => { ok = false; issue([...tat, field], message); };
  const ca = typeof tls.ca === 'string' ? readPem(tls.ca, 'ca', fail) : null;
  if (ca !== null && certificates(ca, tls.ca as string, 'ca', fail) === null) ok = false;
  const certText = typeof tls.cert === 'string' ? readPem(tls.cert, 'cert', fail) : null;
  const chain = certText !== null ? certificates(certText, tls.cert as string, 'cert', fail) : null;
  const keyText = typeof tls.key === 'string' ? readPem(tls.key, 'key', fail) : null;
  let passphrase: string | undefined;
  if (typeof tls.passphrase === 'string') {
    const problem = secretProblem(tls.passphrase, env);
    if (problem !== null) fail('passphrase', problem);
    else passphrase = readSecret(tls.passphrase, env);
  }
  let key: KeyObject | null = null;
  if (keyText !== null && (passphrase !== undefined || typeof tls.passphrase !== 'string')) {
    key = privateKey(keyText, tls.key as string, passphrase, fail);
  }
  if (chain !== null && key !== null && !chain[0].checkPrivateKey(key)) {
    fail('key', `${String(tls.key)} does not match the certificate in ${String(tls.cert)}`);
  }
  if (!ok || (ca === null && certText === null)) return;
  try {
    // The last word is Node's own: what it refuses here would fail every handshake.
    createSecureContext({
      ca: ca ?? undefined, cert: certText ?? undefined, key: keyText ?? undefined, passphrase,
      minVersion: tls.minVersion === 'TLSv1.3' ? 'TLSv1.3' : 'TLSv1.2',
    });
  } catch (err) {
    issue(tat, `cannot be used for TLS (${(err as NodeJS.ErrnoException).code ?? 'rejected by OpenSSL'})`);
  }
}

/** The file's text, or null (reported) when it cannot be read. */
function readPem(path: string, field: string, fail: (field: string, message: string) => void): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    fail(field, `cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
    return null;
  }
}

const CERT_BLOCK = /-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g;

/** Every PEM certificate of the file, parsed; null (reported) when there is none or one is malformed. */
function certificates(text: string, path: string, field: string, fail: (field: string, message: string) => void): X509Certificate[] | null {
  const blocks = text.match(CERT_BLOCK);
  if (blocks === null) {
    fail(field, `no PEM certificate (-----BEGIN CERTIFICATE-----) in ${path}`);
    return null;
  }
  const out: X509Certificate[] = [];
  for (let i = 0; i < blocks.length; i++) {
    try {
      out.push(new X509Certificate(blocks[i]));
    } catch {
      fail(field, `certificate ${i + 1} in ${path} is not a valid X.509 certificate`);
      return null;
    }
  }
  return out;
}

/** The decrypted private key, or null (reported). */
function privateKey(text: string, path: string, passphrase: string | undefined,
  fail: (field: string, message: string) => void): KeyObject | null {
  if (!text.includes('PRIVATE KEY-----')) {
    fail('key', `no PEM private key (-----BEGIN ... PRIVATE KEY-----) in ${path}`);
    return null;
  }
  if (passphrase === undefined && text.includes('ENCRYPTED')) {
    fail('key', `${path} is encrypted: set tls.passphrase`);
    return null;
  }
  try {
    return createPrivateKey({ key: text, format: 'pem', passphrase });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? '';
    if (code === 'ERR_MISSING_PASSPHRASE' || code === 'ERR_OSSL_CRYPTO_INTERRUPTED_OR_CANCELLED') {
      fail('key', `${path} is encrypted: set tls.passphrase`);
    } else if (passphrase !== undefined && (text.includes('ENCRYPTED') || /DECRYPT|BAD_PASSWORD/i.test(code))) {
      // why: a wrong passphrase passes the padding check about once in 256 tries and then fails in
      // the DER parser with another code; an encrypted key that does not open is a passphrase problem.
      fail('passphrase', `does not decrypt ${path}`);
    }
    else fail('key', `${path} is not a valid PEM private key${code === '' ? '' : ` (${code})`}`);
    return null;
  }
}
