import { readFileSync } from 'node:fs';

/** One side of a loopback IPv4 TCP connection as the kernel holds it. */
export interface KernelSocket {
  readonly state: string;
  /** Bytes sent and not yet acknowledged by the peer (`ss`'s Send-Q). */
  readonly sendQueue: number;
}

const STATES: Record<string, string> = {
  '01': 'ESTABLISHED', '02': 'SYN_SENT', '03': 'SYN_RECV', '04': 'FIN_WAIT1', '05': 'FIN_WAIT2', '06': 'TIME_WAIT',
  '07': 'CLOSE', '08': 'CLOSE_WAIT', '09': 'LAST_ACK', '0A': 'LISTEN', '0B': 'CLOSING',
};

/**
 * The kernel's socket with local port `localPort` talking to `remotePort` (Linux, /proc/net/tcp),
 * or null when there is none: a socket closed with a reset is gone at once, one closed
 * gracefully stays (FIN_WAIT1) while its unsent bytes wait for the peer.
 */
export function kernelSocket(localPort: number, remotePort: number): KernelSocket | null {
  for (const line of readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/);
    if (fields.length < 5) continue;
    if (parseInt(fields[1]!.split(':')[1]!, 16) !== localPort || parseInt(fields[2]!.split(':')[1]!, 16) !== remotePort) continue;
    return { state: STATES[fields[3]!] ?? fields[3]!, sendQueue: parseInt(fields[4]!.split(':')[0]!, 16) };
  }
  return null;
}

/** Probes until `ready` holds (the kernel has no event to wait for); fails after 20 s. */
export async function kernelState(probe: () => KernelSocket | null, ready: (socket: KernelSocket | null) => boolean, what: string): Promise<KernelSocket | null> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const socket = probe();
    if (ready(socket)) return socket;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last seen ${JSON.stringify(socket)}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
