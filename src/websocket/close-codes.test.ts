import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closeForClient, closeForUpstream, isSendableCloseCode, upstreamFailure } from './close-codes.js';

test('sendable codes: 1000-1003, 1007-1014, 3000-4999; never 1004-1006, 1015, 1016-2999, 5000+', () => {
  for (const c of [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999, 4000, 4999]) assert.equal(isSendableCloseCode(c), true, String(c));
  for (const c of [0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535]) assert.equal(isSendableCloseCode(c), false, String(c));
});

test('client → upstream: codes and reasons pass; no status stays no status; a lost client is 1001', () => {
  assert.deepEqual(closeForUpstream(4001, 'bye'), { code: 4001, reason: 'bye' });
  assert.deepEqual(closeForUpstream(1000, ''), { code: 1000, reason: '' });
  assert.deepEqual(closeForUpstream(1005, ''), { code: 0, reason: '' });
  assert.deepEqual(closeForUpstream(1006, ''), { code: 1001, reason: 'client connection lost' });
  assert.deepEqual(closeForUpstream(1006, 'Received too big message'), { code: 1001, reason: 'Received too big message' });
  assert.deepEqual(closeForUpstream(1015, ''), { code: 1001, reason: 'client connection lost' });
});

test('upstream → client: codes pass; no status stays; lost is 1011, invalid frames 1014, too big 1009', () => {
  assert.deepEqual(closeForClient(4002, 'later', 'none'), { code: 4002, reason: 'later' });
  assert.deepEqual(closeForClient(1012, 'restart', 'none'), { code: 1012, reason: 'restart' });
  assert.deepEqual(closeForClient(1005, '', 'none'), { code: 0, reason: '' });
  assert.deepEqual(closeForClient(1006, '', 'none'), { code: 1011, reason: 'upstream connection lost' });
  assert.deepEqual(closeForClient(1006, '', 'lost'), { code: 1011, reason: 'upstream connection lost' });
  assert.deepEqual(closeForClient(1015, '', 'none'), { code: 1011, reason: 'upstream connection lost' });
  assert.deepEqual(closeForClient(1002, '', 'protocol'), { code: 1014, reason: 'upstream sent an invalid frame' });
  assert.deepEqual(closeForClient(1009, '', 'too-big'), { code: 1009, reason: 'upstream message over maxPayload' });
});

test('ws errors are classified by code', () => {
  assert.equal(upstreamFailure(Object.assign(new Error('x'), { code: 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH' })), 'too-big');
  assert.equal(upstreamFailure(Object.assign(new Error('x'), { code: 'WS_ERR_INVALID_OPCODE' })), 'protocol');
  assert.equal(upstreamFailure(Object.assign(new Error('x'), { code: 'WS_ERR_INVALID_UTF8' })), 'protocol');
  assert.equal(upstreamFailure(Object.assign(new Error('x'), { code: 'ECONNRESET' })), 'lost');
  assert.equal(upstreamFailure('weird'), 'lost');
});
