/**
 * `tls`: `passthrough` through a gateway that terminates TLS, with
 * keep-alive connections: next to passthrough, what TLS termination costs
 * per request (record encryption; the handshake once per connection).
 */
import { passthrough } from './passthrough.js';
import type { Scenario } from './types.js';

/** The passthrough load over https. */
export const tls: Scenario = {
  ...passthrough,
  name: 'tls',
  description: 'passthrough over TLS (gateway terminates TLS 1.3, EC P-256 certificate, keep-alive connections)',
  configFile: 'tls.yaml',
  tls: true,
};
