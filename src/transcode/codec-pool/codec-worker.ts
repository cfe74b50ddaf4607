/**
 * The piscina worker: loads the protos once per thread (files and include
 * dirs from `workerData`), caches message types by name, and answers
 * {@link CodecTask}s. Failures are returned as `{ error }` data, never
 * thrown, so code and message survive the thread boundary.
 */
import { workerData } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { loadProtoRoot } from '../proto-root.js';
import { type CodecTask, type CodecTaskFailure, TypeCache, runCodecTask, serializeCodecError } from './codec-task.js';

/** What {@link ProtoCodec} passes as piscina's `workerData`. */
export interface CodecWorkerData {
  readonly files: readonly string[];
  readonly includeDirs: readonly string[];
}

function loadTypes(): TypeCache | CodecTaskFailure {
  const data = workerData as CodecWorkerData;
  try {
    return new TypeCache(loadProtoRoot(data.files, data.includeDirs));
  } catch (err) {
    return { error: serializeCodecError(err) };
  }
}

const types = loadTypes();

/** Only the bytes of `u8`, in an ArrayBuffer of their own. */
function ownBuffer(u8: Uint8Array): Uint8Array {
  // why: protobufjs/Buffer.allocUnsafe hand out views into shared 8 KB pool
  // slabs; transferring such a slab would detach it under other buffers, so
  // small results are copied and only whole-buffer results are moved.
  if (u8.byteOffset === 0 && u8.byteLength === u8.buffer.byteLength) return u8;
  return new Uint8Array(u8);
}

/**
 * Runs one task. Encode(Text) answers the bytes, moved (transferred, not copied);
 * decode(Text) answers `{ json }` — wrapped so a message with a field called
 * `error` cannot pass for a failure; failures answer `{ error }`.
 */
export default function codecWorker(task: CodecTask): unknown {
  if (!(types instanceof TypeCache)) return types;
  try {
    const out = runCodecTask(types, task);
    // why: Piscina.move puts the ArrayBuffer in the transfer list: zero-copy return.
    return task.op === 'encode' || task.op === 'encodeText' ? Piscina.move(ownBuffer(out as Uint8Array)) : { json: out };
  } catch (err) {
    return { error: serializeCodecError(err) } satisfies CodecTaskFailure;
  }
}
