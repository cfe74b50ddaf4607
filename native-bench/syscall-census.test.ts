import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatCensus, parsePerfCsv } from './syscall-census.js';

test('parsePerfCsv reads perf stat -x , lines and skips uncounted ones', () => {
  // Real `perf stat -x ,` output (perf 6.x), plus an uncounted event.
  const text = [
    '57,,raw_syscalls:sys_enter,814297,100.00,,',
    '0,,context-switches,814297,100.00,,',
    '1,,syscalls:sys_enter_write,814297,100.00,,',
    '<not counted>,,syscalls:sys_enter_sendto,0,100.00,,',
    '',
  ].join('\n');
  const m = parsePerfCsv(text);
  assert.equal(m.get('raw_syscalls:sys_enter'), 57);
  assert.equal(m.get('context-switches'), 0);
  assert.equal(m.get('syscalls:sys_enter_write'), 1);
  assert.equal(m.has('syscalls:sys_enter_sendto'), false);
});

test('formatCensus shows only syscalls that occur', () => {
  const table = formatCensus([{
    scenario: 'tiny', proxy: 'nginx', requests: 1000, syscallsPerReq: 4.5, contextSwitchesPerReq: 0.1, pageFaultsPerReq: 0.002,
    perReq: { recvfrom: 2, writev: 2, epoll_wait: 0.5 },
  }]);
  assert.match(table, /\| scenario \| proxy \| requests \| syscalls\/req \| ctx switches\/req \| page faults\/req \| recvfrom \| writev \| epoll_wait \|/);
  assert.match(table, /\| tiny \| nginx \| 1,000 \| 4\.50 \| 0\.10 \| 0\.002 \| 2\.00 \| 2\.00 \| 0\.50 \|/);
});
