/**
 * The gRPC upstream of the `transcode` load-test scenarios: the example
 * LibraryService (library-grpc-server.ts) as its own process.
 *
 *   node dist/loadtest/upstream/grpc-upstream-server.js
 *
 * Prints `listening <port>` once it accepts calls; exits on SIGTERM.
 */
import { join } from 'node:path';
import { repoRoot } from '../processes.js';
import { startLibraryServer } from './library-grpc-server.js';

const protos = join(repoRoot(), 'config', 'protos');
const server = await startLibraryServer(join(protos, 'example/library/v1/library.proto'), protos);
process.stdout.write(`listening ${server.port}\n`);
process.once('SIGTERM', () => { void server.stop().finally(() => process.exit(0)); });
