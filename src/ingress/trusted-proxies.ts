import { BlockList, isIP, SocketAddress } from 'node:net';

/**
 * The set of peers whose X-Forwarded-For is believed. Built once from the
 * config's CIDRs/addresses with node's BlockList (no hand-written CIDR math).
 */
export class TrustedProxies {
  private readonly list: BlockList | null;

  constructor(entries: readonly string[]) {
    if (entries.length === 0) { this.list = null; return; }
    const list = new BlockList();
    for (const entry of entries) {
      const slash = entry.indexOf('/');
      const addr = slash < 0 ? entry : entry.slice(0, slash);
      const family = isIP(addr) === 6 ? 'ipv6' : 'ipv4';
      if (isIP(addr) === 0) throw new Error(`trustedProxies: "${entry}" is not an IP address or CIDR`);
      if (slash < 0) list.addAddress(addr, family);
      else list.addSubnet(addr, Number(entry.slice(slash + 1)), family);
    }
    this.list = list;
  }

  /** True when no proxy is trusted (the default). */
  get empty(): boolean {
    return this.list === null;
  }

  /** Whether `ip` (textual IPv4 or IPv6) is a trusted proxy. */
  has(ip: string): boolean {
    if (this.list === null) return false;
    const family = isIP(ip);
    if (family === 0) return false;
    return this.list.check(ip, family === 6 ? 'ipv6' : 'ipv4');
  }

  /**
   * The client address: the peer itself unless it is trusted, then the
   * right-most X-Forwarded-For entry that is not a trusted proxy.
   */
  clientIp(peer: string, xff: string): string {
    if (xff === '' || !this.has(peer)) return peer;
    let end = xff.length;
    while (end > 0) {
      const comma = xff.lastIndexOf(',', end - 1);
      const candidate = xff.slice(comma + 1, end).trim();
      if (candidate !== '' && !this.has(candidate)) return isIP(candidate) ? candidate : peer;
      end = comma < 0 ? 0 : comma;
    }
    return peer;
  }
}

/**
 * Normalises the text uWS gives for the peer address: IPv4-mapped IPv6
 * (`::ffff:1.2.3.4` or the zero-padded long form) becomes plain IPv4.
 */
export function normalisePeerAddress(text: string): string {
  if (text.length > 7 && text.charCodeAt(0) === 48 /* 0 */ && text.startsWith('0000:0000:0000:0000:0000:ffff:')) {
    const hex = text.slice(30).replace(':', '');
    if (hex.length === 8) {
      const n = parseInt(hex, 16);
      return (n >>> 24) + '.' + ((n >>> 16) & 255) + '.' + ((n >>> 8) & 255) + '.' + (n & 255);
    }
  }
  if (text.startsWith('::ffff:') && text.indexOf('.') > 0) return text.slice(7);
  // uWS spells IPv6 peers in full (`0000:…:0001`); upstreams (X-Forwarded-For),
  // logs and policies get the canonical short form (`::1`).
  if (text.length === 39 && text.charCodeAt(4) === 58 /* : */) return compactIpv6(text);
  return text;
}

/** The canonical (RFC 5952) form of a full-length IPv6 address; the text itself if it does not parse. */
function compactIpv6(text: string): string {
  // why: a small memo; a client's requests repeat its address, and the
  // SocketAddress round trip costs about a microsecond.
  const hit = compacted.get(text);
  if (hit !== undefined) return hit;
  let out = text;
  try {
    out = new SocketAddress({ address: text, family: 'ipv6' }).address;
  } catch {
    // Keep uWS's text.
  }
  if (compacted.size >= 4096) compacted.clear();
  compacted.set(text, out);
  return out;
}
const compacted = new Map<string, string>();
