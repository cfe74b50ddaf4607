/**
 * The JWS algorithms the jwt kind accepts and which key fits which
 * algorithm. A key is only ever used for algorithms of its own type: an
 * HMAC algorithm only with a configured `secret`, an asymmetric one only
 * with a public key of the matching type (RSA for RS and PS, the named
 * curve for ES, Ed25519 for EdDSA). `none` is not an algorithm here.
 */
import type { KeyObject } from 'node:crypto';

/** Every algorithm `algorithms` may list. */
export const JWS_ALGORITHMS: readonly string[] = [
  'RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519', 'HS256', 'HS384', 'HS512',
];

/** The type of a verification key: what {@link keyFits} compares with an algorithm. */
export type KeyFamily = 'rsa' | 'rsa-pss' | 'ec:P-256' | 'ec:P-384' | 'ec:P-521' | 'ed25519' | 'oct';

/** Smallest RSA modulus accepted (RFC 7518 §3.3; jose refuses smaller ones too). */
export const MIN_RSA_BITS = 2048;

/** Whether `alg` is an HMAC algorithm (HS256/384/512). */
export function isHmac(alg: string): boolean {
  return alg.charCodeAt(0) === 72 && alg.charCodeAt(1) === 83; // 'HS'
}

/** Bytes an HMAC secret needs at least for `alg` (RFC 7518 §3.2: the hash size). */
export function hmacMinBytes(alg: string): number {
  return alg === 'HS512' ? 64 : alg === 'HS384' ? 48 : 32;
}

/** Whether a key of `family` may verify `alg`. */
export function keyFits(family: KeyFamily, alg: string): boolean {
  switch (alg) {
    case 'RS256': case 'RS384': case 'RS512': return family === 'rsa';
    case 'PS256': case 'PS384': case 'PS512': return family === 'rsa' || family === 'rsa-pss';
    case 'ES256': return family === 'ec:P-256';
    case 'ES384': return family === 'ec:P-384';
    case 'ES512': return family === 'ec:P-521';
    case 'EdDSA': case 'Ed25519': return family === 'ed25519';
    case 'HS256': case 'HS384': case 'HS512': return family === 'oct';
    default: return false;
  }
}

const CURVES: Readonly<Record<string, KeyFamily>> = { prime256v1: 'ec:P-256', secp384r1: 'ec:P-384', secp521r1: 'ec:P-521' };

/**
 * The family of a public key, or a message saying why it cannot verify
 * JWTs (unsupported type or curve, RSA modulus under 2048 bits).
 */
export function familyOf(key: KeyObject): KeyFamily | string {
  const type = key.asymmetricKeyType;
  const details = key.asymmetricKeyDetails ?? {};
  if (type === 'rsa' || type === 'rsa-pss') {
    const bits = details.modulusLength ?? 0;
    if (bits < MIN_RSA_BITS) return `an RSA key of ${bits} bits is too small (at least ${MIN_RSA_BITS})`;
    return type;
  }
  if (type === 'ec') {
    const family = CURVES[details.namedCurve ?? ''];
    return family ?? `EC curve ${details.namedCurve ?? '?'} is not supported (P-256, P-384 or P-521)`;
  }
  if (type === 'ed25519') return 'ed25519';
  return `key type ${type ?? '?'} is not supported (RSA, EC P-256/P-384/P-521 or Ed25519)`;
}

/** A family as people say it, for messages. */
export function familyLabel(family: KeyFamily): string {
  switch (family) {
    case 'rsa': return 'an RSA key';
    case 'rsa-pss': return 'an RSA-PSS key';
    case 'ed25519': return 'an Ed25519 key';
    case 'oct': return 'a secret';
    default: return 'an EC ' + family.slice(3) + ' key';
  }
}
