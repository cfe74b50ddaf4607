/** `large-body`: 1 MiB POSTs echoed by the upstream: streaming cost both ways. */
import type { Scenario, ScenarioRequest } from './types.js';

/** Size of the posted body. */
export const LARGE_BODY_BYTES = 1024 * 1024;

/** A deterministic 1 MiB body (not all one byte, so a mangled echo shows). */
function makeBody(): Buffer {
  const b = Buffer.allocUnsafe(LARGE_BODY_BYTES);
  for (let i = 0; i < b.length; i++) b[i] = 97 + (i % 26);
  return b;
}

let body: Buffer | undefined;

/** POST /upload/echo with 1 MiB; the upstream echoes it back. */
export const largeBody: Scenario = {
  name: 'large-body',
  description: '1 MiB POST echoed by the upstream (streamed both ways)',
  configFile: 'large-body.yaml',
  upstreamDelayMs: 0,
  connections: 8,
  rates: [50],
  requests: function largeRequests(): ScenarioRequest[] {
    body ??= makeBody();
    return [{ method: 'POST', path: '/upload/echo', headers: { 'content-type': 'application/octet-stream' }, body }];
  },
  verify: function verifyEcho(req: ScenarioRequest, status: number, got: Buffer): string | null {
    if (status !== 200) return `status ${status}, expected 200`;
    if (req.body === undefined || !got.equals(req.body)) return `echo of ${got.length} bytes differs from the ${req.body?.length ?? 0} bytes sent`;
    return null;
  },
};
