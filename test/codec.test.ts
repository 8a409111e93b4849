import { describe, expect, it } from 'vitest';
import { RequestDecoder, type Decoded } from '../src/protocol/index.js';

const limits = { maxLineBytes: 8192, maxRequestBytes: 65536 };

function decodeAll(chunks: Array<string | Buffer>, quiet = false): Decoded[] {
  const decoder = new RequestDecoder(limits);
  const out: Decoded[] = [];
  for (const chunk of chunks) out.push(...decoder.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk));
  if (quiet) out.push(...decoder.completeOnQuiet());
  return out;
}

const SESSION =
  'HELO héllo wörld ✓\n' +
  'JOIN_CHATROOM: röom 1\nCLIENT_IP: 0\nPORT: 0\nCLIENT_NAME: ålice\n' +
  'CHAT: 0\nJOIN_ID: 0\nCLIENT_NAME: ålice\nMESSAGE: line one 👋\nline two\n\n' +
  'LEAVE_CHATROOM: 0\nJOIN_ID: 0\nCLIENT_NAME: ålice\n' +
  'DISCONNECT: 0\nPORT: 0\nCLIENT_NAME: ålice\n';

const SESSION_DECODED: Decoded[] = [
  { kind: 'HELO', line: 'HELO héllo wörld ✓' },
  { kind: 'JOIN', roomName: 'röom 1', clientName: 'ålice' },
  { kind: 'CHAT', roomRef: 0, joinId: 0, clientName: 'ålice', message: 'line one 👋\nline two', forgedLine: null },
  { kind: 'LEAVE', roomRef: 0, joinId: 0, clientName: 'ålice', echo: { roomRef: '0', joinId: '0' } },
  { kind: 'DISCONNECT', clientName: 'ålice' },
];

describe('request decoder', () => {
  it('decodes pipelined requests in one read', () => {
    expect(decodeAll([SESSION])).toEqual(SESSION_DECODED);
  });

  it('decodes the same requests split at every byte boundary, inside multi-byte characters too', () => {
    const bytes = Buffer.from(SESSION);
    for (let cut = 1; cut < bytes.length; cut++) {
      expect(decodeAll([bytes.subarray(0, cut), bytes.subarray(cut)]), `cut at ${cut}`).toEqual(SESSION_DECODED);
    }
  });

  it('decodes byte by byte', () => {
    const bytes = Buffer.from(SESSION);
    expect(decodeAll([...bytes].map((byte) => Buffer.from([byte])))).toEqual(SESSION_DECODED);
  });

  it('accepts CRLF and any spacing after colons', () => {
    const crlf = SESSION.replace(/\n/g, '\r\n');
    expect(decodeAll([crlf])).toEqual(SESSION_DECODED);
    expect(decodeAll(['JOIN_CHATROOM:room1\nCLIENT_IP:0\nPORT:0\nCLIENT_NAME:client1\n'])).toEqual([
      { kind: 'JOIN', roomName: 'room1', clientName: 'client1' },
    ]);
    expect(decodeAll(['LEAVE_CHATROOM:   3   \nJOIN_ID:\t7\nCLIENT_NAME: bob  \n'])).toEqual([
      { kind: 'LEAVE', roomRef: 3, joinId: 7, clientName: 'bob', echo: { roomRef: '3', joinId: '7' } },
    ]);
  });

  it('skips empty lines between requests', () => {
    expect(decodeAll(['\n\nHELO a\n\n\r\nHELO b\n'])).toEqual([
      { kind: 'HELO', line: 'HELO a' },
      { kind: 'HELO', line: 'HELO b' },
    ]);
  });

  it('reads the ignored JOIN lines in their several spellings', () => {
    expect(decodeAll(['JOIN_CHATROOM: r\nCLIENT IP:\nPORT:\nCLIENT_NAME: n\n', 'JOIN_CHATROOM: r\nCLIENT_NAME: n\n'])).toEqual([
      { kind: 'JOIN', roomName: 'r', clientName: 'n' },
      { kind: 'JOIN', roomName: 'r', clientName: 'n' },
    ]);
  });

  it('accepts DISCONNECT without its PORT line, and KILL_SERVICE with or without a colon', () => {
    expect(decodeAll(['DISCONNECT: 0\nCLIENT_NAME: a\nKILL_SERVICE\nKILL_SERVICE:\n'])).toEqual([
      { kind: 'DISCONNECT', clientName: 'a' },
      { kind: 'KILL_SERVICE' },
      { kind: 'KILL_SERVICE' },
    ]);
  });

  it('ends a message at a line that starts a request', () => {
    expect(decodeAll(['CHAT: 1\nJOIN_ID: 2\nCLIENT_NAME: a\nMESSAGE: hi\nHELO x\n'])).toEqual([
      { kind: 'CHAT', roomRef: 1, joinId: 2, clientName: 'a', message: 'hi', forgedLine: null },
      { kind: 'HELO', line: 'HELO x' },
    ]);
  });

  it('marks a continuation line that reads as a reply field as forged', () => {
    const [chat] = decodeAll(['CHAT: 1\nJOIN_ID: 2\nCLIENT_NAME: a\nMESSAGE: hi\nCLIENT_NAME: mallory\nStudentID:x\n\n']);
    expect(chat).toMatchObject({ kind: 'CHAT', forgedLine: 'CLIENT_NAME: mallory' });
  });

  it('answers a block that is not a request with one MALFORMED when it ends', () => {
    const out = decodeAll(['GET / HTTP/1.1\r\nHost: example\r\nAccept: */*\r\n\r\nHELO after\n']);
    expect(out).toHaveLength(2);
    expect(out[0]).toMatchObject({ kind: 'FAILURE', error: 'MALFORMED' });
    expect(out[1]).toEqual({ kind: 'HELO', line: 'HELO after' });
  });

  it('answers a request cut short by the next request with one MALFORMED', () => {
    const out = decodeAll(['JOIN_CHATROOM: r\nHELO x\n', 'CHAT: 1\nCLIENT_NAME: a\nMESSAGE: m\n\n']);
    expect(out.map((item) => (item.kind === 'FAILURE' ? item.error : item.kind))).toEqual(['MALFORMED', 'HELO', 'MALFORMED']);
  });

  it('refuses refs and ids that are not non-negative integers', () => {
    for (const text of ['CHAT: x\nJOIN_ID: 0\nCLIENT_NAME: a\nMESSAGE: m\n\n', 'CHAT: 1\nJOIN_ID: -1\nCLIENT_NAME: a\nMESSAGE: m\n\n', 'LEAVE_CHATROOM: 1.5\nJOIN_ID: 0\nCLIENT_NAME: a\n']) {
      expect(decodeAll([text])).toEqual([expect.objectContaining({ kind: 'FAILURE', error: 'MALFORMED' })]);
    }
  });

  it('refuses bad UTF-8 as MALFORMED, once per block', () => {
    const bad = Buffer.concat([Buffer.from('CHAT: 1\nJOIN_ID: 0\nCLIENT_NAME: a\nMESSAGE: '), Buffer.from([0xff, 0xfe]), Buffer.from('\nmore\n\nHELO ok\n')]);
    expect(decodeAll([bad]).map((item) => (item.kind === 'FAILURE' ? item.error : item.kind))).toEqual(['MALFORMED', 'HELO']);
  });

  it('completes a request missing its final newline when the quiet period passes', () => {
    expect(decodeAll(['HELO no newline'], true)).toEqual([{ kind: 'HELO', line: 'HELO no newline' }]);
    expect(decodeAll(['JOIN_CHATROOM: r\nCLIENT_IP: 0\nPORT: 0\nCLIENT_NAME: n'], true)).toEqual([{ kind: 'JOIN', roomName: 'r', clientName: 'n' }]);
    expect(decodeAll(['CHAT: 0\nJOIN_ID: 0\nCLIENT_NAME: a\nMESSAGE: hi\n'], true)).toEqual([
      { kind: 'CHAT', roomRef: 0, joinId: 0, clientName: 'a', message: 'hi', forgedLine: null },
    ]);
  });

  it('waits on a request that lacks more than its terminator', () => {
    const decoder = new RequestDecoder(limits);
    expect(decoder.push(Buffer.from('JOIN_CHATROOM: r\nCLIENT_IP: 0\n'))).toEqual([]);
    expect(decoder.hasCompletablePending()).toBe(false);
    expect(decoder.completeOnQuiet()).toEqual([]);
    expect(decoder.push(Buffer.from('PORT: 0\nCLIENT_NAME: n\n'))).toEqual([{ kind: 'JOIN', roomName: 'r', clientName: 'n' }]);
  });

  it('sends TOO_LONG as soon as a line passes the line limit, newline or not, and decodes nothing after', () => {
    const decoder = new RequestDecoder({ maxLineBytes: 16, maxRequestBytes: 1024 });
    expect(decoder.push(Buffer.from('HELO a\n' + 'x'.repeat(17)))).toEqual([
      { kind: 'HELO', line: 'HELO a' },
      expect.objectContaining({ kind: 'FAILURE', error: 'TOO_LONG' }),
    ]);
    expect(decoder.push(Buffer.from('\nHELO b\n'))).toEqual([]);
  });

  it('sends TOO_LONG when a whole request passes the request limit', () => {
    const decoder = new RequestDecoder({ maxLineBytes: 100, maxRequestBytes: 200 });
    const out = decoder.push(Buffer.from('CHAT: 1\nJOIN_ID: 0\nCLIENT_NAME: a\nMESSAGE: start\n' + 'more text\n'.repeat(30)));
    expect(out).toEqual([expect.objectContaining({ kind: 'FAILURE', error: 'TOO_LONG' })]);
  });

  it('applies the quiet period only to a request that lacks nothing but its terminator', () => {
    const decoder = new RequestDecoder(limits);
    // A read cut inside a request's first line (a retransmission pause, say) must not be cut there.
    expect(decoder.push(Buffer.from('JOIN_CHATROOM: ro'))).toEqual([]);
    expect(decoder.hasCompletablePending()).toBe(false);
    expect(decoder.push(Buffer.from('om1\nCLIENT_IP: 0\nPORT: 0\nCLIENT_NAME: a'))).toEqual([]);
    expect(decoder.hasCompletablePending()).toBe(true);
    expect(decoder.completeOnQuiet()).toEqual([{ kind: 'JOIN', roomName: 'room1', clientName: 'a' }]);
    expect(decoder.push(Buffer.from('CHAT: 12'))).toEqual([]);
    expect(decoder.hasCompletablePending()).toBe(false);
    expect(decoder.push(Buffer.from('3\nJOIN_ID: 0\nCLIENT_NAME: a\nMESSAGE: hi'))).toEqual([]);
    expect(decoder.hasCompletablePending()).toBe(true);
    expect(decoder.completeOnQuiet()).toEqual([{ kind: 'CHAT', roomRef: 123, joinId: 0, clientName: 'a', message: 'hi', forgedLine: null }]);
    expect(decoder.push(Buffer.from('HEL'))).toEqual([]);
    expect(decoder.hasCompletablePending()).toBe(false);
  });

  it('counts the line that starts the next request for that request, not the one it ends', () => {
    const chat = 'CHAT: 1\nJOIN_ID: 0\nCLIENT_NAME: a\nMESSAGE: ' + 'm'.repeat(60) + '\n';
    const decoder = new RequestDecoder({ maxLineBytes: 200, maxRequestBytes: chat.length });
    const out = decoder.push(Buffer.from(chat + 'HELO next\n'));
    expect(out.map((item) => item.kind)).toEqual(['CHAT', 'HELO']);
  });

  it('sends TOO_LONG as soon as a request with its unended line passes the request limit', () => {
    const decoder = new RequestDecoder({ maxLineBytes: 1000, maxRequestBytes: 100 });
    expect(decoder.push(Buffer.from('CHAT: 1\nJOIN_ID: 0\nCLIENT_NAME: a\nMESSAGE: ' + 'x'.repeat(80)))).toEqual([
      expect.objectContaining({ kind: 'FAILURE', error: 'TOO_LONG' }),
    ]);
  });

  it('finds a forged field after a bare carriage return inside a message line', () => {
    const [first] = decodeAll(['CHAT: 0\nJOIN_ID: 0\nCLIENT_NAME: a\nMESSAGE: hi\rCLIENT_NAME: bob\n\n']);
    expect(first).toMatchObject({ kind: 'CHAT', forgedLine: expect.any(String) });
    const [second] = decodeAll(['CHAT: 0\nJOIN_ID: 0\nCLIENT_NAME: a\nMESSAGE: hi\r\n\rCLIENT_NAME: bob\rMESSAGE: pwned\r\n\n']);
    expect(second).toMatchObject({ kind: 'CHAT', forgedLine: expect.any(String) });
    const [plain] = decodeAll(['CHAT: 0\nJOIN_ID: 0\nCLIENT_NAME: a\nMESSAGE: a\rb\n\n']);
    expect(plain).toMatchObject({ kind: 'CHAT', forgedLine: null, message: 'a\rb' });
  });

  // Python's str.splitlines() breaks a line at each of these, as a universal-newline reader does at \r.
  it.each([
    ['VT', '\x0b'], ['FF', '\x0c'], ['FS', '\x1c'], ['GS', '\x1d'], ['RS', '\x1e'],
    ['NEL', '\u0085'], ['LS', '\u2028'], ['PS', '\u2029'],
  ])('finds a forged field after %s inside a message line, first or continuation', (_, lineBreak) => {
    const head = Buffer.from('CHAT: 0\nJOIN_ID: 0\nCLIENT_NAME: a\nMESSAGE: ');
    const forged = Buffer.from(`hi${lineBreak}CLIENT_NAME: bob`);
    const [first] = decodeAll([Buffer.concat([head, forged, Buffer.from('\n\n')])]);
    expect(first).toMatchObject({ kind: 'CHAT', forgedLine: `hi${lineBreak}CLIENT_NAME: bob` });
    const [continuation] = decodeAll([Buffer.concat([head, Buffer.from('hi\n'), forged, Buffer.from('\n\n')])]);
    expect(continuation).toMatchObject({ kind: 'CHAT', forgedLine: `hi${lineBreak}CLIENT_NAME: bob` });
    const [plain] = decodeAll([Buffer.concat([head, Buffer.from(`a${lineBreak}b: c\n\n`)])]);
    expect(plain).toMatchObject({ kind: 'CHAT', forgedLine: null, message: `a${lineBreak}b: c` });
  });
});
