import { connect, type Socket } from 'node:net';

/** A minimal protocol peer for load scripts: writes requests, waits for exact text. */
export class BenchPeer {
  private buffer = '';
  private waiter: { text: string; resolve: () => void; reject: (error: Error) => void } | null = null;
  closed = false;

  private constructor(readonly socket: Socket) {
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      this.buffer += chunk;
      this.check();
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      this.closed = true;
      this.waiter?.reject(new Error('closed'));
      this.waiter = null;
    });
  }

  static open(port: number, host = '127.0.0.1'): Promise<BenchPeer> {
    return new Promise((resolve, reject) => {
      const socket = connect({ port, host, noDelay: true });
      socket.once('connect', () => resolve(new BenchPeer(socket)));
      socket.once('error', reject);
    });
  }

  send(text: string): void {
    this.socket.write(text);
  }

  /** Resolves once `text` has arrived; drops everything up to and including it. */
  waitFor(text: string, timeoutMs = 10_000): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${JSON.stringify(text)}`)), timeoutMs);
      this.waiter = {
        text,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      };
      this.check();
    });
  }

  end(): Promise<void> {
    return new Promise((resolve) => {
      if (this.closed) return resolve();
      this.socket.once('close', () => resolve());
    });
  }

  private check(): void {
    if (!this.waiter) return;
    const at = this.buffer.indexOf(this.waiter.text);
    if (at < 0) return;
    this.buffer = this.buffer.slice(at + this.waiter.text.length);
    const { resolve } = this.waiter;
    this.waiter = null;
    resolve();
  }
}
