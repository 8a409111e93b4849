import { isIPv6 } from 'node:net';

/** Strips the IPv4-mapped prefix so IPv4 peers read as dotted quads. */
export function plainAddress(address: string | undefined): string {
  if (!address) return '';
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}

/** True for 127.0.0.0/8 and ::1 (IPv4-mapped forms included). */
export function isLoopback(address: string): boolean {
  const plain = plainAddress(address);
  return plain === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(plain);
}

/**
 * What the per-address connection limit counts by: an IPv4 address as itself (IPv4-mapped IPv6
 * included), an IPv6 address by its first `ipv6PrefixLength` bits, as `2001:db8:1:2::/64`. One
 * IPv6 host or subscriber is usually handed a whole /64, so counting exact addresses would let it
 * open as many connections as it likes (IRC servers' CIDR limits count the same way).
 */
export function addressKey(address: string, ipv6PrefixLength: number): string {
  // Checked before any parsing: accepting is a hot path, and most peers are IPv4.
  if (!address.includes(':')) return address;
  // A link-local peer's zone (`fe80::1%eth0`) is where it is, not who.
  const zone = address.indexOf('%');
  const plain = zone < 0 ? address : address.slice(0, zone);
  if (!isIPv6(plain)) return address;
  const bytes = ipv6Bytes(plain);
  if (isIPv4Mapped(bytes)) return [...bytes.subarray(12, 16)].join('.');
  if (ipv6PrefixLength >= 128) return canonicalIPv6(bytes);
  const whole = ipv6PrefixLength >> 3;
  const rest = ipv6PrefixLength & 7;
  if (rest > 0) bytes[whole] = bytes[whole]! & (0xff << (8 - rest));
  bytes.fill(0, rest > 0 ? whole + 1 : whole);
  return `${canonicalIPv6(bytes)}/${ipv6PrefixLength}`;
}

function isIPv4Mapped(raw: Buffer): boolean {
  for (let i = 0; i < 10; i++) if (raw[i] !== 0) return false;
  return raw[10] === 0xff && raw[11] === 0xff;
}

/**
 * RFC 5952 text for 16 address bytes (`::1`, `2001:db8::7`; IPv4-mapped as a dotted quad), so the
 * same client is the same address whichever PROXY version named it.
 */
export function canonicalIPv6(raw: Buffer): string {
  if (isIPv4Mapped(raw)) return [...raw.subarray(12, 16)].join('.');
  const groups: number[] = [];
  for (let i = 0; i < 8; i++) groups.push(raw.readUInt16BE(i * 2));
  let bestStart = -1;
  let bestLength = 1;
  for (let start = 0; start < 8; ) {
    let end = start;
    while (end < 8 && groups[end] === 0) end++;
    if (end - start > bestLength) {
      bestStart = start;
      bestLength = end - start;
    }
    start = end === start ? start + 1 : end;
  }
  const hex = groups.map((group) => group.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`;
}

/** The 16 bytes of a textual IPv6 address (already checked with isIPv6). */
export function ipv6Bytes(text: string): Buffer {
  const out = Buffer.alloc(16);
  let body = text;
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    const quad = dotted[1]!.split('.').map(Number);
    body = `${text.slice(0, -dotted[1]!.length)}${((quad[0]! << 8) | quad[1]!).toString(16)}:${((quad[2]! << 8) | quad[3]!).toString(16)}`;
  }
  const [head = '', tail] = body.split('::');
  const headGroups = head ? head.split(':') : [];
  const tailGroups = tail ? tail.split(':') : [];
  const groups = tail === undefined ? headGroups : [...headGroups, ...Array<string>(8 - headGroups.length - tailGroups.length).fill('0'), ...tailGroups];
  groups.forEach((group, i) => out.writeUInt16BE(parseInt(group, 16), i * 2));
  return out;
}
