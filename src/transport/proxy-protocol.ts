import { isIPv4, isIPv6 } from 'node:net';
import { canonicalIPv6, ipv6Bytes } from './address.js';

/**
 * The PROXY protocol header a TCP load balancer (HAProxy and its kin) puts before the client's
 * bytes, v1 (text) and v2 (binary): pure parsing, no sockets.
 * https://www.haproxy.org/download/2.8/doc/proxy-protocol.txt
 */
export type ProxyHeader =
  | { readonly kind: 'incomplete' }
  | { readonly kind: 'invalid'; readonly reason: string }
  /** `source` is null for LOCAL / UNKNOWN: the proxy's own connection (health checks). */
  | { readonly kind: 'header'; readonly length: number; readonly source: { readonly address: string; readonly port: number } | null };

const V2_SIGNATURE = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);
const V1_PREFIX = Buffer.from('PROXY ');
/** The longest v1 line the spec allows, CRLF included. */
const V1_MAX = 107;
/** A v2 header is 16 bytes and at most 216 of addresses and extensions we accept. */
export const PROXY_HEADER_MAX = 16 + 216;

export function parseProxyHeader(bytes: Buffer): ProxyHeader {
  if (startsWithPrefixOf(bytes, V2_SIGNATURE)) return bytes.length < V2_SIGNATURE.length ? { kind: 'incomplete' } : parseV2(bytes);
  if (startsWithPrefixOf(bytes, V1_PREFIX)) return bytes.length < V1_PREFIX.length ? { kind: 'incomplete' } : parseV1(bytes);
  return { kind: 'invalid', reason: 'no PROXY protocol header from a trusted proxy' };
}

function startsWithPrefixOf(bytes: Buffer, signature: Buffer): boolean {
  const n = Math.min(bytes.length, signature.length);
  return bytes.subarray(0, n).equals(signature.subarray(0, n));
}

function parseV1(bytes: Buffer): ProxyHeader {
  const end = bytes.indexOf('\r\n');
  if (end < 0) return bytes.length >= V1_MAX ? { kind: 'invalid', reason: 'PROXY v1 line too long' } : { kind: 'incomplete' };
  const fields = bytes.subarray(0, end).toString('latin1').split(' ');
  const length = end + 2;
  if (fields[1] === 'UNKNOWN') return { kind: 'header', length, source: null };
  if (fields.length !== 6 || (fields[1] !== 'TCP4' && fields[1] !== 'TCP6')) return { kind: 'invalid', reason: 'malformed PROXY v1 line' };
  const [, family, source, , sourcePort] = fields as [string, string, string, string, string, string];
  const port = Number(sourcePort);
  const validAddress = family === 'TCP4' ? isIPv4(source) : isIPv6(source);
  if (!validAddress || !/^\d{1,5}$/.test(sourcePort) || port > 65535) return { kind: 'invalid', reason: 'malformed PROXY v1 address' };
  const address = family === 'TCP6' ? canonicalIPv6(ipv6Bytes(source)) : source;
  return { kind: 'header', length, source: { address, port } };
}

function parseV2(bytes: Buffer): ProxyHeader {
  if (bytes.length < 16) return { kind: 'incomplete' };
  const versionCommand = bytes[12]!;
  if (versionCommand >> 4 !== 2) return { kind: 'invalid', reason: 'unsupported PROXY protocol version' };
  const addressLength = bytes.readUInt16BE(14);
  const length = 16 + addressLength;
  if (length > PROXY_HEADER_MAX) return { kind: 'invalid', reason: 'PROXY v2 header too long' };
  if (bytes.length < length) return { kind: 'incomplete' };
  const command = versionCommand & 0x0f;
  if (command === 0x0) return { kind: 'header', length, source: null };
  if (command !== 0x1) return { kind: 'invalid', reason: 'unsupported PROXY v2 command' };
  const family = bytes[13]! >> 4;
  if (family === 0x1 && addressLength >= 12) {
    const address = [...bytes.subarray(16, 20)].join('.');
    return { kind: 'header', length, source: { address, port: bytes.readUInt16BE(24) } };
  }
  if (family === 0x2 && addressLength >= 36) {
    return { kind: 'header', length, source: { address: canonicalIPv6(bytes.subarray(16, 32)), port: bytes.readUInt16BE(48) } };
  }
  // AF_UNSPEC or AF_UNIX: nothing we can use as a peer address.
  return { kind: 'header', length, source: null };
}
