import { describe, expect, it } from 'vitest';
import { addressKey } from '../src/transport/address.js';
import { parseProxyHeader } from '../src/transport/proxy-protocol.js';
import { RawClient, readErrorCode, startServer, wire, expectRead } from './helpers.js';
import { ERRORS } from '../src/protocol/errors.js';

function v2Header(source: string, sourcePort: number): Buffer {
  const header = Buffer.alloc(16 + 12);
  Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]).copy(header);
  header[12] = 0x21; // version 2, PROXY
  header[13] = 0x11; // TCP over IPv4
  header.writeUInt16BE(12, 14);
  Buffer.from(source.split('.').map(Number)).copy(header, 16);
  Buffer.from([127, 0, 0, 1]).copy(header, 20);
  header.writeUInt16BE(sourcePort, 24);
  header.writeUInt16BE(5000, 26);
  return header;
}

describe('PROXY protocol parsing', () => {
  it('reads v1 and v2 headers, cut anywhere', () => {
    const v1 = Buffer.from('PROXY TCP4 203.0.113.7 127.0.0.1 40000 5000\r\nHELO x\n');
    expect(parseProxyHeader(v1)).toEqual({ kind: 'header', length: 45, source: { address: '203.0.113.7', port: 40000 } });
    for (let cut = 0; cut < 45; cut++) expect(parseProxyHeader(v1.subarray(0, cut)).kind).toBe('incomplete');
    const v2 = v2Header('198.51.100.9', 41000);
    expect(parseProxyHeader(v2)).toEqual({ kind: 'header', length: 28, source: { address: '198.51.100.9', port: 41000 } });
    for (let cut = 0; cut < 28; cut++) expect(parseProxyHeader(v2.subarray(0, cut)).kind).toBe('incomplete');
    expect(parseProxyHeader(Buffer.from('PROXY UNKNOWN\r\n'))).toEqual({ kind: 'header', length: 15, source: null });
    expect(parseProxyHeader(Buffer.from('HELO x\n')).kind).toBe('invalid');
    expect(parseProxyHeader(Buffer.from('PROXY TCP4 nonsense 1 2 3\r\n')).kind).toBe('invalid');
  });
});

describe('behind a trusted proxy', () => {
  it('applies the per-address limit and the KILL_SERVICE policy to the real client address', async () => {
    const server = await startServer({ trustedProxy: '127.0.0.0/8', maxConnectionsPerAddress: 2 });
    const viaProxy = async (header: string | Buffer): Promise<RawClient> => {
      const client = await RawClient.connect(server.port);
      client.send(header);
      return client;
    };
    const first = await viaProxy('PROXY TCP4 203.0.113.7 127.0.0.1 40000 5000\r\n');
    const second = await viaProxy(v2Header('203.0.113.7', 40001));
    for (const client of [first, second]) {
      client.send('HELO behind a proxy\n');
      await expectRead(client, wire.helo('behind a proxy', server.port));
    }
    const third = await viaProxy('PROXY TCP4 203.0.113.7 127.0.0.1 40002 5000\r\n');
    expect(await third.readToClose()).toMatch(/^ERROR_CODE: 7\n/);
    // Another real address is not held to 203.0.113.7's count.
    const other = await viaProxy('PROXY TCP4 203.0.113.8 127.0.0.1 40003 5000\r\n');
    // A client that is not on loopback may not stop the server, though its proxy is.
    other.send('KILL_SERVICE\n');
    expect(await readErrorCode(other)).toBe(ERRORS.NOT_PERMITTED.code);
  });

  it('counts IPv6 clients per /64 (the prefix is an option) for the per-address limit', async () => {
    const server = await startServer({ trustedProxy: '127.0.0.0/8', maxConnectionsPerAddress: 2 });
    const viaProxy = async (source: string): Promise<RawClient> => {
      const client = await RawClient.connect(server.port);
      client.send(`PROXY TCP6 ${source} ::1 40000 5000\r\n`);
      return client;
    };
    // Two addresses of one /64 fill its allowance; a third address in it is refused.
    for (const source of ['2001:db8:1:2::a', '2001:db8:1:2:ffff::b']) {
      const client = await viaProxy(source);
      client.send('HELO v6\n');
      await expectRead(client, wire.helo('v6', server.port));
    }
    const third = await viaProxy('2001:db8:1:2:1234:5678:9abc:def0');
    expect(await third.readToClose()).toBe('ERROR_CODE: 7\nERROR_DESCRIPTION: at most 2 connections per address (IPv6: per /64)\n');
    // The next /64 has its own.
    const neighbour = await viaProxy('2001:db8:1:3::a');
    neighbour.send('HELO next door\n');
    await expectRead(neighbour, wire.helo('next door', server.port));
    // Per exact address when told so.
    const exact = await startServer({ trustedProxy: '127.0.0.0/8', maxConnectionsPerAddress: 1, ipv6PrefixLength: 128 });
    for (const source of ['2001:db8::1', '2001:db8::2']) {
      const client = await RawClient.connect(exact.port);
      client.send(`PROXY TCP6 ${source} ::1 40000 5000\r\nHELO exact\n`);
      await expectRead(client, wire.helo('exact', exact.port));
    }
  });

  it('drops a trusted peer that sends no PROXY header; untrusted peers need none', async () => {
    const server = await startServer({ trustedProxy: '127.0.0.1/32' });
    const noHeader = await RawClient.connect(server.port);
    noHeader.send('HELO no header\n');
    expect(await noHeader.readToClose()).toBe('');
    const untrusted = await startServer({ trustedProxy: '10.0.0.0/8' });
    const plain = await RawClient.connect(untrusted.port);
    plain.send('HELO plain\n');
    await expectRead(plain, wire.helo('plain', untrusted.port));
  });
});

describe('PROXY protocol addresses', () => {
  it('names an IPv6 client the same way in v1 and v2, in canonical form', () => {
    const v1 = parseProxyHeader(Buffer.from('PROXY TCP6 0:0:0:0:0:0:0:1 ::1 40000 5000\r\n'));
    expect(v1).toMatchObject({ kind: 'header', source: { address: '::1', port: 40000 } });
    const mapped = parseProxyHeader(Buffer.from('PROXY TCP6 ::ffff:10.1.2.3 ::1 40000 5000\r\n'));
    expect(mapped).toMatchObject({ kind: 'header', source: { address: '10.1.2.3' } });
    const header = Buffer.alloc(16 + 36);
    Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]).copy(header);
    header[12] = 0x21;
    header[13] = 0x21; // TCP over IPv6
    header.writeUInt16BE(36, 14);
    header.writeUInt16BE(0x2001, 16);
    header.writeUInt16BE(0x0db8, 18);
    header.writeUInt16BE(7, 30);
    header.writeUInt16BE(1, 47);
    header.writeUInt16BE(41000, 48);
    expect(parseProxyHeader(header)).toMatchObject({ kind: 'header', source: { address: '2001:db8::7', port: 41000 } });
  });
});

describe('per-address limit keys', () => {
  it('keys IPv4 by address and IPv6 by its prefix, IPv4-mapped addresses as IPv4', () => {
    expect(addressKey('203.0.113.7', 64)).toBe('203.0.113.7');
    expect(addressKey('2001:db8:1:2:3:4:5:6', 64)).toBe('2001:db8:1:2::/64');
    expect(addressKey('2001:DB8:1:2::9', 64)).toBe('2001:db8:1:2::/64');
    expect(addressKey('2001:db8:1:3::9', 64)).toBe('2001:db8:1:3::/64');
    expect(addressKey('2001:db8:1:2:3:4:5:6', 48)).toBe('2001:db8:1::/48');
    // A prefix off a group boundary keeps only its bits.
    expect(addressKey('2001:db8:1:2:3:4:5:6', 56)).toBe('2001:db8:1::/56');
    expect(addressKey('2001:db8:1:2ff:3:4:5:6', 56)).toBe('2001:db8:1:200::/56');
    expect(addressKey('2001:db8:1:2:3:4:5:6', 1)).toBe('::/1');
    expect(addressKey('fe80::1:2:3:4%eth0', 64)).toBe('fe80::/64');
    expect(addressKey('2001:db8::7', 128)).toBe('2001:db8::7');
    expect(addressKey('::ffff:198.51.100.9', 64)).toBe('198.51.100.9');
    expect(addressKey('::ffff:c633:6409', 64)).toBe('198.51.100.9');
    expect(addressKey('::1', 64)).toBe('::/64');
    expect(addressKey('', 64)).toBe('');
  });
});
