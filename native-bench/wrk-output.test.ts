import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseWrkOutput, parseWrkTime } from './wrk-output.js';

// Real wrk 4.1.0 output (Debian), against a server answering 404.
const WITH_ERRORS = `Running 1s test @ http://127.0.0.1:39073/nonexistent
  1 threads and 5 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     6.80ms    8.09ms  61.90ms   90.19%
    Req/Sec     0.93k   452.69     1.51k    60.00%
  Latency Distribution
     50%    3.76ms
     75%    8.22ms
     90%   14.53ms
     99%   45.97ms
  930 requests in 1.03s, 472.45KB read
  Socket errors: connect 0, read 2, write 0, timeout 7
  Non-2xx or 3xx responses: 930
Requests/sec:    903.69
Transfer/sec:    459.08KB
`;

test('parseWrkTime converts every wrk unit to microseconds', () => {
  assert.equal(parseWrkTime('514.00us'), 514);
  assert.equal(parseWrkTime('1.02ms'), 1020);
  assert.equal(parseWrkTime('2.50s'), 2.5e6);
  assert.equal(parseWrkTime('1.00m'), 60e6);
  assert.throws(() => parseWrkTime('fast'), /not a wrk time/);
});

test('parseWrkOutput reads counts, percentiles and error lines', () => {
  const r = parseWrkOutput(WITH_ERRORS);
  assert.equal(r.requests, 930);
  assert.equal(r.durationS, 1.03);
  assert.equal(r.rps, 903.69);
  assert.equal(r.latencyAvgUs, 6800);
  assert.equal(r.latencyMaxUs, 61900);
  assert.deepEqual([r.p50Us, r.p75Us, r.p90Us, r.p99Us], [3760, 8220, 14530, 45970]);
  assert.deepEqual(r.errors, { connect: 0, read: 2, write: 0, timeout: 7, non2xx: 930 });
});

test('parseWrkOutput treats absent error lines as zero', () => {
  const clean = WITH_ERRORS.replace(/ {2}Socket errors.*\n/, '').replace(/ {2}Non-2xx.*\n/, '');
  assert.deepEqual(parseWrkOutput(clean).errors, { connect: 0, read: 0, write: 0, timeout: 0, non2xx: 0 });
});

test('parseWrkOutput rejects output without --latency or without a summary', () => {
  assert.throws(() => parseWrkOutput(WITH_ERRORS.replace(/ {5}99%.*\n/, '')), /99% latency/);
  assert.throws(() => parseWrkOutput('unable to connect to 127.0.0.1:1 Connection refused\n'), /request count/);
});
