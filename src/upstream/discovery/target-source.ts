import type { TargetConfig } from '../../config/types.js';

/** Receives a source's complete current target set, each time it changes. */
export type TargetSetListener = (targets: TargetConfig[]) => void;

/** Where discovered targets come from (an etcd prefix, a DNS name). */
export interface TargetSource {
  /** Resolves once the source has delivered its first set, or has failed once (the caller bounds the wait). */
  readonly firstAnswer: Promise<void>;
  /** Stops watching or polling; no listener call follows. Idempotent. */
  close(): Promise<void>;
}

/** A stable text for a target set, to skip updates that change nothing. */
export function setSignature(targets: readonly TargetConfig[]): string {
  return targets.map((t) => t.url + '*' + t.weight).sort().join(' ');
}

/**
 * Reads one discovered target from its JSON value `{"url": "http://10.0.0.5:3001", "weight": 1}`.
 * @returns the target (origin of `url`, weight default 1), or the reason it is not one
 */
export function parseTargetValue(text: string): TargetConfig | string {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return 'not JSON';
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return 'not a JSON object';
  const { url, weight } = v as { url?: unknown; weight?: unknown };
  if (typeof url !== 'string') return '"url" is missing or not a string';
  const m = /^(https?|h2c):\/\/([^/?#\s]+)\/?$/i.exec(url);
  if (m === null) return `"url" ${JSON.stringify(url)} is not an origin like http://10.0.0.5:3001`;
  let origin: string;
  try {
    const u = new URL(`http://${m[2]}`);
    origin = `${m[1].toLowerCase()}://${u.host}`;
  } catch {
    return `"url" ${JSON.stringify(url)} is not an origin like http://10.0.0.5:3001`;
  }
  if (weight !== undefined && (typeof weight !== 'number' || !Number.isInteger(weight) || weight < 1)) return '"weight" must be an integer >= 1';
  return { url: origin, weight: weight ?? 1 };
}
