import { test } from 'node:test';
import assert from 'node:assert/strict';
import { errors } from 'undici';
import { failureKind, mapUpstreamError } from './map-error.js';
import { UpstreamTlsError, tlsFailureReason } from './tls-failure.js';

/** An error shaped like Node's TLS errors: a code and an OpenSSL message with a source path. */
function nodeError(code: string): Error {
  return Object.assign(new Error(`80ACE656:error:0A000410:SSL routines:ssl3_read_bytes:x:../deps/openssl/openssl/ssl/record/rec_layer_s3.c:1601`), { code });
}

test('certificate verification codes get fixed texts', () => {
  assert.equal(tlsFailureReason(nodeError('UNABLE_TO_VERIFY_LEAF_SIGNATURE')), 'certificate verify failed: unable to verify the first certificate');
  assert.equal(tlsFailureReason(nodeError('DEPTH_ZERO_SELF_SIGNED_CERT')), 'certificate verify failed: self-signed certificate');
  assert.equal(tlsFailureReason(nodeError('SELF_SIGNED_CERT_IN_CHAIN')), 'certificate verify failed: self-signed certificate in certificate chain');
  assert.equal(tlsFailureReason(nodeError('CERT_HAS_EXPIRED')), 'certificate verify failed: certificate has expired');
  assert.equal(tlsFailureReason(nodeError('ERR_TLS_CERT_ALTNAME_INVALID')), 'certificate verify failed: the certificate is not valid for the server name');
});

test('OpenSSL errors and alerts are named by their code, with a hint for the usual causes', () => {
  assert.equal(tlsFailureReason(nodeError('ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED')),
    'handshake failed: tlsv13 alert certificate required (the upstream requires a client certificate)');
  assert.equal(tlsFailureReason(nodeError('ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE')),
    'handshake failed: sslv3 alert bad certificate (the upstream rejected the client certificate)');
  assert.equal(tlsFailureReason(nodeError('ERR_SSL_WRONG_VERSION_NUMBER')), 'handshake failed: wrong version number (the target may not speak TLS)');
  assert.equal(tlsFailureReason(nodeError('ERR_SSL_SOMETHING_NEW')), 'handshake failed: something new');
  assert.equal(tlsFailureReason(nodeError('ERR_TLS_HANDSHAKE_TIMEOUT')), 'handshake failed (ERR_TLS_HANDSHAKE_TIMEOUT)');
});

test('not TLS: connection errors and plain values', () => {
  for (const code of ['ECONNREFUSED', 'ECONNRESET', 'UND_ERR_SOCKET', 'HPE_INVALID_CONSTANT']) assert.equal(tlsFailureReason(nodeError(code)), null);
  assert.equal(tlsFailureReason('boom'), null);
  assert.equal(tlsFailureReason(null), null);
});

test('the mapper: 502 upstream_tls with the safe reason (never the library message), found on the error or its cause', () => {
  const wrapped = new UpstreamTlsError('the upstream closed the connection during the TLS handshake', nodeError('ECONNRESET'));
  for (const [err, detail] of [
    [wrapped, 'the upstream closed the connection during the TLS handshake'],
    [nodeError('CERT_HAS_EXPIRED'), 'certificate verify failed: certificate has expired'],
    [Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET', cause: wrapped }), 'the upstream closed the connection during the TLS handshake'],
  ] as const) {
    const g = mapUpstreamError(err);
    assert.equal(g.status, 502);
    assert.equal(g.code, 'upstream_tls');
    assert.equal(g.detail, detail);
    assert.equal(failureKind(err), 'tls');
  }
});

test('the mapper leaves other failures as they were', () => {
  assert.equal(mapUpstreamError(nodeError('ECONNREFUSED')).code, 'upstream_connect_failed');
  assert.equal(failureKind(nodeError('ECONNREFUSED')), 'connect');
  assert.equal(mapUpstreamError(new errors.ConnectTimeoutError()).code, 'upstream_timeout');
  assert.equal(failureKind(nodeError('ECONNRESET')), 'reset');
});
