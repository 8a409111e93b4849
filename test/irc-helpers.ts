import { expect } from 'vitest';
import { RawClient } from './helpers.js';

/** The server name every IRC test server uses: numerics start with `:irc.test`. */
export const SERVER = 'irc.test';

/** A raw IRC peer: lines in, lines out, exact bytes. */
export class IrcPeer {
  private constructor(readonly raw: RawClient) {}

  static async connect(port: number): Promise<IrcPeer> {
    return new IrcPeer(await RawClient.connect(port));
  }

  send(...lines: string[]): void {
    this.raw.send(lines.map((line) => `${line}\r\n`).join(''));
  }

  /** The next line, without its CR LF. */
  async line(): Promise<string> {
    const line = await this.raw.readUntil('\r\n');
    return line.slice(0, -2);
  }

  /** Reads the next line and asserts it is exactly `expected`. */
  async expect(expected: string): Promise<void> {
    expect(await this.line()).toBe(expected);
  }

  /** Reads lines up to and including the first that matches `pattern`; returns them all. */
  async until(pattern: RegExp): Promise<string[]> {
    const lines: string[] = [];
    for (;;) {
      const line = await this.line();
      lines.push(line);
      if (pattern.test(line)) return lines;
    }
  }

  /** Registers as `nick` (no CAP) and reads the burst to its end (422: no MOTD). */
  async register(nick: string, caps: readonly string[] = []): Promise<string[]> {
    if (caps.length > 0) this.send('CAP LS 302', `CAP REQ :${caps.join(' ')}`);
    this.send(`NICK ${nick}`, `USER ${nick} 0 * :${nick} Realname`);
    if (caps.length > 0) this.send('CAP END');
    return this.until(/ (376|422) /);
  }

  close(): void {
    this.raw.close();
  }
}

/** A registered IRC peer. */
export async function ircUser(port: number, nick: string, caps: readonly string[] = []): Promise<IrcPeer> {
  const peer = await IrcPeer.connect(port);
  await peer.register(nick, caps);
  return peer;
}
