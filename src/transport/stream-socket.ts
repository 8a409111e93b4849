import type { Duplex } from 'node:stream';

/**
 * What a connection needs of its byte stream: a TCP socket has all of it, and a WebSocket is
 * carried as one (src/web/websocket-stream.ts), so one connection class, one writer and one
 * flood throttle serve every door.
 */
export interface StreamSocket extends Duplex {
  readonly remoteAddress?: string | undefined;
  readonly remotePort?: number | undefined;
  readonly localAddress?: string | undefined;
  readonly localPort?: number | undefined;
  /** True over TLS (a TLSSocket, or a WebSocket on an HTTPS port). */
  readonly encrypted?: boolean;
  setKeepAlive(enable?: boolean, initialDelay?: number): this;
  /** Drops the connection at once, unsent bytes too (a TCP reset). */
  resetAndDestroy(): this;
}
