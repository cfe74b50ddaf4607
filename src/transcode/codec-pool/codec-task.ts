/**
 * What the inline path and the worker threads share: the task shapes, the
 * per-type-name cache, the one function that runs a task, and the
 * serialisable error form that carries `code` and `message` across threads.
 */
import type protobuf from 'protobufjs';
import { encodeJson } from '../json-mapping/json-to-message.js';
import { decodeToJson } from '../json-mapping/message-to-json.js';
import { JsonMappingError, type JsonMappingErrorCode } from '../json-mapping/json-mapping-error.js';
import { ProtoLoadError } from '../proto-root.js';

/**
 * JSON → binary for message type `type` (fully qualified, no leading dot).
 * `encodeText` carries the request body text in `json` and parses it first.
 */
export interface EncodeTask {
  readonly op: 'encode' | 'encodeText';
  readonly type: string;
  readonly json: unknown;
  readonly ignoreUnknownFields: boolean;
}

/** Binary → proto3 JSON for message type `type`; `decodeText` answers JSON text. */
export interface DecodeTask {
  readonly op: 'decode' | 'decodeText';
  readonly type: string;
  readonly bytes: Uint8Array;
  readonly emitDefaults: boolean;
  readonly useProtoNames: boolean;
}

/** A unit of codec work, as sent to a worker thread. */
export type CodecTask = EncodeTask | DecodeTask;

/** Codes of {@link ProtoCodecError}. */
export type ProtoCodecErrorCode = 'unknown_type' | 'closed' | 'internal';

/** The codec itself failed: unknown message type, codec closed, or an unexpected fault. */
export class ProtoCodecError extends Error {
  /** Stable machine-readable code. */
  readonly code: ProtoCodecErrorCode;

  /** `message` is the full human-readable text. */
  constructor(code: ProtoCodecErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ProtoCodecError';
    this.code = code;
  }
}

/** An error as plain data (structured cloning keeps only `message` of an Error). */
export interface SerializedCodecError {
  readonly name: string;
  readonly code: string;
  readonly message: string;
  /** JsonMappingError's field path. */
  readonly path?: string;
}

/** A worker's answer when the task failed. */
export interface CodecTaskFailure {
  readonly error: SerializedCodecError;
}

/** Turns any thrown value into {@link SerializedCodecError}. */
export function serializeCodecError(err: unknown): SerializedCodecError {
  if (err instanceof JsonMappingError) return err.toJSON();
  if (err instanceof ProtoCodecError || err instanceof ProtoLoadError) {
    return { name: err.name === 'Error' ? 'ProtoLoadError' : err.name, code: err.code, message: err.message };
  }
  const message = err instanceof Error ? err.message : String(err);
  return { name: 'ProtoCodecError', code: 'internal', message };
}

/** Rebuilds the error class of {@link serializeCodecError}'s input (on the main thread). */
export function rebuildCodecError(e: SerializedCodecError): Error {
  if (e.name === 'JsonMappingError') {
    return JsonMappingError.fromJSON({ code: e.code as JsonMappingErrorCode, path: e.path ?? '', message: e.message });
  }
  if (e.name === 'ProtoLoadError') return new ProtoLoadError(e.message);
  const code = e.code === 'unknown_type' || e.code === 'closed' ? e.code : 'internal';
  return new ProtoCodecError(code, e.message);
}

/** `root.lookupType(name)` memoised per name; unknown names become ProtoCodecError('unknown_type'). */
export class TypeCache {
  readonly #root: protobuf.Root;
  readonly #types = new Map<string, protobuf.Type>();

  /** Caches lookups in `root`. */
  constructor(root: protobuf.Root) {
    this.#root = root;
  }

  /** The message type called `name` (with or without a leading dot). */
  get(name: string): protobuf.Type {
    let t = this.#types.get(name);
    if (t === undefined) {
      try {
        t = this.#root.lookupType(name);
      } catch (err) {
        throw new ProtoCodecError('unknown_type', `unknown message type "${name}"`, { cause: err });
      }
      this.#types.set(name, t);
    }
    return t;
  }
}

/** Runs a task on the calling thread; throws JsonMappingError or ProtoCodecError. */
export function runCodecTask(types: TypeCache, task: CodecTask): Uint8Array | unknown {
  const type = types.get(task.type);
  switch (task.op) {
    case 'encode':
      return encodeJson(type, task.json, { ignoreUnknownFields: task.ignoreUnknownFields });
    case 'encodeText':
      return encodeJson(type, parseBody(task.json as string), { ignoreUnknownFields: task.ignoreUnknownFields });
    case 'decode':
      return decodeToJson(type, task.bytes, { emitDefaults: task.emitDefaults, useProtoNames: task.useProtoNames });
    default:
      return JSON.stringify(decodeToJson(type, task.bytes, { emitDefaults: task.emitDefaults, useProtoNames: task.useProtoNames }));
  }
}

/** JSON.parse with malformed text reported as JsonMappingError('invalid_argument'). */
function parseBody(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new JsonMappingError('', `malformed JSON: ${(err as Error).message}`);
  }
}
