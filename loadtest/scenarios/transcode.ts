/**
 * `transcode-*`: REST→gRPC transcoding of the example LibraryService's Echo
 * (POST /v1/echo, body "*"): a ~200 B and a ~100 KB message each way, with
 * the protobuf work inline or in the thread pool. Compare the four for the
 * offload crossover.
 */
import type { Scenario, ScenarioRequest } from './types.js';

function echoRequest(textBytes: number): ScenarioRequest {
  const text = 'x'.repeat(textBytes);
  return { method: 'POST', path: '/v1/echo', headers: { 'content-type': 'application/json' }, body: Buffer.from(JSON.stringify({ text, n: '1234567890123' })) };
}

function verifyEcho(req: ScenarioRequest, status: number, body: Buffer): string | null {
  if (status !== 200) return `status ${status}: ${body.toString('utf8').slice(0, 200)}`;
  const want = JSON.parse(req.body!.toString('utf8')) as unknown;
  const got = JSON.parse(body.toString('utf8')) as unknown;
  return JSON.stringify(got) === JSON.stringify(want) ? null : 'the echoed message differs from the one sent';
}

function variant(size: 'small' | 'large', where: 'inline' | 'pool'): Scenario {
  const bytes = size === 'small' ? 160 : 100 * 1024;
  let req: ScenarioRequest | undefined;
  return {
    name: `transcode-${size}-${where}`,
    description: `POST /v1/echo transcoded to gRPC, ${size === 'small' ? '~200 B' : '~100 KB'} each way, protobuf work ${where === 'inline' ? 'inline' : 'in the thread pool'}`,
    configFile: `transcode-${where}.yaml`,
    upstreamDelayMs: 0,
    upstreamKind: 'grpc',
    connections: size === 'small' ? 64 : 16,
    rates: size === 'small' ? [500] : [50],
    requests: () => [(req ??= echoRequest(bytes))],
    verify: verifyEcho,
  };
}

/** The four transcoding scenarios. */
export const TRANSCODE_SCENARIOS: readonly Scenario[] = [
  variant('small', 'inline'), variant('small', 'pool'), variant('large', 'inline'), variant('large', 'pool'),
];
