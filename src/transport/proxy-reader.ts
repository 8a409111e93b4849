import type { Socket } from 'node:net';
import { parseProxyHeader, PROXY_HEADER_MAX } from './proxy-protocol.js';

export interface PeerAddress {
  readonly address: string;
  readonly port: number;
}

/**
 * Reads the PROXY header a trusted proxy sends first; resolves with the real client (null for a
 * LOCAL / UNKNOWN header), leaving the bytes after the header unread on the socket, paused.
 * Rejects on a bad or missing header: a trusted proxy that does not speak it is misconfigured.
 */
export function readProxyHeader(socket: Socket, timeoutMs: number): Promise<PeerAddress | null> {
  return new Promise((resolve, reject) => {
    let buffered = Buffer.alloc(0);
    const timer = setTimeout(() => finish(new Error('no PROXY header in time')), timeoutMs);
    const finish = (error: Error | null, peer: PeerAddress | null = null): void => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('close', onClose);
      socket.pause();
      if (error) reject(error);
      else resolve(peer);
    };
    const onClose = (): void => finish(new Error('closed before its PROXY header'));
    const onData = (chunk: Buffer): void => {
      buffered = Buffer.concat([buffered, chunk]);
      const header = parseProxyHeader(buffered);
      if (header.kind === 'incomplete') {
        if (buffered.length > PROXY_HEADER_MAX) finish(new Error('PROXY header too long'));
        return;
      }
      if (header.kind === 'invalid') return finish(new Error(header.reason));
      const rest = buffered.subarray(header.length);
      finish(null, header.source);
      if (rest.length > 0) socket.unshift(rest);
    };
    socket.on('data', onData);
    socket.on('close', onClose);
  });
}
