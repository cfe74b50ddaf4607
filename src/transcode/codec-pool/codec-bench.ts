/**
 * Inline vs pool for ProtoCodec: per Book size, throughput and main-thread
 * cost per operation (encode and decode) with 64 operations outstanding.
 * Main-thread cost is event-loop active time (performance.eventLoopUtilization)
 * per op and, on Linux, the main thread's own CPU time from
 * /proc/self/task/<pid>/stat (process.cpuUsage() would add the workers').
 * CLI: node dist/src/transcode/codec-pool/codec-bench.js [--duration-ms 1000] [--threads N]
 */
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { LIBRARY_PROTO, protoIncludeDir, smallBookJson } from '../json-mapping/json-mapping-samples.js';
import { ProtoCodec } from './codec.js';

const BOOK = 'example.library.v1.Book';
const CONCURRENCY = 64;
const MODES = ['inline', 'pool', 'inline-text', 'pool-text'] as const;
type Mode = (typeof MODES)[number];

/** One measured cell. */
export interface CodecBenchRow {
  readonly op: 'encode' | 'decode';
  /** `-text`: encodeText from body text / decodeText to JSON text (what a gateway needs). */
  readonly mode: Mode;
  /** Target and actual encoded size of the Book. */
  readonly targetBytes: number;
  readonly bytes: number;
  readonly opsPerSec: number;
  /** Event-loop active µs per op. */
  readonly mainActiveUsPerOp: number;
  /** Main thread CPU µs per op (NaN where /proc is unavailable; 10 ms tick resolution). */
  readonly mainCpuUsPerOp: number;
}

/** Options of {@link benchCodec}. */
export interface CodecBenchOptions {
  readonly sizes?: readonly number[];
  readonly durationMs?: number;
  readonly threads?: number;
}

/** Smallest measured size (bytes) where the pool's main-thread cost per op < inline's; null: never. */
export interface Crossover {
  readonly encode: number | null;
  readonly decode: number | null;
}

/** Result: all rows plus the crossovers of the object API and of the text API. */
export interface CodecBenchResult {
  readonly rows: CodecBenchRow[];
  readonly crossover: Crossover;
  readonly crossoverText: Crossover;
}

/** A Book JSON whose encoding is close to `target` bytes (never below the ~200-byte base). */
export function bookOfSize(codec: ProtoCodec, target: number): { json: Record<string, unknown>; bytes: Uint8Array } {
  const build = (n: number): Record<string, unknown> => {
    const b = smallBookJson();
    const authors = b.authors as unknown[];
    const tags = b.tags as string[];
    for (let i = 0; i < n; i++) {
      authors.push({ displayName: `Author number ${i}`, birthYear: 1900 + (i % 120) });
      tags.push(`tag-${i}-${'x'.repeat(i % 16)}`);
    }
    return b;
  };
  const size = (n: number): number => (codec.encode(BOOK, build(n), { ignoreUnknownFields: false }) as Uint8Array).length;
  const s0 = size(0);
  const per = (size(100) - s0) / 100;
  const n = Math.max(0, Math.round((target - s0) / per));
  const json = build(n);
  return { json, bytes: codec.encode(BOOK, json, { ignoreUnknownFields: false }) as Uint8Array };
}

/** CPU µs (utime+stime) of the main thread, or NaN off Linux. */
function mainThreadCpuUs(): number {
  try {
    const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // fields 14 and 15 (utime, stime) are at 11 and 12 after the ") " split; ticks of 10 ms.
    return (Number(f[11]) + Number(f[12])) * 10_000;
  } catch {
    return Number.NaN;
  }
}

/** Keeps CONCURRENCY ops outstanding for durationMs; returns the op count. */
async function drive(one: () => unknown, durationMs: number): Promise<number> {
  const end = performance.now() + durationMs;
  let done = 0;
  async function lane(): Promise<void> {
    while (performance.now() < end) {
      const r = one();
      if (r instanceof Promise) await r;
      else await new Promise(setImmediate); // why: inline lanes yield so the loop (and ELU) runs between ops.
      done++;
    }
  }
  await Promise.all(Array.from({ length: CONCURRENCY }, lane));
  return done;
}

async function measure(one: () => unknown, durationMs: number): Promise<{ ops: number; sec: number; activeUs: number; cpuUs: number }> {
  await drive(one, Math.min(200, durationMs / 4)); // warm-up
  const elu0 = performance.eventLoopUtilization();
  const cpu0 = mainThreadCpuUs();
  const t0 = performance.now();
  const ops = await drive(one, durationMs);
  const sec = (performance.now() - t0) / 1000;
  const elu = performance.eventLoopUtilization(elu0);
  return { ops, sec, activeUs: elu.active * 1000, cpuUs: mainThreadCpuUs() - cpu0 };
}

/** Runs every size × op × mode; the pool is started before measuring. */
export async function benchCodec(opts: CodecBenchOptions = {}): Promise<CodecBenchResult> {
  const sizes = opts.sizes ?? [200, 1000, 10_000, 100_000];
  const durationMs = opts.durationMs ?? 1000;
  const base = { files: [LIBRARY_PROTO], includeDirs: [protoIncludeDir()], offloadThresholdBytes: 0, threads: opts.threads };
  const inline = new ProtoCodec({ ...base, offload: 'never' });
  const pool = new ProtoCodec({ ...base, offload: 'always' });
  const rows: CodecBenchRow[] = [];
  try {
    for (const target of sizes) {
      const { json, bytes } = bookOfSize(inline, target);
      const enc = { ignoreUnknownFields: false, sizeHint: 0 };
      const dec = { emitDefaults: false, useProtoNames: false };
      const text = JSON.stringify(json);
      for (const op of ['encode', 'decode'] as const) {
        for (const mode of MODES) {
          const c = mode.startsWith('pool') ? pool : inline;
          const asText = mode.endsWith('-text');
          const one =
            op === 'encode'
              ? asText ? () => c.encodeText(BOOK, text, enc) : () => c.encode(BOOK, json, enc)
              : asText ? () => c.decodeText(BOOK, bytes, dec) : () => c.decode(BOOK, bytes, dec);
          const m = await measure(one, durationMs);
          rows.push({
            op, mode, targetBytes: target, bytes: bytes.length,
            opsPerSec: m.ops / m.sec, mainActiveUsPerOp: m.activeUs / m.ops, mainCpuUsPerOp: m.cpuUs / m.ops,
          });
        }
      }
    }
  } finally {
    await Promise.all([inline.close(), pool.close()]);
  }
  return {
    rows,
    crossover: { encode: crossover(rows, 'encode', ''), decode: crossover(rows, 'decode', '') },
    crossoverText: { encode: crossover(rows, 'encode', '-text'), decode: crossover(rows, 'decode', '-text') },
  };
}

function crossover(rows: readonly CodecBenchRow[], op: 'encode' | 'decode', suffix: string): number | null {
  const sizes = [...new Set(rows.filter((r) => r.op === op).map((r) => r.bytes))].sort((a, b) => a - b);
  for (const s of sizes) {
    const cost = (mode: string): number =>
      rows.find((r) => r.op === op && r.mode === `${mode}${suffix}` && r.bytes === s)?.mainActiveUsPerOp ?? Number.NaN;
    if (cost('pool') < cost('inline')) return s;
  }
  return null;
}

/** The table printed by the CLI. */
export function formatCodecBench(r: CodecBenchResult): string {
  const lines = ['op      mode           bytes     ops/s     main-active µs/op  main-cpu µs/op'];
  for (const x of r.rows) {
    lines.push(
      `${x.op.padEnd(8)}${x.mode.padEnd(15)}${String(x.bytes).padStart(7)}${x.opsPerSec.toFixed(0).padStart(10)}` +
        `${x.mainActiveUsPerOp.toFixed(1).padStart(19)}${x.mainCpuUsPerOp.toFixed(1).padStart(16)}`,
    );
  }
  const fmt = (v: number | null): string => (v === null ? 'none (pool never cheaper for the main thread)' : `${v} bytes`);
  lines.push(`crossover, object API (pool main-thread cost < inline): encode ${fmt(r.crossover.encode)}; decode ${fmt(r.crossover.decode)}`);
  lines.push(`crossover, text API: encode ${fmt(r.crossoverText.encode)}; decode ${fmt(r.crossoverText.decode)}`);
  return lines.join('\n');
}

function argValue(name: string): number | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : undefined;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const result = await benchCodec({ durationMs: argValue('--duration-ms') ?? 1000, threads: argValue('--threads') });
  console.log(formatCodecBench(result));
}
