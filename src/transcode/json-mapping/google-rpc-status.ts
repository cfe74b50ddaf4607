/**
 * google.rpc.Status ↔ JSON for the `grpc-status-details-bin` trailer: the
 * rich error model (code, message, repeated Any details) gRPC servers send
 * beside grpc-status. The google.rpc types (status.proto and the standard
 * error_details.proto messages) are built in here from their published
 * definitions, so no .proto file has to be shipped or found at run time.
 */
import protobuf from 'protobufjs';
import { JsonMappingError } from './json-mapping-error.js';
import { encodeJson } from './json-to-message.js';
import { type MessageToJsonOptions, messageToJson } from './message-to-json.js';
import { bytesToBase64 } from './scalar-to-json.js';
import { resolveAnyType, typeInfo } from './type-info.js';

/** google/rpc/status.proto and google/rpc/error_details.proto (field numbers as published). */
const GOOGLE_RPC_PROTO = `
syntax = "proto3";
package google.rpc;
message Status { int32 code = 1; string message = 2; repeated google.protobuf.Any details = 3; }
message ErrorInfo { string reason = 1; string domain = 2; map<string, string> metadata = 3; }
message RetryInfo { google.protobuf.Duration retry_delay = 1; }
message DebugInfo { repeated string stack_entries = 1; string detail = 2; }
message QuotaFailure {
  message Violation { string subject = 1; string description = 2; }
  repeated Violation violations = 1;
}
message PreconditionFailure {
  message Violation { string type = 1; string subject = 2; string description = 3; }
  repeated Violation violations = 1;
}
message BadRequest {
  message FieldViolation {
    string field = 1; string description = 2; string reason = 3; LocalizedMessage localized_message = 4;
  }
  repeated FieldViolation field_violations = 1;
}
message RequestInfo { string request_id = 1; string serving_data = 2; }
message ResourceInfo { string resource_type = 1; string resource_name = 2; string owner = 3; string description = 4; }
message Help {
  message Link { string description = 1; string url = 2; }
  repeated Link links = 1;
}
message LocalizedMessage { string locale = 1; string message = 2; }
`;

/** JSON form of a google.rpc.Status. */
export interface GrpcStatusJson {
  code: number;
  message: string;
  /** proto3 JSON of each Any; `{ "@type", "value": <base64> }` when the type is unknown. */
  details: unknown[];
}

let rpcRoot: protobuf.Root | null = null;

/** A Root with google.rpc.Status, the error_details messages and the WKTs. */
export function googleRpcRoot(): protobuf.Root {
  if (rpcRoot !== null) return rpcRoot;
  const root = new protobuf.Root();
  for (const file of ['any', 'duration', 'empty', 'field_mask', 'struct', 'timestamp', 'wrappers']) {
    const json = protobuf.common.get(`google/protobuf/${file}.proto`);
    if (json?.nested) root.addJSON(json.nested);
  }
  protobuf.parse(GOOGLE_RPC_PROTO, root, { keepCase: true });
  root.resolveAll();
  rpcRoot = root;
  return root;
}

function statusType(): protobuf.Type {
  return googleRpcRoot().lookupType('google.rpc.Status');
}

function detailToJson(url: string, bytes: Uint8Array, userRoot: protobuf.Root | undefined, opts: MessageToJsonOptions): unknown {
  const inner = (userRoot !== undefined ? resolveAnyType(userRoot, url) : null) ?? resolveAnyType(googleRpcRoot(), url);
  const raw = { '@type': url, value: bytesToBase64(bytes) };
  if (inner === null) return raw;
  try {
    const json = messageToJson(inner, inner.decode(bytes), opts);
    const wkt = typeInfo(inner).wkt;
    return wkt !== null && wkt !== 'empty' ? { '@type': url, value: json } : { '@type': url, ...(json as object) };
  } catch {
    return raw; // a detail that does not decode must not hide the status itself
  }
}

/**
 * Decodes a `grpc-status-details-bin` value (the bytes, or the base64 text
 * of the HTTP/2 trailer) into JSON. Detail types are looked up in `root`
 * (the service's protos) first, then among google.rpc and the WKTs.
 * @throws JsonMappingError (code `internal`) if the Status does not decode.
 */
export function decodeGrpcStatusDetails(
  details: Uint8Array | string,
  root?: protobuf.Root,
  opts: MessageToJsonOptions = { emitDefaults: false, useProtoNames: false },
): GrpcStatusJson {
  const bytes = typeof details === 'string' ? Buffer.from(details, 'base64') : details;
  let msg: Record<string, unknown>;
  try {
    msg = statusType().decode(bytes) as unknown as Record<string, unknown>;
  } catch (err) {
    throw new JsonMappingError('grpc-status-details-bin', `not a google.rpc.Status: ${(err as Error).message}`, 'internal');
  }
  const anys = (msg.details ?? []) as Array<Record<string, unknown>>;
  return {
    code: Number(msg.code ?? 0),
    message: String(msg.message ?? ''),
    details: anys.map((a) => detailToJson(String(a.type_url ?? ''), (a.value ?? new Uint8Array(0)) as Uint8Array, root, opts)),
  };
}

function encodeDetail(d: unknown, path: string, root: protobuf.Root | undefined): Record<string, unknown> {
  const obj = (typeof d === 'object' && d !== null ? d : {}) as Record<string, unknown>;
  const url = obj['@type'];
  if (typeof url !== 'string') throw new JsonMappingError(path, 'Any needs a string "@type" field');
  const inner = (root !== undefined ? resolveAnyType(root, url) : null) ?? resolveAnyType(googleRpcRoot(), url);
  if (inner === null) throw new JsonMappingError(path, `cannot resolve Any type ${JSON.stringify(url)}`);
  const wkt = typeInfo(inner).wkt;
  let body: unknown = obj.value;
  if (wkt === null || wkt === 'empty') {
    const rest: Record<string, unknown> = {};
    for (const k of Object.keys(obj)) if (k !== '@type') rest[k] = obj[k];
    body = rest;
  }
  return { type_url: url, value: encodeJson(inner, body, { ignoreUnknownFields: false, rootPath: path }) };
}

/**
 * Encodes a google.rpc.Status from its JSON form (details as proto3 JSON
 * Anys whose types are in `root` or among google.rpc and the WKTs) — what
 * a gRPC server puts in `grpc-status-details-bin`.
 * @throws JsonMappingError (code `invalid_argument`) for an invalid detail.
 */
export function encodeGrpcStatusDetails(status: GrpcStatusJson, root?: protobuf.Root): Uint8Array {
  if (!Number.isInteger(status.code)) throw new JsonMappingError('status.code', 'expected an integer');
  const details = status.details.map((d, i) => encodeDetail(d, `status.details[${i}]`, root));
  return statusType().encode({ code: status.code, message: status.message, details }).finish();
}
