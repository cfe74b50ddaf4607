/**
 * Test support (not a test): a real @grpc/grpc-js server with a hand-made
 * service whose (de)serialisers are identity on Buffers, so no protobuf is
 * involved, plus a raw node:http2 h2c server for misbehaving peers.
 * Requests of the control methods are small JSON documents.
 */
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import grpc from '@grpc/grpc-js';
import protobuf from 'protobufjs';

/** Fully-qualified service name of the test service. */
export const SERVICE = 'test.v1.TestService';

function identity(b: Buffer): Buffer {
  return b;
}

function method(name: string, responseStream: boolean): grpc.MethodDefinition<Buffer, Buffer> {
  return {
    path: `/${SERVICE}/${name}`, requestStream: false, responseStream, originalName: name,
    requestSerialize: identity, requestDeserialize: identity, responseSerialize: identity, responseDeserialize: identity,
  };
}

const definition: grpc.ServiceDefinition = {
  Echo: method('Echo', false),
  Meta: method('Meta', false),
  Fail: method('Fail', false),
  Sleep: method('Sleep', false),
  Stream: method('Stream', true),
};

/** What the handlers observed, for assertions. */
export interface ServerLog {
  /** Messages the Stream method has written so far. */
  streamSent: number;
  /** Calls the server saw cancelled by the client. */
  cancelled: number;
}

function json<T>(buf: Buffer): T {
  return JSON.parse(buf.toString('utf8')) as T;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function drained(call: grpc.ServerWritableStream<Buffer, Buffer>): Promise<void> {
  return new Promise<void>((resolve) => {
    function done(): void {
      call.off('drain', done);
      call.off('cancelled', done);
      resolve();
    }
    call.on('drain', done);
    call.on('cancelled', done);
  });
}

function handlers(log: ServerLog): grpc.UntypedServiceImplementation {
  return {
    Echo(call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>): void {
      cb(null, call.request);
    },
    // Answers the metadata it received as JSON; sends a header and a trailer.
    Meta(call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>): void {
      const seen: Record<string, string[]> = {};
      for (const k of Object.keys(call.metadata.getMap())) {
        seen[k] = call.metadata.get(k).map((v) => (Buffer.isBuffer(v) ? 'b64:' + v.toString('base64') : String(v)));
      }
      const headers = new grpc.Metadata();
      headers.set('x-resp-header', 'h1');
      headers.set('x-internal', 'secret');
      call.sendMetadata(headers);
      const trailers = new grpc.Metadata();
      trailers.set('x-resp-trailer', 't1');
      trailers.set('x-resp-bin', Buffer.from([0, 1, 2, 255]));
      cb(null, Buffer.from(JSON.stringify(seen)), trailers);
    },
    Fail(call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>): void {
      const req = json<{ code: number; message: string; details?: string }>(call.request);
      const md = new grpc.Metadata();
      if (req.details !== undefined) md.set('grpc-status-details-bin', Buffer.from(req.details));
      cb({ code: req.code, details: req.message, metadata: md });
    },
    Sleep(call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>): void {
      const req = json<{ ms: number }>(call.request);
      const timer = setTimeout(() => cb(null, Buffer.from('slept')), req.ms);
      call.on('cancelled', () => {
        log.cancelled++;
        clearTimeout(timer);
      });
    },
    // Writes `count` messages of `size` bytes (byte i%256 repeated), honouring backpressure.
    Stream(call: grpc.ServerWritableStream<Buffer, Buffer>): void {
      call.on('cancelled', () => { log.cancelled++; });
      const req = json<{ count: number; size: number; delayMs?: number; bigAt?: number }>(call.request);
      void (async function writeAll(): Promise<void> {
        for (let i = 0; i < req.count && !call.cancelled; i++) {
          const size = i === req.bigAt ? 1024 * 1024 : req.size;
          const ok = call.write(Buffer.alloc(size, i % 256));
          log.streamSent++;
          if (req.delayMs) await sleep(req.delayMs);
          if (!ok) await drained(call);
        }
        if (!call.cancelled) call.end();
      })();
    },
  };
}

/** A running test gRPC server. */
export interface TestGrpcServer {
  readonly port: number;
  readonly log: ServerLog;
  readonly server: grpc.Server;
  /** Forceful stop (open calls are reset). */
  stop(): void;
}

/** Starts the test service on 127.0.0.1 (`port` 0 = ephemeral), cleartext unless `credentials` say otherwise. */
export function startGrpcServer(port = 0, options: grpc.ServerOptions = {},
  credentials: grpc.ServerCredentials = grpc.ServerCredentials.createInsecure()): Promise<TestGrpcServer> {
  const server = new grpc.Server(options);
  const log: ServerLog = { streamSent: 0, cancelled: 0 };
  server.addService(definition, handlers(log));
  return new Promise((resolve, reject) => {
    server.bindAsync(`127.0.0.1:${port}`, credentials, (err, bound) => {
      if (err) return reject(err);
      resolve({ port: bound, log, server, stop: () => server.forceShutdown() });
    });
  });
}

// grpc.health.v1 messages, defined with protobufjs so the gateway's hand-made
// encoding is checked against an independent implementation.
const healthRoot = protobuf.Root.fromJSON({
  nested: { grpc: { nested: { health: { nested: { v1: { nested: {
    HealthCheckRequest: { fields: { service: { type: 'string', id: 1 } } },
    HealthCheckResponse: {
      fields: { status: { type: 'ServingStatus', id: 1 } },
      nested: { ServingStatus: { values: { UNKNOWN: 0, SERVING: 1, NOT_SERVING: 2, SERVICE_UNKNOWN: 3 } } },
    },
  } } } } } } },
});
/** grpc.health.v1.HealthCheckRequest / HealthCheckResponse (protobufjs types). */
export const HealthCheckRequest = healthRoot.lookupType('grpc.health.v1.HealthCheckRequest');
export const HealthCheckResponse = healthRoot.lookupType('grpc.health.v1.HealthCheckResponse');

/** A serving status of grpc.health.v1. */
export type ServingStatus = 'UNKNOWN' | 'SERVING' | 'NOT_SERVING' | 'SERVICE_UNKNOWN';

/** Controls a health service added with {@link addHealthService}. */
export interface HealthControl {
  /** Sets the status answered for `service` ('' = the whole server). */
  set(service: string, status: ServingStatus): void;
  /** Service names asked about, in order. */
  readonly asked: string[];
}

/**
 * Adds the standard grpc.health.v1.Health service (Check only) to `server`
 * (before it binds). Unknown services get NOT_FOUND, as the reference
 * implementations answer.
 */
export function addHealthService(server: grpc.Server, initial: Record<string, ServingStatus> = { '': 'SERVING' }): HealthControl {
  const statuses = new Map(Object.entries(initial));
  const asked: string[] = [];
  const check: grpc.MethodDefinition<{ service: string }, { status: number }> = {
    path: '/grpc.health.v1.Health/Check', requestStream: false, responseStream: false, originalName: 'check',
    requestSerialize: (m) => Buffer.from(HealthCheckRequest.encode(HealthCheckRequest.fromObject(m)).finish()),
    requestDeserialize: (b) => HealthCheckRequest.toObject(HealthCheckRequest.decode(b), { defaults: true }) as { service: string },
    responseSerialize: (m) => Buffer.from(HealthCheckResponse.encode(HealthCheckResponse.fromObject(m)).finish()),
    responseDeserialize: (b) => HealthCheckResponse.toObject(HealthCheckResponse.decode(b)) as { status: number },
  };
  server.addService({ Check: check } as grpc.ServiceDefinition, {
    Check(call: grpc.ServerUnaryCall<{ service: string }, unknown>, cb: grpc.sendUnaryData<unknown>): void {
      const service = call.request.service;
      asked.push(service);
      const status = statuses.get(service);
      if (status === undefined) return cb({ code: grpc.status.NOT_FOUND, details: `unknown service "${service}"` });
      cb(null, { status });
    },
  });
  return { set: (service, status) => { statuses.set(service, status); }, asked };
}

/** A raw h2c server whose every stream goes to `onStream`. */
export interface RawH2Server {
  readonly port: number;
  close(): Promise<void>;
}

/** Starts a plain node:http2 cleartext server on 127.0.0.1. */
export function startRawH2(
  onStream: (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders) => void,
): Promise<RawH2Server> {
  const server = http2.createServer();
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on('session', (s) => { sessions.add(s); s.on('close', () => sessions.delete(s)); });
  server.on('stream', (stream, headers) => {
    stream.on('error', () => {});
    onStream(stream, headers);
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      resolve({
        port: (server.address() as AddressInfo).port,
        close: () => new Promise<void>((done) => {
          for (const s of sessions) s.destroy();
          server.close(() => done());
        }),
      });
    });
  });
}

/** A 5-byte gRPC frame prefix with an explicit flag byte. */
export function prefix(flag: number, length: number): Buffer {
  const b = Buffer.alloc(5);
  b[0] = flag;
  b.writeUInt32BE(length, 1);
  return b;
}

// Run as a child process: `node grpc-test-server.js <port>` prints "port <n>" once listening.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  startGrpcServer(Number(process.argv[2] ?? 0)).then((s) => {
    process.stdout.write(`port ${s.port}\n`);
  }, (err: Error) => {
    process.stderr.write(`${err.message}\n`);
    process.exit(1);
  });
}
