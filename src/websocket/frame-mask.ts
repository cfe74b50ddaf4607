/**
 * Masking keys for the frames the gateway sends upstream (a client must mask
 * every frame, RFC 6455 §5.3).
 */
import { randomFillSync } from 'node:crypto';

const POOL_BYTES = 8 * 1024;
const pool = Buffer.alloc(POOL_BYTES);
let at = POOL_BYTES;

/**
 * The ws library's `generateMask` option: four bytes from a pool refilled
 * with `randomFillSync`, never all zero.
 *
 * why: ws skips masking for an all-zero key and then queues the caller's
 * buffer itself instead of a masked copy. The relay hands ws a view of uWS's
 * message ArrayBuffer, which uWS detaches when the message handler returns;
 * with a non-zero key ws always masks into a buffer of its own, synchronously
 * (Sender.frame, `merge`), so no view outlives the handler and no extra copy
 * is made.
 */
export function nonZeroMask(mask: Buffer): void {
  do {
    if (at + 4 > POOL_BYTES) {
      randomFillSync(pool);
      at = 0;
    }
    mask[0] = pool[at];
    mask[1] = pool[at + 1];
    mask[2] = pool[at + 2];
    mask[3] = pool[at + 3];
    at += 4;
  } while ((mask[0] | mask[1] | mask[2] | mask[3]) === 0);
}
