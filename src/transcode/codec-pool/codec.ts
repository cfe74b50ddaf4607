/**
 * ProtoCodec: proto3 JSON ↔ protobuf binary, run inline on the calling
 * thread or in a piscina worker pool according to an explicit policy.
 * Inline calls return plain values (no Promise, no microtask); offloaded
 * calls return Promises. The pool starts on the first offloaded task.
 */
import { availableParallelism } from 'node:os';
import { Piscina } from 'piscina';
import { loadProtoRoot } from '../proto-root.js';
import type protobuf from 'protobufjs';
import { type CodecTask, type CodecTaskFailure, ProtoCodecError, TypeCache, rebuildCodecError, runCodecTask } from './codec-task.js';
import type { CodecWorkerData } from './codec-worker.js';

/** Where work runs: always in the pool, never (inline), or by size. */
export type OffloadPolicy = 'always' | 'never' | 'auto';

/** Options of {@link ProtoCodec}. */
export interface ProtoCodecOptions {
  /** .proto files (absolute or relative to an include dir). */
  readonly files: readonly string[];
  /** Import search path. */
  readonly includeDirs: readonly string[];
  /** Offload policy. */
  readonly offload: OffloadPolicy;
  /** With `auto`: sizes (JSON body bytes / protobuf bytes) at or above this go to the pool. */
  readonly offloadThresholdBytes: number;
  /** Pool size; default min(4, availableParallelism()). */
  readonly threads?: number;
  /** The same protos already loaded on this thread (saves parsing them again for inline work). */
  readonly root?: protobuf.Root;
}

/** Options of {@link ProtoCodec.encode}. */
export interface CodecEncodeOptions {
  /** Skip unknown JSON fields and enum names instead of rejecting them. */
  readonly ignoreUnknownFields: boolean;
  /** Byte length of the JSON request body text; `auto` runs inline when it is absent. */
  readonly sizeHint?: number;
}

/** Options of {@link ProtoCodec.decode}. */
export interface CodecDecodeOptions {
  /** Print zero-valued fields too. */
  readonly emitDefaults: boolean;
  /** Proto field names instead of lowerCamelCase. */
  readonly useProtoNames: boolean;
}

/** Counters of where tasks ran (failed tasks included). */
export interface CodecStats {
  inline: number;
  offloaded: number;
}

type PoolAnswer = Uint8Array | { json: unknown } | CodecTaskFailure;

/** Protobuf JSON/binary codec with inline or thread-pool execution. */
export class ProtoCodec {
  /** Where tasks ran so far. */
  readonly stats: CodecStats = { inline: 0, offloaded: 0 };
  /** Pool size used once the pool starts. */
  readonly threads: number;
  readonly #opts: ProtoCodecOptions;
  #types: TypeCache | null = null;
  #pool: Piscina<CodecTask, PoolAnswer> | null = null;
  #closed = false;

  /**
   * Loads the protos on this thread now unless the policy is `always`
   * (so bad files fail at startup); workers load them when the pool starts.
   * @throws ProtoLoadError
   */
  constructor(opts: ProtoCodecOptions) {
    this.#opts = opts;
    this.threads = Math.max(1, opts.threads ?? Math.min(4, availableParallelism()));
    if (opts.offload !== 'always') this.#inlineTypes();
  }

  /** True when a pool has been started (and not yet closed). */
  get poolStarted(): boolean {
    return this.#pool !== null;
  }

  /**
   * JSON (already parsed) → binary. Returns bytes directly when run inline,
   * a Promise when offloaded.
   * @throws JsonMappingError (`invalid_argument`), ProtoCodecError (`unknown_type`, `closed`)
   */
  encode(typeName: string, json: unknown, opts: CodecEncodeOptions): Uint8Array | Promise<Uint8Array> {
    const task: CodecTask = { op: 'encode', type: typeName, json, ignoreUnknownFields: opts.ignoreUnknownFields };
    if (!this.#offloads(opts.sizeHint)) return this.#inline(task) as Uint8Array;
    return this.#run(task).then(function encodeAnswer(a): Uint8Array {
      if (a instanceof Uint8Array) return a;
      throw failureOf(a);
    });
  }

  /**
   * Binary → proto3 JSON. Returns the JSON directly when run inline, a
   * Promise when offloaded.
   * @throws JsonMappingError (`internal`), ProtoCodecError (`unknown_type`, `closed`)
   */
  decode(typeName: string, bytes: Uint8Array, opts: CodecDecodeOptions): unknown | Promise<unknown> {
    const task: CodecTask = { op: 'decode', type: typeName, bytes, emitDefaults: opts.emitDefaults, useProtoNames: opts.useProtoNames };
    if (!this.#offloads(bytes.length)) return this.#inline(task);
    return this.#run(task).then(function decodeAnswer(a): unknown {
      if (!(a instanceof Uint8Array) && 'json' in a) return a.json;
      throw failureOf(a);
    });
  }

  /**
   * Like {@link ProtoCodec.encode} but takes the request body text and parses
   * it where the work runs; `auto` uses the text length as size.
   * (String length, not byte length: close enough for the threshold.)
   * @throws JsonMappingError (`invalid_argument`, also for malformed JSON), ProtoCodecError
   */
  encodeText(typeName: string, bodyText: string, opts: CodecEncodeOptions): Uint8Array | Promise<Uint8Array> {
    const task: CodecTask = { op: 'encodeText', type: typeName, json: bodyText, ignoreUnknownFields: opts.ignoreUnknownFields };
    if (!this.#offloads(opts.sizeHint ?? bodyText.length)) return this.#inline(task) as Uint8Array;
    return this.#run(task).then(function encodeAnswer(a): Uint8Array {
      if (a instanceof Uint8Array) return a;
      throw failureOf(a);
    });
  }

  /**
   * Like {@link ProtoCodec.decode} but answers JSON text.
   * why: a string crosses threads as one copy; a JSON object graph costs the
   * main thread a full structured-clone deserialisation (more than decoding).
   */
  decodeText(typeName: string, bytes: Uint8Array, opts: CodecDecodeOptions): string | Promise<string> {
    const task: CodecTask = { op: 'decodeText', type: typeName, bytes, emitDefaults: opts.emitDefaults, useProtoNames: opts.useProtoNames };
    if (!this.#offloads(bytes.length)) return this.#inline(task) as string;
    return this.#run(task).then(function decodeAnswer(a): string {
      if (!(a instanceof Uint8Array) && 'json' in a) return a.json as string;
      throw failureOf(a);
    });
  }

  /** Destroys the pool (pending offloaded tasks reject); later calls throw `closed`. */
  async close(): Promise<void> {
    this.#closed = true;
    const pool = this.#pool;
    this.#pool = null;
    if (pool !== null) await pool.destroy();
  }

  #offloads(size: number | undefined): boolean {
    switch (this.#opts.offload) {
      case 'never':
        return false;
      case 'always':
        return true;
      default:
        return size !== undefined && size >= this.#opts.offloadThresholdBytes;
    }
  }

  #inlineTypes(): TypeCache {
    if (this.#types === null) this.#types = new TypeCache(this.#opts.root ?? loadProtoRoot(this.#opts.files, this.#opts.includeDirs));
    return this.#types;
  }

  #inline(task: CodecTask): unknown {
    if (this.#closed) throw closedError();
    this.stats.inline++;
    return runCodecTask(this.#inlineTypes(), task);
  }

  #run(task: CodecTask): Promise<PoolAnswer> {
    if (this.#closed) return Promise.reject(closedError());
    this.stats.offloaded++;
    return this.#startPool().run(task);
  }

  #startPool(): Piscina<CodecTask, PoolAnswer> {
    if (this.#pool === null) {
      const workerData: CodecWorkerData = { files: this.#opts.files, includeDirs: this.#opts.includeDirs };
      this.#pool = new Piscina<CodecTask, PoolAnswer>({
        filename: new URL('./codec-worker.js', import.meta.url).href,
        // why: min = max keeps every thread (and its loaded protos) for the codec's lifetime.
        minThreads: this.threads,
        maxThreads: this.threads,
        workerData,
      });
    }
    return this.#pool;
  }
}

function closedError(): ProtoCodecError {
  return new ProtoCodecError('closed', 'the codec is closed');
}

function failureOf(a: PoolAnswer): Error {
  if (!(a instanceof Uint8Array) && 'error' in a) return rebuildCodecError(a.error);
  return new ProtoCodecError('internal', 'malformed answer from a codec worker');
}
