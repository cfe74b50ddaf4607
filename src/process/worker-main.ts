// Cluster worker entry: the primary forks this file (see primary.ts).
import { startGatewayWorker } from '../ingress/gateway-worker.js';
import { runWorker } from './worker-runtime.js';

runWorker(startGatewayWorker);
