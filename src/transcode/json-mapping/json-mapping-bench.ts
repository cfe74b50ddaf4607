/**
 * Micro-benchmark of the proto3 JSON mapping: JSON text → protobuf bytes
 * (JSON.parse + encodeJson) and bytes → JSON text (decodeToJson +
 * JSON.stringify) for a ~200 B and a ~100 KB Book. Run directly for a
 * table: `node <dist>/src/transcode/json-mapping/json-mapping-bench.js`.
 */
import { pathToFileURL } from 'node:url';
import type protobuf from 'protobufjs';
import { encodeJson } from './json-to-message.js';
import { largeBookJson, loadLibraryRoot, smallBookJson } from './json-mapping-samples.js';
import { decodeToJson } from './message-to-json.js';

/** One benchmarked message size. */
export interface JsonMappingBenchResult {
  readonly name: 'small' | 'large';
  /** Encoded protobuf size in bytes. */
  readonly protoBytes: number;
  /** JSON text size in bytes. */
  readonly jsonBytes: number;
  /** JSON text → protobuf bytes, operations per second. */
  readonly encodeOpsPerSec: number;
  /** Protobuf bytes → JSON text, operations per second. */
  readonly decodeOpsPerSec: number;
}

/** Options of {@link benchJsonMapping}. */
export interface JsonMappingBenchOptions {
  /** Measuring time per operation and size (default 500 ms, plus up to 200 ms warm-up). */
  readonly durationMs?: number;
  /** Root holding example.library.v1.Book (default: library.proto loaded from config/protos). */
  readonly root?: protobuf.Root;
}

/** Runs `fn` repeatedly for about `ms` (after a short warm-up) and returns ops/s. */
function opsPerSec(fn: () => void, ms: number): number {
  const warmEnd = performance.now() + Math.min(200, ms / 2); // lets the JIT optimise first
  while (performance.now() < warmEnd) fn();
  let n = 0;
  const start = performance.now();
  let now = start;
  // why: check the clock every 16 calls so timing overhead stays out of small-message numbers.
  while (now - start < ms) {
    for (let i = 0; i < 16; i++) fn();
    n += 16;
    now = performance.now();
  }
  return Math.round((n * 1000) / (now - start));
}

/**
 * Measures encode (JSON text → bytes) and decode (bytes → JSON text) of a
 * small (~200 B) and a large (~100 KB) Book. No assertions: numbers only.
 */
export function benchJsonMapping(opts: JsonMappingBenchOptions = {}): JsonMappingBenchResult[] {
  const ms = opts.durationMs ?? 500;
  const Book = (opts.root ?? loadLibraryRoot()).lookupType('example.library.v1.Book');
  const out: JsonMappingBenchResult[] = [];
  for (const [name, json] of [['small', smallBookJson()], ['large', largeBookJson()]] as const) {
    const text = JSON.stringify(json);
    const bytes = encodeJson(Book, json, { ignoreUnknownFields: false });
    const outOpts = { emitDefaults: false, useProtoNames: false };
    let sink = 0;
    const encodeOpsPerSec = opsPerSec(() => {
      sink += encodeJson(Book, JSON.parse(text), { ignoreUnknownFields: false }).length;
    }, ms);
    const decodeOpsPerSec = opsPerSec(() => {
      sink += JSON.stringify(decodeToJson(Book, bytes, outOpts)).length;
    }, ms);
    if (sink < 0) throw new Error('unreachable'); // keeps the work observable
    out.push({ name, protoBytes: bytes.length, jsonBytes: Buffer.byteLength(text), encodeOpsPerSec, decodeOpsPerSec });
  }
  return out;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  for (const r of benchJsonMapping()) {
    console.log(`${r.name.padEnd(6)} proto ${String(r.protoBytes).padStart(7)} B  json ${String(r.jsonBytes).padStart(7)} B  `
      + `encode ${String(r.encodeOpsPerSec).padStart(8)} ops/s  decode ${String(r.decodeOpsPerSec).padStart(8)} ops/s`);
  }
}
