// Helpers of the circuit-breaker, upstream-limits and panic-mode e2e tests:
// a real node:http upstream that fails, stalls or answers on command, and
// the worker's own view of an upstream (the `upstreams` admin command).
import type { ServerResponse } from 'node:http';
import { startUpstream, type TestGateway, type TestUpstream } from './helpers.js';
import type { UpstreamState } from '../../src/upstream/upstreams-snapshot.js';

/** How the controllable upstream answers: 200, 500, 503, or hold the response until released. */
export type UpstreamMode = 'ok' | '500' | '503' | 'hold';

/** A real upstream under the test's control. */
export interface ControlledUpstream extends TestUpstream {
  mode: UpstreamMode;
  /** Responses held in `hold` mode, oldest first. */
  held: ServerResponse[];
  /** Answers the oldest held responses (200, body `released`); returns how many. */
  release(n?: number): number;
}

/** Starts an upstream that answers by `mode` (set it any time); see {@link ControlledUpstream}. */
export async function startControlledUpstream(name: string): Promise<ControlledUpstream> {
  const held: ServerResponse[] = [];
  let self: ControlledUpstream | null = null;
  const up = await startUpstream(name, (_req, res) => {
    const mode = self!.mode;
    if (mode === 'hold') { held.push(res); return; }
    res.writeHead(mode === 'ok' ? 200 : Number(mode), { 'content-type': 'text/plain' });
    res.end(mode === 'ok' ? name : 'failed');
  });
  self = Object.assign(up, {
    mode: 'ok' as UpstreamMode,
    held,
    release(n = held.length): number {
      const list = held.splice(0, n);
      for (const res of list) if (!res.destroyed) { res.writeHead(200, { 'content-type': 'text/plain' }); res.end('released'); }
      return list.length;
    },
  });
  return self;
}

/** The worker's state of upstream `name` (what `GET /upstreams` shows for it). */
export async function upstreamState(gw: TestGateway, name: string): Promise<UpstreamState> {
  const all = await gw.worker.command('upstreams', {}) as Record<string, UpstreamState>;
  return all[name];
}

/** Polls `check` every 20 ms until it returns true; fails after `ms` with `what`. */
export async function waitFor(what: string, check: () => boolean | Promise<boolean>, ms = 5000): Promise<void> {
  const until = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > until) throw new Error('timed out waiting for ' + what);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Resolves after `ms`. */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
