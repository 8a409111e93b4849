import { RawClient } from './helpers.js';
import { LinePeer } from './line-peer.js';

/** The server name every IRC test server uses: numerics start with `:irc.test`. */
export const SERVER = 'irc.test';

/** A raw IRC peer: lines in, lines out, exact bytes. */
export class IrcPeer extends LinePeer {
  private constructor(readonly raw: RawClient) {
    super();
  }

  static async connect(port: number): Promise<IrcPeer> {
    return new IrcPeer(await RawClient.connect(port));
  }

  send(...lines: string[]): void {
    this.raw.send(lines.map((line) => `${line}\r\n`).join(''));
  }

  async line(): Promise<string> {
    const line = await this.raw.readUntil('\r\n');
    return line.slice(0, -2);
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
