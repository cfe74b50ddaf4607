/**
 * gRPC-over-HTTP/2 client for transcoding: pre-serialised messages in and
 * out, statuses, and header/metadata mapping. See grpc-channel.ts.
 */
export { GrpcChannel, type GrpcChannelOptions, type GrpcChannelState } from './grpc-channel.js';
export type { GrpcCallOptions } from './grpc-call.js';
export { GrpcServerStream } from './grpc-server-stream.js';
export { GrpcClientError, type GrpcClientErrorCode } from './grpc-client-error.js';
export { encodeGrpcTimeout, type GrpcResult, type GrpcStatus } from './grpc-wire.js';
export {
  GrpcCode, grpcCodeName, grpcStatusFromHttp, headersFromTrailers, httpStatusFromGrpc, metadataFromHeaders,
  metadataToHeaders, type GrpcCodeValue, type HeaderSource,
} from './status-map.js';
