/**
 * Admin output never shows secret material: {@link redactSecrets} copies a
 * JSON value, replacing the string value of every field whose name says it
 * holds a credential (a static `authorization` or `x-api-key` a headers
 * policy sends upstream, a `secret` or `password` of a policy config).
 * `env:NAME` and `file:PATH` references are kept: they name where a secret
 * is, not the secret.
 */

/** Field names whose string values are credentials. */
const SENSITIVE = /authorization|cookie|secret|password|passphrase|token|api[-_]?key|private[-_]?key|credential/i;

/** What a redacted value shows. */
export const REDACTED = '[redacted]';

/** A copy of `value` with credential-named string fields replaced by {@link REDACTED}. */
export function redactSecrets(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redactSecrets);
  if (typeof value !== 'object' || value === null) return value;
  const out: Record<string, unknown> = {};
  for (const [name, v] of Object.entries(value)) {
    const hidden = typeof v === 'string' && SENSITIVE.test(name) && !v.startsWith('env:') && !v.startsWith('file:');
    Object.defineProperty(out, name, { value: hidden ? REDACTED : redactSecrets(v), enumerable: true, writable: true, configurable: true });
  }
  return out;
}
