// Helpers for the TLS e2e tests: HTTPS requests through node:https with the
// test PKI's CA, a client certificate and a server name of the test's
// choosing, and what the connection looked like (peer certificate, protocol).
import { readFileSync } from 'node:fs';
import { request as httpsRequest, type Agent } from 'node:https';
import type { IncomingMessage } from 'node:http';
import type { TestPki } from '../../src/tls/testing/test-pki.js';

/** One HTTPS exchange. */
export interface TlsReply {
  status: number;
  headers: IncomingMessage['headers'];
  body: string;
  json: Record<string, unknown> | null;
  /** Subject CN of the certificate the gateway presented. */
  peerCn: string;
  /** SHA-256 fingerprint (colon hex) of the certificate the gateway presented. */
  peerFingerprint: string;
}

/** Options of {@link tlsRequest}. */
export interface TlsRequestOptions {
  /** SNI server name (default localhost). */
  servername?: string;
  /** Client certificate name in the PKI (`client` → client.crt / client.key); none by default. */
  clientCert?: string;
  headers?: Record<string, string>;
  method?: string;
  agent?: Agent;
  /** CA file to trust (default the PKI's ca.crt). */
  ca?: string;
}

/** An HTTPS request to 127.0.0.1:`port` on a fresh connection (or `agent`'s), trusting the test CA. */
export function tlsRequest(pki: TestPki, port: number, path: string, o: TlsRequestOptions = {}): Promise<TlsReply> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest({
      host: '127.0.0.1', port, path, method: o.method ?? 'GET', headers: o.headers ?? {},
      servername: o.servername ?? 'localhost',
      ca: readFileSync(o.ca ?? pki.file('ca.crt')),
      // why: SNI names such as api.example.com are served to 127.0.0.1; the
      // certificate's own chain is still verified against the CA.
      checkServerIdentity: () => undefined,
      agent: o.agent ?? false,
      ...(o.clientCert === undefined ? {} : {
        cert: readFileSync(pki.file(`${o.clientCert}.crt`)), key: readFileSync(pki.file(`${o.clientCert}.key`)),
      }),
    }, (res) => {
      const peer = (res.socket as import('node:tls').TLSSocket).getPeerCertificate();
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const body = Buffer.concat(chunks).toString();
        const json = /json/.test(String(res.headers['content-type'])) && body !== '' ? JSON.parse(body) as Record<string, unknown> : null;
        resolve({
          status: res.statusCode ?? 0, headers: res.headers, body, json,
          peerCn: String(peer.subject?.CN ?? ''), peerFingerprint: peer.fingerprint256 ?? '',
        });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/** The headers the echo upstream (test/e2e/helpers.ts startUpstream) says it received. */
export function upstreamHeaders(r: TlsReply): Record<string, string | string[] | undefined> {
  return (r.json as { headers: Record<string, string | string[] | undefined> }).headers;
}
