import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { IrcLineSplitter, MAX_LINE_BYTES, splitText } from '../src/irc/lines.js';
import { encodeMessage, escapeTagValue, parseMessage, unescapeTagValue, type IrcMessage } from '../src/irc/message.js';
import { channelOfRoom, foldCase, isValidNick, nickFromName, NICK_LENGTH, roomOfChannel } from '../src/irc/names.js';

const message = (command: string, params: string[], source: string | null = null, tags: [string, string][] = []): IrcMessage => ({ tags: new Map(tags), source, command, params });

describe('IRC messages (unit)', () => {
  it('parses commands, sources, middle and trailing parameters', () => {
    expect(parseMessage('PRIVMSG #lobby :hello there')).toEqual(message('PRIVMSG', ['#lobby', 'hello there']));
    expect(parseMessage(':alice!a@host JOIN #lobby')).toEqual(message('JOIN', ['#lobby'], 'alice!a@host'));
    expect(parseMessage('nick   alice')).toEqual(message('NICK', ['alice']));
    expect(parseMessage('USER a 0 * :Alice Liddell')).toEqual(message('USER', ['a', '0', '*', 'Alice Liddell']));
    expect(parseMessage('PRIVMSG #x ::-)')).toEqual(message('PRIVMSG', ['#x', ':-)']));
    expect(parseMessage('TOPIC #x :')).toEqual(message('TOPIC', ['#x', '']));
    expect(parseMessage('CAP LS 302')).toEqual(message('CAP', ['LS', '302']));
  });

  it('ignores lines without a command', () => {
    for (const line of ['', '   ', '@a=b', '@a=b ', ':server', ':server ']) expect(parseMessage(line)).toBeNull();
  });

  it('parses and unescapes IRCv3 tags (the message-tags examples)', () => {
    const parsed = parseMessage('@id=234AB;+example.com/ddd=e\\se\\:;flag :dan!d@localhost PRIVMSG #chan :Hey what\'s up!');
    expect(parsed).toEqual(message('PRIVMSG', ['#chan', 'Hey what\'s up!'], 'dan!d@localhost', [['id', '234AB'], ['+example.com/ddd', 'e e;'], ['flag', '']]));
    expect(unescapeTagValue('back\\\\slash\\r\\n')).toBe('back\\slash\r\n');
    // An escaped character without a meaning stands for itself; a lone trailing backslash is dropped.
    expect(unescapeTagValue('\\b\\')).toBe('b');
    expect(parseMessage('@k=1;k=2 PING')!.tags.get('k')).toBe('2');
  });

  it('encodes with a trailing parameter where one is needed, or asked for', () => {
    expect(encodeMessage(message('PRIVMSG', ['#lobby', 'hi']), true)).toBe('PRIVMSG #lobby :hi');
    expect(encodeMessage(message('JOIN', ['#lobby'], 'alice!a@lab/0'))).toBe(':alice!a@lab/0 JOIN #lobby');
    expect(encodeMessage(message('TOPIC', ['#x', '']))).toBe('TOPIC #x :');
    expect(encodeMessage(message('001', ['alice', 'Welcome here']))).toBe('001 alice :Welcome here');
    expect(encodeMessage(message('PRIVMSG', ['#x', 'a'], 'srv', [['time', '2026-12-04T00:00:00.000Z'], ['+draft/x', 'a;b c']]))).toBe('@time=2026-12-04T00:00:00.000Z;+draft/x=a\\:b\\sc :srv PRIVMSG #x a');
  });

  const word = fc.stringMatching(/^[A-Za-z0-9#&!@.*_\-[\]{}|^`]{1,12}$/);
  const anyText = fc.string({ unit: 'binary', maxLength: 40 }).map((text) => text.replace(/[\r\n\0]/g, ''));
  const tagKey = fc.stringMatching(/^\+?[a-z][a-z0-9./-]{0,10}$/);

  it('encode then parse gives the message back (any tags, source, words and trailing text)', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.tuple(tagKey, fc.string({ unit: 'binary', maxLength: 20 })), { selector: ([key]) => key, maxLength: 4 }),
        fc.option(word, { nil: null }),
        fc.stringMatching(/^[A-Z]{3,8}$/),
        fc.array(word, { maxLength: 4 }),
        fc.option(anyText, { nil: undefined }),
        (tags, source, command, middle, trailing) => {
          const params = trailing === undefined ? middle : [...middle, trailing];
          const original = message(command, params, source, tags);
          expect(parseMessage(encodeMessage(original))).toEqual(original);
        },
      ),
    );
  });

  it('tag escaping round-trips any value, and escaped values hold no space, semicolon, CR or LF', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 60 }), (value) => {
        const escaped = escapeTagValue(value);
        expect(escaped).not.toMatch(/[ ;\r\n]/);
        expect(unescapeTagValue(escaped)).toBe(value);
      }),
    );
  });
});

describe('IRC lines (unit)', () => {
  it('splits on LF and CR LF, across reads cut anywhere, a UTF-8 character included', () => {
    const bytes = Buffer.from('NICK élan\r\nUSER a 0 * :x\nPING 1\r\n');
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: 1, max: bytes.length - 1 }), { maxLength: 6 }), (cuts) => {
        const splitter = new IrcLineSplitter();
        const lines = [];
        let from = 0;
        for (const cut of [...cuts].sort((a, b) => a - b)) {
          lines.push(...splitter.push(bytes.subarray(from, cut)));
          from = cut;
        }
        lines.push(...splitter.push(bytes.subarray(from)));
        expect(lines).toEqual([{ kind: 'line', text: 'NICK élan' }, { kind: 'line', text: 'USER a 0 * :x' }, { kind: 'line', text: 'PING 1' }]);
      }),
    );
  });

  it('drops a line over 512 bytes (with its CR LF) as one tooLong, keeps the next, and holds at most about 8 KiB of it', () => {
    const splitter = new IrcLineSplitter();
    const fits = `PRIVMSG #x :${'a'.repeat(MAX_LINE_BYTES - 2 - 12)}`;
    expect(splitter.push(Buffer.from(`${fits}\r\n`))).toEqual([{ kind: 'line', text: fits }]);
    expect(splitter.push(Buffer.from(`${fits}a\r\nPING 2\r\n`))).toEqual([{ kind: 'tooLong' }, { kind: 'line', text: 'PING 2' }]);
    expect(splitter.push(Buffer.from('x'.repeat(100_000)))).toEqual([]);
    expect(splitter.pendingBytes).toBe(0);
    expect(splitter.push(Buffer.from('x\nPING 3\n'))).toEqual([{ kind: 'tooLong' }, { kind: 'line', text: 'PING 3' }]);
  });

  it('allows a client\'s tags their own 4094 bytes beyond the 512, and no more', () => {
    const tags = `@+a=${'b'.repeat(4094 - 3)}`;
    const line = `${tags} PRIVMSG #x :${'c'.repeat(400)}`;
    expect(new IrcLineSplitter().push(Buffer.from(`${line}\r\n`))).toEqual([{ kind: 'line', text: line }]);
    expect(new IrcLineSplitter().push(Buffer.from(`${tags}b PRIVMSG #x :hi\r\n`))).toEqual([{ kind: 'tooLong' }]);
  });

  it('splits long text into pieces within the limit, never inside a character, losing only the spaces it breaks at', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 300 }), fc.integer({ min: 4, max: 80 }), (text, max) => {
        const pieces = splitText(text, max);
        for (const piece of pieces) expect(Buffer.byteLength(piece)).toBeLessThanOrEqual(max);
        // The pieces, rejoined at each break with nothing or with the space broken at, are the text.
        let rest = text;
        for (const piece of pieces) {
          if (rest.startsWith(' ') && !piece.startsWith(' ')) rest = rest.slice(1);
          expect(rest.startsWith(piece)).toBe(true);
          rest = rest.slice(piece.length);
        }
        expect(rest).toBe('');
      }),
    );
  });
});

describe('IRC names (unit)', () => {
  it('folds ASCII letters only (CASEMAPPING=ascii)', () => {
    expect(foldCase('Alice[]^É')).toBe('alice[]^É');
  });

  it('tells valid nicks from invalid ones', () => {
    for (const nick of ['alice', 'A_b-1', '[x]', '`q`', 'a'.repeat(NICK_LENGTH)]) expect(isValidNick(nick)).toBe(true);
    for (const nick of ['', '1abc', '-x', 'a b', 'a,b', 'a'.repeat(NICK_LENGTH + 1), 'é']) expect(isValidNick(nick)).toBe(false);
  });

  it('makes a lab name into a valid nick, with room for a suffix', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 64 }), (name) => {
        const nick = nickFromName(name);
        expect(isValidNick(nick)).toBe(true);
        expect(isValidNick(`${nick}123`)).toBe(true);
      }),
    );
    expect(nickFromName('Bob Smith')).toBe('Bob_Smith');
    expect(nickFromName('9lives')).toBe('_9lives');
  });

  it('maps rooms to channels and back: # and the exact name, when the name can be one', () => {
    expect(channelOfRoom('lobby')).toBe('#lobby');
    expect(channelOfRoom('Room Two')).toBeNull();
    expect(channelOfRoom('a,b')).toBeNull();
    expect(roomOfChannel('#lobby')).toBe('lobby');
    expect(roomOfChannel('#')).toBeNull();
    expect(roomOfChannel('&local')).toBeNull();
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 64 }), (name) => {
        const channel = channelOfRoom(name);
        if (channel !== null) expect(roomOfChannel(channel)).toBe(name);
      }),
    );
  });
});
