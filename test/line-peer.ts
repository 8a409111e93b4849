import { expect } from 'vitest';

/**
 * An IRC peer read line by line, whatever carries the lines (a TCP stream, WebSocket messages):
 * exact-line expectations, reading up to a line, and registration.
 */
export abstract class LinePeer {
  /** The next line, without its CR LF. */
  abstract line(): Promise<string>;

  abstract send(...lines: string[]): void;

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

  /** Registers as `nick` (with `caps` asked for) and reads the burst to its end (422: no MOTD). */
  async register(nick: string, caps: readonly string[] = [], realname = `${nick} Realname`): Promise<string[]> {
    if (caps.length > 0) this.send('CAP LS 302', `CAP REQ :${caps.join(' ')}`);
    this.send(`NICK ${nick}`, `USER ${nick} 0 * :${realname}`);
    if (caps.length > 0) this.send('CAP END');
    return this.until(/ (376|422) /);
  }
}
