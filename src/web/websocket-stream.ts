import type { Socket } from 'node:net';
import { Duplex } from 'node:stream';
import type { RawData, WebSocket } from 'ws';
import { reset } from '../transport/reset.js';
import type { StreamSocket } from '../transport/stream-socket.js';

const CRLF = Buffer.from('\r\n');
const LF = 0x0a;
const CR = 0x0d;

/** Read frames waiting for the connection before the WebSocket stops reading its socket. */
const READ_HIGH_WATER_BYTES = 16 * 1024;

/**
 * A WebSocket carrying IRC (IRCv3 `text.ircv3.net` or `binary.ircv3.net`: one line per message,
 * without CR LF) as the byte stream a TCP door reads and writes. Lines in become CR LF-ended bytes
 * for the IRC decoder; bytes out, which the rooms and the client actor write as CR LF-ended
 * lines, go out one message per line. So this door is a transport under the IRC codec and client
 * actor: the same framing, line limits, flood throttle, send queue and slow-consumer cut.
 *
 * The send queue is the stream's own buffer plus what the WebSocket has not handed to the kernel:
 * a write is done when its last frame is, so a reader that stops reading fills it as over TCP.
 */
export class WebSocketStream extends Duplex implements StreamSocket {
  readonly remoteAddress: string | undefined;
  readonly remotePort: number | undefined;
  readonly localAddress: string | undefined;
  readonly localPort: number | undefined;
  readonly encrypted: boolean;

  constructor(
    private readonly ws: WebSocket,
    private readonly raw: Socket,
    /** `binary.ircv3.net`: binary messages; else text ones. */
    private readonly binary: boolean,
  ) {
    super({ readableHighWaterMark: READ_HIGH_WATER_BYTES, allowHalfOpen: false });
    this.remoteAddress = raw.remoteAddress;
    this.remotePort = raw.remotePort;
    this.localAddress = raw.localAddress;
    this.localPort = raw.localPort;
    this.encrypted = (raw as Socket & { encrypted?: boolean }).encrypted === true;
    ws.on('message', (data: RawData) => this.received(data));
    ws.on('close', () => this.wsClosed());
    // Errors (a bad frame, a reset) end in 'close', which is what the connection acts on.
    ws.on('error', () => {});
  }

  setKeepAlive(enable?: boolean, initialDelay?: number): this {
    this.raw.setKeepAlive(enable, initialDelay);
    return this;
  }

  /** A reset of the TCP connection under the WebSocket (its unsent bytes dropped), as for the other doors. */
  resetAndDestroy(): this {
    reset(this.raw);
    this.ws.terminate();
    return this.destroy();
  }

  override _read(): void {
    this.ws.resume();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (error?: Error | null) => void): void {
    if (this.ws.readyState !== this.ws.OPEN) {
      done();
      return;
    }
    // One writev for the lot, not two writes per message.
    this.raw.cork();
    let start = 0;
    let pending: Buffer | null = null;
    for (let at = chunk.indexOf(LF); at >= 0; at = chunk.indexOf(LF, start)) {
      const end = at > start && chunk[at - 1] === CR ? at - 1 : at;
      if (pending) this.ws.send(pending, { binary: this.binary });
      pending = end > start ? chunk.subarray(start, end) : null;
      start = at + 1;
    }
    // A write without its line end (none of ours) goes as it is.
    if (start < chunk.length) {
      if (pending) this.ws.send(pending, { binary: this.binary });
      pending = chunk.subarray(start);
    }
    // The write is done when its last message has reached the kernel.
    if (pending) this.ws.send(pending, { binary: this.binary }, () => done());
    else done();
    this.raw.uncork();
  }

  override _final(done: (error?: Error | null) => void): void {
    if (this.ws.readyState === this.ws.OPEN) this.ws.close(1000);
    done();
  }

  override _destroy(error: Error | null, done: (error?: Error | null) => void): void {
    if (this.ws.readyState !== this.ws.CLOSED) this.ws.terminate();
    done(error);
  }

  private received(data: RawData): void {
    const bytes = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
    // Clients must not end a message with CR LF; some do. Either way it is one line here.
    let end = bytes.length;
    if (end > 0 && bytes[end - 1] === LF) end--;
    if (end > 0 && bytes[end - 1] === CR) end--;
    if (!this.push(Buffer.concat([bytes.subarray(0, end), CRLF]))) this.ws.pause();
  }

  private wsClosed(): void {
    this.push(null);
    this.destroy();
  }
}
