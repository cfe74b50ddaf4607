import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CommandBroadcaster, type CommandPeer } from './command-broadcast.js';
import type { PrimaryToWorker } from './ipc.js';
import { UnknownCommandError, WorkerCommands } from './worker-commands.js';

function peer(id: number, sent: Array<PrimaryToWorker & { to?: number }>, closed = false): CommandPeer {
  return {
    id, pid: 1000 + id,
    send(m) {
      if (closed) throw new Error('closed');
      sent.push({ ...m, to: id });
    },
  };
}

test('broadcast collects one answer per worker, in peer order; errors, exits, closed channels and silence are reported', async () => {
  const b = new CommandBroadcaster(200);
  const sent: Array<PrimaryToWorker & { to?: number }> = [];
  const pending = b.broadcast([peer(1, sent), peer(2, sent), peer(3, sent, true), peer(4, sent), peer(5, sent)], 'upstreams', { a: '1' });
  assert.equal(sent.length, 4);
  const requestId = (sent[0] as { requestId: number }).requestId;
  assert.deepEqual(sent[0], { type: 'turnpike:command', requestId, name: 'upstreams', args: { a: '1' }, to: 1 });
  b.onResult(2, requestId, undefined, 'boom');
  b.onResult(1, requestId, { ok: 1 }, undefined);
  b.onResult(1, requestId + 99, { stray: true }, undefined);
  b.onWorkerExit(4);
  const answers = await pending; // worker 5 never answers: the timeout ends the wait
  assert.deepEqual(answers, [
    { worker: 1, pid: 1001, result: { ok: 1 } },
    { worker: 2, pid: 1002, error: 'boom' },
    { worker: 3, pid: 1003, error: 'worker channel closed' },
    { worker: 4, pid: 1004, error: 'worker exited' },
    { worker: 5, pid: 1005, error: 'no answer within 200 ms' },
  ]);
});

test('worker commands: one handler answers as is, several as a list; unknown names reject', async () => {
  const c = new WorkerCommands();
  c.register('one', (args) => ({ got: args.x }));
  c.register('two', () => 1);
  c.register('two', async () => 2);
  assert.deepEqual(await c.run('one', { x: 'y' }), { got: 'y' });
  assert.deepEqual(await c.run('two', {}), [1, 2]);
  await assert.rejects(c.run('three', {}), UnknownCommandError);
});
