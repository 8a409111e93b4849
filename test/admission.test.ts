import { describe, expect, it } from 'vitest';
import { ConnectionAdmission } from '../src/transport/admission.js';

const limits = { maxConnections: 5, maxConnectionsPerAddress: 2, ipv6PrefixLength: 64 };

describe('connection admission (unit)', () => {
  it('admits up to the per-address limit, refuses the next with its reason, and admits again after a release', () => {
    const admission = new ConnectionAdmission(limits);
    expect(admission.admit('192.0.2.1')).toBeNull();
    expect(admission.admit('192.0.2.1')).toBeNull();
    expect(admission.admit('192.0.2.1')).toBe('at most 2 connections per address');
    expect(admission.admit('192.0.2.2')).toBeNull();
    admission.release('192.0.2.1');
    expect(admission.admit('192.0.2.1')).toBeNull();
    expect(admission.count).toBe(3);
  });

  it('counts IPv6 peers per prefix and says so when it refuses', () => {
    const admission = new ConnectionAdmission(limits);
    expect(admission.admit('2001:db8:1:2::1')).toBeNull();
    expect(admission.admit('2001:db8:1:2:ffff::9')).toBeNull();
    expect(admission.admit('2001:db8:1:2::abcd')).toBe('at most 2 connections per address (IPv6: per /64)');
    // Another /64 is another address.
    expect(admission.admit('2001:db8:1:3::1')).toBeNull();
  });

  it('never refuses loopback under the per-address limit, but counts it in the total', () => {
    const admission = new ConnectionAdmission(limits);
    for (let i = 0; i < 5; i++) expect(admission.admit(i % 2 ? '::1' : '127.0.0.1')).toBeNull();
    expect(admission.admit('127.0.0.1')).toBe('the server holds at most 5 connections');
    expect(admission.admit('192.0.2.1')).toBe('the server holds at most 5 connections');
    admission.release('::1');
    expect(admission.admit('192.0.2.1')).toBeNull();
  });

  it('ignores a release of an address it never admitted, so the total cannot go below what is open', () => {
    const admission = new ConnectionAdmission(limits);
    expect(admission.admit('192.0.2.1')).toBeNull();
    admission.release('198.51.100.7');
    expect(admission.count).toBe(1);
    admission.release('192.0.2.1');
    admission.release('192.0.2.1');
    expect(admission.count).toBe(0);
  });

  it('clear() frees every place at once', () => {
    const admission = new ConnectionAdmission(limits);
    for (let i = 0; i < 5; i++) admission.admit(`192.0.2.${i}`);
    admission.clear();
    expect(admission.count).toBe(0);
    expect(admission.admit('192.0.2.1')).toBeNull();
  });
});
