import { addressKey, isLoopback } from './address.js';

export interface ConnectionLimits {
  /** Connections at once, from everywhere. */
  readonly maxConnections: number;
  /** Connections at once from one peer address (loopback exempt). */
  readonly maxConnectionsPerAddress: number;
  /** IPv6 peers are counted per prefix of this many bits (see `addressKey`). */
  readonly ipv6PrefixLength: number;
}

/**
 * The limits on connections in total and per peer address. A connection counts from `admit`
 * until its `release`, which comes when the server is done with it (its client actor finished
 * or failed), not at the socket's close: a connection still announcing its departures holds its
 * place. Shared by every door, so the limits are per server, not per listener.
 */
export class ConnectionAdmission {
  /** Open connections per address key; loopback peers are counted too, only never refused. */
  private readonly byAddress = new Map<string, number>();
  private admitted = 0;

  constructor(private readonly limits: ConnectionLimits) {}

  /** Connections admitted and not yet released. */
  get count(): number {
    return this.admitted;
  }

  /**
   * A new connection from `address` (the real client's, as a plain address): null when it is
   * admitted (and counted until `release`), else why it is refused, in the words of its
   * LIMIT_REACHED reply.
   */
  admit(address: string): string | null {
    const { maxConnections, maxConnectionsPerAddress, ipv6PrefixLength } = this.limits;
    if (this.admitted >= maxConnections) return `the server holds at most ${maxConnections} connections`;
    const key = addressKey(address, ipv6PrefixLength);
    const open = this.byAddress.get(key) ?? 0;
    if (open >= maxConnectionsPerAddress && !isLoopback(address)) {
      return key === address ? `at most ${maxConnectionsPerAddress} connections per address` : `at most ${maxConnectionsPerAddress} connections per address (IPv6: per /${ipv6PrefixLength})`;
    }
    this.byAddress.set(key, open + 1);
    this.admitted++;
    return null;
  }

  /** A connection admitted from `address` is done with: its place is free. */
  release(address: string): void {
    const key = addressKey(address, this.limits.ipv6PrefixLength);
    const open = this.byAddress.get(key);
    if (open === undefined) return;
    this.admitted--;
    if (open <= 1) this.byAddress.delete(key);
    else this.byAddress.set(key, open - 1);
  }

  /** Every connection is gone at once (the server's final cut). */
  clear(): void {
    this.byAddress.clear();
    this.admitted = 0;
  }
}
