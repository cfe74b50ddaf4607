/**
 * 32-bit FNV-1a over the string's UTF-16 code units, followed by the
 * murmur3 32-bit finaliser. Plain FNV-1a spreads similar short strings
 * (`target#1`, `target#2`, ...) poorly in the high bits; the finaliser gives
 * full avalanche so ring points and keys are uniformly placed.
 * Allocation-free; stable across processes and versions (the mapping of keys
 * to targets must not change on restart).
 * @param s the string to hash
 * @returns an unsigned 32-bit integer
 */
export function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
