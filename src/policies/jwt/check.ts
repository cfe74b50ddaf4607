/**
 * The jwt kind's semantic checks (what the schema cannot express): a key
 * source exists, every listed algorithm has a key of its own type and every
 * key fits a listed algorithm, secrets are readable and long enough, PEM and
 * JWK keys import, the JWKS URL and durations make sense, credential
 * sources parse, and claimsToHeaders stays off headers the gateway owns.
 */
import { readFileSync } from 'node:fs';
import type { ConfigPath } from '../../config/issues.js';
import { secretProblem, readSecret } from '../../config/secrets.js';
import { tryParseDuration, tryParseSize } from '../../config/units.js';
import { parseSource, SourceKind, type CredentialSource } from '../credentials/credential-source.js';
import { REQUEST_OWNED } from '../headers/schema.js';
import type { IssueSink } from '../types.js';
import { familyLabel, hmacMinBytes, isHmac, JWS_ALGORITHMS, keyFits, type KeyFamily } from './algorithms.js';
import { publicKeyFromJwk, publicKeyFromPem, readPem, type KeyConfig } from './keys.js';

type Obj = Record<string, unknown>;

/** Identity headers the gateway strips from every request and sets itself (forward-headers.ts). */
const IDENTITY_HEADERS = new Set([
  'x-consumer-id', 'x-consumer-username', 'x-consumer-groups', 'x-anonymous-consumer', 'x-client-cert-subject', 'x-client-cert-fingerprint',
]);

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Checks a jwt config at `at` (its schema may have failed: every access is defensive). */
export function checkJwt(config: unknown, at: ConfigPath, issue: IssueSink): void {
  if (!isObj(config)) return;
  if (config.jwks === undefined && config.keys === undefined) issue(at, 'needs jwks (a JWK Set URL) or keys (configured keys), or both');
  const algorithms = Array.isArray(config.algorithms) ? config.algorithms.filter((a): a is string => typeof a === 'string') : [];
  const families = Array.isArray(config.keys) ? checkKeys(config.keys, [...at, 'keys'], algorithms, issue) : [];
  if (Array.isArray(config.algorithms)) checkAlgorithms(config.algorithms, at, families, config.jwks !== undefined, issue);
  if (isObj(config.jwks)) checkJwks(config.jwks, [...at, 'jwks'], issue);
  const sources = Array.isArray(config.from) ? checkSources(config.from, [...at, 'from'], issue) : [parseSource('header:authorization:Bearer') as CredentialSource];
  if (isObj(config.claimsToHeaders)) checkClaimHeaders(config.claimsToHeaders, [...at, 'claimsToHeaders'], sources, issue);
  if (config.maxTokenLength !== undefined && tryParseSize(config.maxTokenLength) === 0) issue([...at, 'maxTokenLength'], 'must be more than 0');
}

/** One configured key's family and algorithm restriction, when it imported. */
interface KeyInfo { family: KeyFamily; alg: string | undefined }

/** Each key: one of jwk/pem/secret, imports, fits a listed algorithm. Returns what imported. */
function checkKeys(keys: unknown[], at: ConfigPath, algorithms: readonly string[], issue: IssueSink): KeyInfo[] {
  const out: KeyInfo[] = [];
  keys.forEach((k: unknown, i: number) => {
    if (!isObj(k)) return;
    const path = [...at, i];
    const kinds = (['jwk', 'pem', 'secret'] as const).filter((m) => k[m] !== undefined);
    if (kinds.length === 0) { issue(path, 'needs one of jwk, pem or secret'); return; }
    if (kinds.length > 1) { issue(path, `takes one of jwk, pem or secret, not ${kinds.join(' and ')}`); return; }
    const alg = typeof k.alg === 'string' ? k.alg : undefined;
    const info = kinds[0] === 'secret' ? checkSecretKey(k as KeyConfig, path, alg, issue) : checkPublicKey(k as KeyConfig, kinds[0], path, alg, issue);
    if (info === null) return;
    out.push(info);
    if (info.alg !== undefined && !algorithms.includes(info.alg)) {
      issue([...path, 'alg'], `${info.alg} is not in algorithms (${algorithms.join(', ')}), so this key would never be used`);
    } else if (info.alg === undefined && algorithms.length > 0 && !algorithms.some((a) => keyFits(info.family, a))) {
      issue(path, `${familyLabel(info.family)} fits none of algorithms (${algorithms.join(', ')})`);
    }
  });
  return out;
}

function checkSecretKey(k: KeyConfig, path: ConfigPath, alg: string | undefined, issue: IssueSink): KeyInfo | null {
  if (alg === undefined) { issue(path, 'a secret needs alg: HS256, HS384 or HS512'); return null; }
  if (!isHmac(alg)) { issue([...path, 'alg'], `a secret only verifies HMAC algorithms (HS256, HS384, HS512), not ${alg}`); return null; }
  if (k.kid !== undefined && typeof k.kid !== 'string') return null;
  if (typeof k.secret !== 'string') return null;
  const problem = secretProblem(k.secret);
  if (problem !== null) { issue([...path, 'secret'], problem); return null; }
  const bytes = Buffer.byteLength(readSecret(k.secret), 'utf8');
  const min = hmacMinBytes(alg);
  if (bytes < min) issue([...path, 'secret'], `is ${bytes} bytes; ${alg} needs a secret of at least ${min} bytes (RFC 7518 §3.2)`);
  return { family: 'oct', alg };
}

function checkPublicKey(k: KeyConfig, kind: 'jwk' | 'pem', path: ConfigPath, alg: string | undefined, issue: IssueSink): KeyInfo | null {
  let parsed: ReturnType<typeof publicKeyFromJwk>;
  if (kind === 'jwk') {
    parsed = publicKeyFromJwk(k.jwk);
  } else {
    if (typeof k.pem !== 'string') return null;
    let text: string;
    try {
      text = readPem(k.pem);
    } catch (err) {
      issue([...path, 'pem'], `cannot read ${k.pem}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
      return null;
    }
    parsed = publicKeyFromPem(text);
  }
  if (typeof parsed === 'string') { issue([...path, kind], parsed); return null; }
  const jwk = kind === 'jwk' ? (k.jwk as Obj) : {};
  const ownAlg = typeof jwk.alg === 'string' ? jwk.alg : undefined;
  if (alg !== undefined && ownAlg !== undefined && alg !== ownAlg) {
    issue([...path, 'alg'], `differs from the JWK's own alg (${ownAlg})`);
    return null;
  }
  if (typeof jwk.kid === 'string' && typeof k.kid === 'string' && jwk.kid !== k.kid) issue([...path, 'kid'], `differs from the JWK's own kid (${jwk.kid})`);
  const restricted = alg ?? ownAlg;
  if (restricted !== undefined && isHmac(restricted)) {
    issue([...path, alg !== undefined ? 'alg' : kind], `${restricted} is an HMAC algorithm: it only takes a secret, never a public key`);
    return null;
  }
  if (restricted !== undefined && !keyFits(parsed.family, restricted)) {
    issue([...path, alg !== undefined ? 'alg' : kind], `${familyLabel(parsed.family)} cannot verify ${restricted}`);
    return null;
  }
  return { family: parsed.family, alg: restricted };
}

/** Every algorithm has a key of its type: HMAC ones a secret with that alg, the others jwks or a fitting public key. */
function checkAlgorithms(algorithms: unknown[], at: ConfigPath, keys: readonly KeyInfo[], jwks: boolean, issue: IssueSink): void {
  algorithms.forEach((alg: unknown, i: number) => {
    if (typeof alg !== 'string' || !JWS_ALGORITHMS.includes(alg)) return; // the schema reports it
    const path = [...at, 'algorithms', i];
    if (isHmac(alg)) {
      if (!keys.some((k) => k.family === 'oct' && k.alg === alg)) {
        issue(path, `${alg} needs a key { secret: ..., alg: ${alg} } (HMAC algorithms never use public keys or jwks)`);
      }
    } else if (!jwks && !keys.some((k) => k.family !== 'oct' && keyFits(k.family, alg) && (k.alg === undefined || k.alg === alg))) {
      issue(path, `${alg} has no key: add jwks or a fitting public key to keys`);
    }
  });
}

function checkJwks(jwks: Obj, at: ConfigPath, issue: IssueSink): void {
  if (typeof jwks.url === 'string') {
    let url: URL | null = null;
    try { url = new URL(jwks.url); } catch { /* reported below */ }
    if (url === null || (url.protocol !== 'https:' && url.protocol !== 'http:')) issue([...at, 'url'], 'must be an http:// or https:// URL');
    else if (url.username !== '' || url.password !== '') issue([...at, 'url'], 'must not carry credentials');
  }
  for (const field of ['cacheTtl', 'timeout'] as const) {
    if (jwks[field] !== undefined && tryParseDuration(jwks[field]) === 0) issue([...at, field], 'must be more than 0');
  }
  if (typeof jwks.ca === 'string') {
    let text = '';
    try {
      text = readFileSync(jwks.ca, 'utf8');
    } catch (err) {
      issue([...at, 'ca'], `cannot read ${jwks.ca}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
      return;
    }
    if (!text.includes('-----BEGIN CERTIFICATE-----')) issue([...at, 'ca'], `${jwks.ca} holds no PEM certificate`);
  }
}

function checkSources(from: unknown[], at: ConfigPath, issue: IssueSink): CredentialSource[] {
  const out: CredentialSource[] = [];
  from.forEach((spec: unknown, i: number) => {
    if (typeof spec !== 'string') return;
    const s = parseSource(spec);
    if (typeof s === 'string') issue([...at, i], s);
    else out.push(s);
  });
  return out;
}

/** Names are not owned by the gateway, not identity headers, not where the token is read from, not listed twice. */
function checkClaimHeaders(map: Obj, at: ConfigPath, sources: readonly CredentialSource[], issue: IssueSink): void {
  const seen = new Set<string>();
  for (const name of Object.keys(map)) {
    const lower = name.toLowerCase();
    const path = [...at, name];
    if (seen.has(lower)) issue(path, `duplicate header name "${lower}" (names are case-insensitive)`);
    seen.add(lower);
    if (Object.hasOwn(REQUEST_OWNED, lower)) issue(path, `${lower} ${REQUEST_OWNED[lower]}; it cannot carry a claim`);
    else if (IDENTITY_HEADERS.has(lower)) issue(path, `${lower} is an identity header the gateway sets from the consumer itself (see consumerClaim, usernameClaim, groupsClaim)`);
    else if (sources.some((s) => (s.kind === SourceKind.Header && s.name === lower) || (s.kind === SourceKind.Cookie && lower === 'cookie'))) {
      issue(path, `${lower} is where the token is read from (from); it cannot also carry a claim`);
    }
  }
}
