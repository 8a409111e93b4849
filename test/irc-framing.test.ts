import { describe, expect, it, vi } from 'vitest';
import { IRC_DECODERS, type IrcInput } from '../src/irc/decoder.js';
import { RequestFramer, type ReadGate } from '../src/transport/inbound.js';

function gate(): ReadGate {
  return { holding: false, heldMs: () => 0, lastReleasedAt: 0, hold() {}, release() {} };
}

function framer(received: IrcInput[]): RequestFramer<IrcInput> {
  return new RequestFramer(IRC_DECODERS, 100, gate(), { next: (item) => received.push(item), complete: () => {} }, 1_000);
}

const commands = (items: IrcInput[]): string[] => items.map((item) => (item.kind === 'message' ? `${item.message.command} ${item.message.params.join(',')}` : item.kind));

describe('the IRC door through the connection framer (unit)', () => {
  it('hands on one message per line, across reads, and skips blank lines', () => {
    const received: IrcInput[] = [];
    const irc = framer(received);
    irc.push(Buffer.from('NICK alice\r\nUSER a 0 * :Alice\r\n\r\nJOI'));
    irc.push(Buffer.from('N #lobby\r\n'));
    expect(commands(received)).toEqual(['NICK alice', 'USER a,0,*,Alice', 'JOIN #lobby']);
  });

  it('drops an over-long line as one tooLong, even when it arrives in pieces, and goes on', () => {
    const received: IrcInput[] = [];
    const irc = framer(received);
    irc.push(Buffer.from(`PRIVMSG #x :${'a'.repeat(600)}`));
    irc.push(Buffer.from('a'.repeat(10_000)));
    irc.push(Buffer.from('a'.repeat(10_000)));
    irc.push(Buffer.from('end\r\nPING 1\r\n'));
    expect(commands(received)).toEqual(['tooLong', 'PING 1']);
  });

  it('answers nothing for a line left unended past the timeout, and takes it when it ends', () => {
    vi.useFakeTimers();
    try {
      const received: IrcInput[] = [];
      const irc = framer(received);
      irc.push(Buffer.from('PRIVMSG #x :slow'));
      vi.advanceTimersByTime(5_000);
      expect(received).toEqual([]);
      irc.push(Buffer.from(' but whole\r\n'));
      expect(commands(received)).toEqual(['PRIVMSG #x,slow but whole']);
    } finally {
      vi.useRealTimers();
    }
  });

  it('hands on at most 64 messages a turn, the rest the next turn, in order', () => {
    vi.useFakeTimers();
    try {
      const received: IrcInput[] = [];
      const irc = framer(received);
      irc.push(Buffer.from(Array.from({ length: 100 }, (_, i) => `PING ${i}\r\n`).join('')));
      expect(received).toHaveLength(64);
      vi.runOnlyPendingTimers();
      expect(commands(received)).toEqual(Array.from({ length: 100 }, (_, i) => `PING ${i}`));
    } finally {
      vi.useRealTimers();
    }
  });
});
