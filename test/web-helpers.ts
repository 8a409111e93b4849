import { afterEach, expect } from 'vitest';
import WebSocket from 'ws';
import { LinePeer } from './line-peer.js';

const open = new Set<WebSocket>();

afterEach(() => {
  for (const socket of open) socket.terminate();
  open.clear();
});

// Only a failing test waits this long.
const WAIT_MS = 20_000;

export interface WsOptions {
  /** Subprotocols asked for; default the IRCv3 text one, as browsers' IRC clients ask. */
  readonly protocols?: string[];
  /** The Origin header; default none (a program, not a browser). */
  readonly origin?: string;
}

/**
 * A WebSocket IRC peer, as a web IRC client is: one IRC line per message, no CR LF. Each message
 * is kept with whether it came as binary, so tests can assert the framing itself.
 */
export class WsPeer extends LinePeer {
  private readonly messages: { text: string; binary: boolean }[] = [];
  private waiters: Array<() => void> = [];
  readonly closed: Promise<{ code: number; reason: string }>;

  private constructor(readonly socket: WebSocket) {
    super();
    socket.on('message', (data: Buffer, binary: boolean) => {
      this.messages.push({ text: data.toString('utf8'), binary });
      this.wake();
    });
    this.closed = new Promise((resolve) => socket.on('close', (code, reason) => {
      this.wake();
      resolve({ code, reason: reason.toString() });
    }));
    socket.on('error', () => {});
  }

  static async connect(port: number, options: WsOptions = {}): Promise<WsPeer> {
    const socket = new WebSocket(`ws://127.0.0.1:${port}/`, options.protocols ?? ['text.ircv3.net'], options.origin === undefined ? {} : { origin: options.origin });
    open.add(socket);
    // Listening from the start: a message may come in the same read as the handshake's answer.
    const peer = new WsPeer(socket);
    await new Promise<void>((resolve, reject) => {
      socket.once('open', resolve);
      socket.once('error', reject);
    });
    return peer;
  }

  send(...lines: string[]): void {
    for (const line of lines) this.socket.send(line);
  }

  /** The next message, whole, and whether it was binary. */
  async message(): Promise<{ text: string; binary: boolean }> {
    const deadline = Date.now() + WAIT_MS;
    while (this.messages.length === 0) {
      if (this.socket.readyState === WebSocket.CLOSED) throw new Error('the WebSocket closed before the next message');
      if (Date.now() > deadline) throw new Error('no message in time');
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, deadline - Date.now());
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return this.messages.shift()!;
  }

  /** The next line: a text message holding exactly one IRC line. */
  async line(): Promise<string> {
    const { text, binary } = await this.message();
    expect(binary).toBe(false);
    expect(text).not.toMatch(/[\r\n]/);
    return text;
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const waiter of waiters) waiter();
  }
}

export async function webUser(port: number, nick: string, caps: readonly string[] = []): Promise<WsPeer> {
  const peer = await WsPeer.connect(port);
  await peer.register(nick, caps, `${nick} on the web`);
  return peer;
}
