/**
 * API keys of consumers: where a key comes from (`sha256:` as written,
 * `env:` / `file:` read with the semantics of src/config/secrets.ts) and the
 * digest the gateway stores and looks keys up by. A key itself is never
 * kept: only its SHA-256 leaves this module.
 */
import { hash } from 'node:crypto';
import { readSecret, secretProblem } from '../../config/secrets.js';

/** The key sources of a `consumers[].keys[]` entry, in the order they are reported. */
export const KEY_SOURCES = ['sha256', 'env', 'file'] as const;

/** One key source. */
export type KeySource = (typeof KEY_SOURCES)[number];

type Obj = Record<string, unknown>;

const HEX64 = /^[0-9A-Fa-f]{64}$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * The lookup digest of a presented key: SHA-256, base64. A key-auth lookup
 * is one hash and one Map lookup, never a string compare against each key
 * (so its time does not depend on how much of a key matches).
 */
export function keyDigest(key: string): string {
  return hash('sha256', key, 'base64');
}

/** The lookup digest of a configured `sha256:` (hex) value. */
export function digestOfHex(hex: string): string {
  return Buffer.from(hex, 'hex').toString('base64');
}

/** The sources an entry names (the schema allows any subset; exactly one is valid). */
export function sourcesOf(entry: Obj): KeySource[] {
  return KEY_SOURCES.filter((s) => entry[s] !== undefined);
}

/**
 * Why a key read from env or a file cannot be presented by a client, or
 * null. The message never shows the key.
 */
function keyTextProblem(key: string): string | null {
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    // Visible ASCII except the comma: a key travels in a header (where a comma
    // separates list members, so findCredential reads it as two credentials).
    if (c < 0x21 || c > 0x7e || c === 0x2c) return 'the key must be visible ASCII without spaces or commas (check for a stray newline or space)';
  }
  return null;
}

/**
 * The SHA-256 (lower-case hex) of the key an entry with exactly one source
 * names, or `{ problem }` when it cannot be read. Null when the entry's
 * value has the wrong shape (the schema reports that).
 */
export function keySha256(entry: Obj, source: KeySource, env: NodeJS.ProcessEnv): { hex: string } | { problem: string } | null {
  const value = entry[source];
  if (typeof value !== 'string') return null;
  if (source === 'sha256') return HEX64.test(value) ? { hex: value.toLowerCase() } : null;
  if (source === 'env' ? !ENV_NAME.test(value) : value === '') return null;
  const ref = source + ':' + value;
  const problem = secretProblem(ref, env);
  if (problem !== null) return { problem };
  const key = readSecret(ref, env);
  const bad = keyTextProblem(key);
  if (bad !== null) return { problem: bad };
  return { hex: hash('sha256', key, 'hex') };
}
