/**
 * Verification keys: the configured ones (`keys`: a public JWK, a PEM file,
 * an HMAC secret) and those of a JWKS document, indexed by `kid`. Keys are
 * imported with node's crypto into KeyObjects (jose verifies with them);
 * nothing in a token's header (`jwk`, `jku`, `x5u`, `x5c`) is ever turned
 * into a key: a token only names a `kid`, which is looked up here.
 */
import { createPublicKey, type JsonWebKey, type KeyObject, type webcrypto } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { readSecret } from '../../config/secrets.js';
import { familyOf, keyFits, type KeyFamily } from './algorithms.js';

/**
 * How long a key may still be used, shared by every cached token it
 * verified: a JWKS refresh that drops (or changes) the key sets it to 0, and
 * each successful refresh moves it to the set's usable end (fetch + cacheTtl
 * + maxStale). Configured keys never expire.
 */
export interface KeyRef {
  usableUntil: number;
}

/** One verification key. */
export interface VerifyKey {
  /** Its `kid` (undefined when it has none). */
  readonly kid: string | undefined;
  /** The one algorithm it is restricted to (JWK `alg`, or the config's `alg`), or undefined for any that fits. */
  readonly alg: string | undefined;
  readonly family: KeyFamily;
  /** A public KeyObject, or the HMAC secret (a CryptoKey once first imported). */
  key: KeyObject | Uint8Array | webcrypto.CryptoKey;
  readonly ref: KeyRef;
  /** Identity across JWKS refreshes: kid, alg and the public parameters. */
  readonly fingerprint: string;
}

/** The life of configured keys. */
const FOREVER: KeyRef = { usableUntil: Infinity };

/** Most keys taken from one JWKS document (the rest are ignored). */
export const MAX_JWKS_KEYS = 100;

/** Keys by kid, with the match rules of RFC 7515/7517 as jose applies them. */
export class KeyIndex {
  private readonly byKid = new Map<string, VerifyKey[]>();

  constructor(readonly all: readonly VerifyKey[]) {
    for (const k of all) {
      if (k.kid === undefined) continue;
      const list = this.byKid.get(k.kid);
      if (list === undefined) this.byKid.set(k.kid, [k]);
      else list.push(k);
    }
  }

  /**
   * Appends to `out` the keys that may verify a token with `alg` and `kid`:
   * the key's type fits the algorithm, its own `alg` (if any) is this one,
   * and its kid is the token's (a token without kid may use any key).
   */
  candidates(alg: string, kid: string | undefined, out: VerifyKey[]): void {
    // why: a kid is only ever a map key here, whatever its length or content.
    const list = kid === undefined ? this.all : this.byKid.get(kid);
    if (list === undefined) return;
    for (let i = 0; i < list.length; i++) {
      const k = list[i];
      if (keyFits(k.family, alg) && (k.alg === undefined || k.alg === alg)) out.push(k);
    }
  }
}

/** A public key from a JWK, or why it is not one. Private members are ignored (only the public part is kept). */
export function publicKeyFromJwk(jwk: unknown): { key: KeyObject; family: KeyFamily } | string {
  if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk)) return 'must be a JWK object';
  const j = jwk as Record<string, unknown>;
  if (j.kty === 'oct') return 'is a symmetric (oct) key: HMAC keys are configured as { secret: ..., alg: HS256 }';
  if (j.use !== undefined && j.use !== 'sig') return `has "use": ${JSON.stringify(j.use)} (only "sig" keys verify signatures)`;
  if (j.key_ops !== undefined && !(Array.isArray(j.key_ops) && j.key_ops.includes('verify'))) return 'has key_ops without "verify"';
  let key: KeyObject;
  try {
    key = createPublicKey({ key: publicPart(j), format: 'jwk' });
  } catch (err) {
    return 'is not a usable public key (' + (err instanceof Error ? err.message : String(err)) + ')';
  }
  const family = familyOf(key);
  return !isFamily(family) ? family : { key, family };
}

/** A public key from PEM text (SPKI public key, X.509 certificate, or a private key whose public half is taken). */
export function publicKeyFromPem(pem: string): { key: KeyObject; family: KeyFamily } | string {
  let key: KeyObject;
  try {
    key = createPublicKey(pem);
  } catch (err) {
    return 'is not a PEM public key or certificate (' + (err instanceof Error ? err.message : String(err)) + ')';
  }
  const family = familyOf(key);
  return !isFamily(family) ? family : { key, family };
}

/** PEM text from `pem:` as written: inline PEM, or a file path. Throws when the file cannot be read. */
export function readPem(ref: string): string {
  return ref.trimStart().startsWith('-----BEGIN') ? ref : readFileSync(ref, 'utf8');
}

function isFamily(v: string): v is KeyFamily {
  return v === 'rsa' || v === 'rsa-pss' || v === 'ec:P-256' || v === 'ec:P-384' || v === 'ec:P-521' || v === 'ed25519' || v === 'oct';
}

const PUBLIC_MEMBERS = ['kty', 'crv', 'n', 'e', 'x', 'y'] as const;

function publicPart(j: Record<string, unknown>): JsonWebKey {
  const out: Record<string, unknown> = {};
  for (const m of PUBLIC_MEMBERS) if (j[m] !== undefined) out[m] = j[m];
  return out as JsonWebKey;
}

function fingerprintOf(kid: string | undefined, alg: string | undefined, j: Record<string, unknown>): string {
  return JSON.stringify([kid ?? null, alg ?? null, ...PUBLIC_MEMBERS.map((m) => j[m] ?? null)]);
}

/** A configured `keys` entry as written (schema- and check-valid). */
export interface KeyConfig {
  readonly jwk?: Record<string, unknown>;
  readonly pem?: string;
  readonly secret?: string;
  readonly alg?: string;
  readonly kid?: string;
}

/** Imports the configured keys (already validated at load, so a failure here is a changed file or variable). */
export function loadConfiguredKeys(keys: readonly KeyConfig[]): VerifyKey[] {
  return keys.map((k, i) => {
    if (k.secret !== undefined) {
      const bytes = new Uint8Array(Buffer.from(readSecret(k.secret), 'utf8'));
      return { kid: k.kid, alg: k.alg, family: 'oct' as const, key: bytes, ref: FOREVER, fingerprint: 'secret:' + i };
    }
    const parsed = k.jwk !== undefined ? publicKeyFromJwk(k.jwk) : publicKeyFromPem(readPem(k.pem ?? ''));
    if (typeof parsed === 'string') throw new Error(`jwt keys[${i}] ${parsed}`);
    const kid = k.kid ?? (typeof k.jwk?.kid === 'string' ? k.jwk.kid : undefined);
    const alg = k.alg ?? (typeof k.jwk?.alg === 'string' ? k.jwk.alg : undefined);
    return { kid, alg, family: parsed.family, key: parsed.key, ref: FOREVER, fingerprint: 'configured:' + i };
  });
}

/** A parsed JWKS document: the usable keys, and why the others were skipped. */
export interface ParsedJwks {
  readonly keys: VerifyKey[];
  readonly skipped: string[];
}

/**
 * Parses a JWKS document. Keys that cannot verify JWTs (encryption keys,
 * symmetric keys, unsupported types, small RSA keys, malformed members) are
 * skipped with a note; a key identical to one of `previous` (same kid, alg
 * and public parameters) keeps its {@link KeyRef}, so the tokens it verified
 * stay cached. Throws when the document is not a JWKS at all.
 */
export function parseJwks(doc: unknown, previous: KeyIndex | null): ParsedJwks {
  if (typeof doc !== 'object' || doc === null || !Array.isArray((doc as { keys?: unknown }).keys)) {
    throw new Error('not a JWK Set (no "keys" list)');
  }
  const old = new Map<string, VerifyKey>();
  if (previous !== null) for (const k of previous.all) old.set(k.fingerprint, k);
  const list = (doc as { keys: unknown[] }).keys;
  const keys: VerifyKey[] = [];
  const skipped: string[] = [];
  for (let i = 0; i < list.length; i++) {
    if (keys.length >= MAX_JWKS_KEYS) { skipped.push(`keys beyond the first ${MAX_JWKS_KEYS}`); break; }
    const j = list[i] as Record<string, unknown>;
    const parsed = publicKeyFromJwk(j);
    if (typeof parsed === 'string') { skipped.push(`keys[${i}] ${parsed}`); continue; }
    const kid = typeof j.kid === 'string' ? j.kid : undefined;
    const alg = typeof j.alg === 'string' ? j.alg : undefined;
    const fingerprint = fingerprintOf(kid, alg, j);
    const same = old.get(fingerprint);
    keys.push(same ?? { kid, alg, family: parsed.family, key: parsed.key, ref: { usableUntil: 0 }, fingerprint });
  }
  return { keys, skipped };
}
