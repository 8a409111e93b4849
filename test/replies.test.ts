import { describe, expect, it } from 'vitest';
import { ReplyDecoder, type ServerMessage } from '../src/protocol/index.js';
import { wire } from './helpers.js';

const PORT = 5000;

/** One of every reply, a multi-line message and non-ASCII text included, with what it decodes to. */
const STREAM = [
  wire.helo('hello world', PORT),
  wire.joined('rüüm', PORT, 3, 7),
  wire.hasJoined(3, 'zoë'),
  wire.said(3, 'zoë', 'line one\nline two  \n  indented 😀'),
  '\n',
  wire.left(3, 7),
  wire.error(5, 'the client name is not the one this member joined the room with'),
  wire.error(99, 'a code from a newer server'),
].join('');

const EXPECTED: ServerMessage[] = [
  { kind: 'HELO', line: 'HELO hello world', ip: '127.0.0.1', port: PORT, studentId: 'actor-chat-server' },
  { kind: 'JOINED', roomName: 'rüüm', serverIp: '127.0.0.1', port: PORT, roomRef: 3, joinId: 7 },
  { kind: 'CHAT', roomRef: 3, clientName: 'zoë', message: 'zoë has joined this chatroom.' },
  { kind: 'CHAT', roomRef: 3, clientName: 'zoë', message: 'line one\nline two  \n  indented 😀' },
  { kind: 'LEFT', roomRef: 3, joinId: 7 },
  { kind: 'ERROR', code: 5, name: 'WRONG_NAME', description: 'the client name is not the one this member joined the room with' },
  { kind: 'ERROR', code: 99, name: undefined, description: 'a code from a newer server' },
];

describe('reply decoder', () => {
  it('decodes every reply kind from one read', () => {
    expect(new ReplyDecoder().push(Buffer.from(STREAM))).toEqual(EXPECTED);
  });

  it('decodes the same at every split point, inside UTF-8 characters too', () => {
    const bytes = Buffer.from(STREAM);
    for (let at = 0; at <= bytes.length; at++) {
      const decoder = new ReplyDecoder();
      const out = [...decoder.push(bytes.subarray(0, at)), ...decoder.push(bytes.subarray(at))];
      expect(out, `split at ${at}`).toEqual(EXPECTED);
      expect(decoder.hasPending()).toBe(false);
    }
  });

  it('decodes a byte at a time', () => {
    const decoder = new ReplyDecoder();
    const out: ServerMessage[] = [];
    for (const byte of Buffer.from(STREAM)) out.push(...decoder.push(Buffer.from([byte])));
    expect(out).toEqual(EXPECTED);
  });

  it('accepts \\r\\n and any spacing after a colon', () => {
    const out = new ReplyDecoder().push(Buffer.from('LEFT_CHATROOM:4\r\nJOIN_ID:    2  \r\nCHAT:1\nCLIENT_NAME:a\nMESSAGE:hi\n\n'));
    expect(out).toEqual([{ kind: 'LEFT', roomRef: 4, joinId: 2 }, { kind: 'CHAT', roomRef: 1, clientName: 'a', message: 'hi' }]);
  });

  it('holds an unfinished reply as pending', () => {
    const decoder = new ReplyDecoder();
    expect(decoder.push(Buffer.from('CHAT: 1\nCLIENT_NAME: a\nMESSAGE: hi\n'))).toEqual([]);
    expect(decoder.hasPending()).toBe(true);
  });

  it('reports bytes that are no reply as INVALID, once, and decodes nothing after', () => {
    const decoder = new ReplyDecoder();
    expect(decoder.push(Buffer.from('HTTP/1.1 400 Bad Request\n' + wire.left(0, 0)))).toEqual([{ kind: 'INVALID', description: 'not a reply: "HTTP/1.1 400 Bad Request"' }]);
    expect(decoder.push(Buffer.from(wire.left(0, 0)))).toEqual([]);
    expect(new ReplyDecoder().push(Buffer.from('LEFT_CHATROOM: 0\nROOM_REF: 1\n'))[0]?.kind).toBe('INVALID');
    expect(new ReplyDecoder().push(Buffer.from('JOINED_CHATROOM: r\nSERVER_IP: x\nPORT: p\nROOM_REF: 1\nJOIN_ID: 1\n'))[0]?.kind).toBe('INVALID');
    expect(new ReplyDecoder().push(Buffer.from([0x43, 0xff, 0x0a]))[0]).toEqual({ kind: 'INVALID', description: 'a reply line is not valid UTF-8' });
  });
});
