/**
 * proto3 JSON mapping (https://protobuf.dev/programming-guides/proto3/#json)
 * on protobufjs reflection: validating JSON → protobuf, protobuf → JSON,
 * and google.rpc.Status details for grpc-status-details-bin.
 */
export { JsonMappingError, type JsonMappingErrorCode } from './json-mapping-error.js';
export { encodeJson, jsonToMessage, type JsonToMessageOptions } from './json-to-message.js';
export { decodeToJson, messageToJson, type MessageToJsonOptions } from './message-to-json.js';
export {
  decodeGrpcStatusDetails, encodeGrpcStatusDetails, googleRpcRoot, type GrpcStatusJson,
} from './google-rpc-status.js';
export { toJsonName, typeInfo, resolveAnyType, type FieldInfo, type TypeInfo } from './type-info.js';
export { benchJsonMapping, type JsonMappingBenchResult, type JsonMappingBenchOptions } from './json-mapping-bench.js';
