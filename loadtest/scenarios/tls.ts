/**
 * `tls`: `passthrough` through a gateway that terminates TLS, with
 * keep-alive connections: next to passthrough, what TLS termination costs
 * per request (record encryption; the handshake once per connection).
 * `tls-mtls`: the same with client certificates: next to `tls`, what reading
 * and checking the client certificate costs per request.
 */
import { passthrough } from './passthrough.js';
import type { Scenario } from './types.js';

/** The passthrough load over https. */
export const tls: Scenario = {
  ...passthrough,
  name: 'tls',
  description: 'passthrough over TLS (gateway terminates TLS 1.3, EC P-256 certificate, keep-alive connections)',
  configFile: 'tls.yaml',
  tls: 'tls',
};

/** `tls` with client certificates required and checked by a client-cert policy. */
export const tlsMtls: Scenario = {
  ...tls,
  name: 'tls-mtls',
  description: 'tls + client certificates (clientAuth: require) and a client-cert policy matching the SAN URI',
  configFile: 'tls-mtls.yaml',
  tls: 'mtls',
};
