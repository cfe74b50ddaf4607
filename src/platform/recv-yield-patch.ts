/**
 * Makes the uSockets read loop inside uWebSockets.js yield after every
 * `recv`, so that `HttpResponse.pause()` takes effect within one receive
 * buffer (512 KiB) instead of whenever the sender stops keeping up.
 *
 * Why a binary patch: `us_internal_dispatch_ready_poll` (uSockets
 * src/loop.c, since uSockets 833497e of 2024-02-07) reads again at once, in a
 * loop, while each `recv` fills its whole 512 KiB buffer
 * (`length == LIBUS_RECV_BUFFER_LENGTH`). It never looks at the poll's events,
 * so a pause (which only changes the events polled) is ignored until a `recv`
 * returns less. A client that sends at least as fast as the gateway reads (a
 * loopback or LAN upload into a worker that copies every chunk) keeps that
 * loop going for hundreds of MiB, all of which the gateway must hold. uWS.js
 * exposes no call that ends the loop and no file descriptor to shrink the
 * socket's receive buffer, so the loop itself is changed.
 *
 * The patch changes one byte: the loop's constant 0x80000 becomes 0x80001,
 * a length `recv` into a 0x80000-byte buffer can never return, so the loop
 * body runs once per readable event. That is the behaviour of uSockets before
 * that commit; libuv polls level-triggered, so a socket still readable (and
 * not paused) is dispatched again on the next loop iteration. The loop's stated
 * reason (reading the rest before a hangup closes the socket in the same
 * iteration) applies to uSockets' own epoll backend, which treats EPOLLHUP as
 * an error; under libuv (Node) only POLLERR is, and a socket with POLLERR was
 * reset, so its unread bytes are void anyway.
 *
 * Only x86-64 builds are recognised (the code was verified on the four Linux
 * x64 binaries of uWebSockets.js 20.57). The site is located by symbol and by
 * instruction pattern, never by a fixed offset, and must be unique within the
 * function; anything else is refused with {@link RecvYieldPatchError}.
 */

import { findDefinedSymbol } from './elf-version-needs.js';

/** The uSockets function holding the read loop. */
export const READ_LOOP_FUNCTION = 'us_internal_dispatch_ready_poll';
/** LIBUS_RECV_BUFFER_LENGTH as the loop compares it. */
const RECV_BUFFER_LENGTH = 0x80000;
/** The value the patched comparison uses. */
const PATCHED_LENGTH = 0x80001;
const EM_X86_64 = 62;

/** The binary has no (single, recognisable) read loop to patch. */
export class RecvYieldPatchError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RecvYieldPatchError';
  }
}

/** The loop's length comparison found by {@link findRecvYieldSite}. */
export interface RecvYieldSite {
  /** File offset of the comparison's 32-bit immediate. */
  readonly immediateOffset: number;
  /** Whether the immediate already holds the patched value. */
  readonly patched: boolean;
}

/** What {@link patchRecvYield} did. */
export interface RecvYieldPatchResult {
  /** A new buffer (a copy even when nothing changed). */
  readonly buffer: Buffer;
  /** False when the input was already patched. */
  readonly changed: boolean;
  readonly immediateOffset: number;
}

/**
 * Finds the read loop's `cmp r32, 0x80000` (or its patched form) in
 * {@link READ_LOOP_FUNCTION} of an x86-64 ELF shared object: opcode 0x81 with
 * ModRM /7 on a register (any REX prefix), or the short `cmp eax` form 0x3d,
 * followed by a conditional jump (`jne`/`je`, rel8 or rel32). Throws
 * {@link RecvYieldPatchError} unless exactly one such comparison exists.
 */
export function findRecvYieldSite(buf: Buffer): RecvYieldSite {
  if (buf.length < 0x14 || buf.readUInt32BE(0) !== 0x7f454c46) throw new RecvYieldPatchError('not an ELF file');
  const machine = buf.readUInt16LE(0x12);
  if (machine !== EM_X86_64) throw new RecvYieldPatchError(`only x86-64 builds are recognised (e_machine ${machine})`);
  const fn = findDefinedSymbol(buf, READ_LOOP_FUNCTION);
  if (fn === null) throw new RecvYieldPatchError(`the binary does not export ${READ_LOOP_FUNCTION}`);
  const sites: RecvYieldSite[] = [];
  const end = fn.fileOffset + fn.size;
  for (let i = fn.fileOffset; i + 5 <= end; i++) {
    // 0x81 /7 id with mod=11 is `cmp r32, imm32` (ModRM 0xf8..0xff); 0x3d id is `cmp eax, imm32`.
    let at: number;
    if (buf[i] === 0x3d) at = i + 1;
    else if (buf[i] === 0x81 && buf[i + 1] >= 0xf8 && i + 6 <= end) at = i + 2;
    else continue;
    const imm = buf.readUInt32LE(at);
    if (imm !== RECV_BUFFER_LENGTH && imm !== PATCHED_LENGTH) continue;
    const next = at + 4;
    const jcc = next < end && (buf[next] === 0x75 || buf[next] === 0x74
      || (next + 1 < end && buf[next] === 0x0f && (buf[next + 1] === 0x85 || buf[next + 1] === 0x84)));
    if (!jcc) continue;
    sites.push({ immediateOffset: at, patched: imm === PATCHED_LENGTH });
  }
  if (sites.length !== 1) {
    throw new RecvYieldPatchError(`expected one recv-length comparison in ${READ_LOOP_FUNCTION}, found ${sites.length}`);
  }
  return sites[0];
}

/**
 * Returns a copy of `input` whose read loop yields after every `recv` (see the
 * module comment). Idempotent; throws {@link RecvYieldPatchError} when the
 * site is not recognised.
 */
export function patchRecvYield(input: Buffer): RecvYieldPatchResult {
  const site = findRecvYieldSite(input);
  const out = Buffer.from(input);
  if (!site.patched) out.writeUInt32LE(PATCHED_LENGTH, site.immediateOffset);
  return { buffer: out, changed: !site.patched, immediateOffset: site.immediateOffset };
}

/** Whether `buf` carries the patch (false when the site is absent or ambiguous). */
export function hasRecvYieldPatch(buf: Buffer): boolean {
  try {
    return findRecvYieldSite(buf).patched;
  } catch {
    return false;
  }
}
