import { fieldValue } from './fields.js';
import { LineSplitter, type Line } from './lines.js';
import { errorNameOf, type ErrorName } from './errors.js';
import type { JoinId, RoomRef } from './types.js';

/** What a server sends, typed: the client side of protocol.md. */
export type ServerMessage =
  | { readonly kind: 'HELO'; readonly line: string; readonly ip: string; readonly port: number; readonly studentId: string }
  | { readonly kind: 'JOINED'; readonly roomName: string; readonly serverIp: string; readonly port: number; readonly roomRef: RoomRef; readonly joinId: JoinId }
  | { readonly kind: 'LEFT'; readonly roomRef: RoomRef; readonly joinId: JoinId }
  | { readonly kind: 'CHAT'; readonly roomRef: RoomRef; readonly clientName: string; readonly message: string }
  | { readonly kind: 'ERROR'; readonly code: number; readonly name: ErrorName | undefined; readonly description: string }
  /** Bytes that are no reply of the protocol: the stream cannot be trusted from here on. */
  | { readonly kind: 'INVALID'; readonly description: string };

type ReplyKind = Exclude<ServerMessage['kind'], 'INVALID'>;

/** The lines after a reply's first one, in order (a CHAT's message then runs to the empty line). */
const FIELDS: Readonly<Record<ReplyKind, readonly string[]>> = {
  HELO: ['IP', 'Port', 'StudentID'],
  JOINED: ['SERVER_IP', 'PORT', 'ROOM_REF', 'JOIN_ID'],
  LEFT: ['JOIN_ID'],
  CHAT: ['CLIENT_NAME', 'MESSAGE'],
  ERROR: ['ERROR_DESCRIPTION'],
};

const FIRST_FIELD: ReadonlyArray<readonly [string, ReplyKind]> = [
  ['CHAT', 'CHAT'],
  ['JOINED_CHATROOM', 'JOINED'],
  ['LEFT_CHATROOM', 'LEFT'],
  ['ERROR_CODE', 'ERROR'],
];

/**
 * Replies are bounded by the server's own line limit (8 KiB by default, configurable); this only
 * keeps a broken or hostile peer from growing one line without end.
 */
export const MAX_REPLY_LINE_BYTES = 1024 * 1024;

const INTEGER = /^[0-9]+$/;

interface Block {
  readonly kind: ReplyKind;
  /** The first line's value (for HELO the whole line), then each field's value. */
  readonly values: string[];
  /** CHAT only: continuation lines of the message, once MESSAGE has been read. */
  readonly more: string[];
}

/**
 * Bytes → typed server messages: pure, no sockets, incremental over reads cut anywhere (inside a
 * UTF-8 character too). Room CHATs may arrive between any two replies, so each reply is told by
 * its first line, not by what the client expects next.
 */
export class ReplyDecoder {
  private readonly lines = new LineSplitter(MAX_REPLY_LINE_BYTES);
  private block: Block | null = null;
  private dead = false;

  push(chunk: Buffer): ServerMessage[] {
    const out: ServerMessage[] = [];
    if (this.dead) return out;
    const withinLimit = this.lines.push(chunk, (line) => {
      this.line(line, out);
      return !this.dead;
    });
    if (!withinLimit) this.fail(`a reply line is over ${MAX_REPLY_LINE_BYTES} bytes`, out);
    return out;
  }

  /** True while part of a reply is held: the peer closing now cut it short. */
  hasPending(): boolean {
    return !this.dead && (this.block !== null || this.lines.hasPartial());
  }

  private line(line: Line, out: ServerMessage[]): void {
    if (line === null) return this.fail('a reply line is not valid UTF-8', out);
    const block = this.block;
    if (block === null) {
      if (line !== '') this.start(line, out);
      return;
    }
    const fields = FIELDS[block.kind];
    if (block.values.length > fields.length) {
      // Inside a CHAT's message: every line up to the empty one is the message's.
      if (line === '') this.finish(block, out);
      else block.more.push(line);
      return;
    }
    const value = fieldValue(line, fields[block.values.length - 1]!);
    if (value === null) return this.fail(`expected ${fields[block.values.length - 1]} in a ${block.kind} reply, got ${JSON.stringify(line)}`, out);
    block.values.push(value);
    if (block.values.length > fields.length && block.kind !== 'CHAT') this.finish(block, out);
  }

  private start(line: string, out: ServerMessage[]): void {
    // The HELO reply's first line is the request line as the server received it.
    if (line.startsWith('HELO')) {
      this.block = { kind: 'HELO', values: [line], more: [] };
      return;
    }
    for (const [name, kind] of FIRST_FIELD) {
      const value = fieldValue(line, name);
      if (value !== null) {
        this.block = { kind, values: [value], more: [] };
        return;
      }
    }
    this.fail(`not a reply: ${JSON.stringify(line)}`, out);
  }

  private finish(block: Block, out: ServerMessage[]): void {
    this.block = null;
    const message = build(block);
    if (message.kind === 'INVALID') this.fail(message.description, out);
    else out.push(message);
  }

  private fail(description: string, out: ServerMessage[]): void {
    this.dead = true;
    this.block = null;
    out.push({ kind: 'INVALID', description });
  }
}

function build(block: Block): ServerMessage {
  const v = block.values;
  const numbers = (...indexes: number[]): number[] | null => {
    const result = indexes.map((i) => (INTEGER.test(v[i]!) ? Number(v[i]) : NaN));
    return result.every(Number.isSafeInteger) ? result : null;
  };
  const invalid = (what: string): ServerMessage => ({ kind: 'INVALID', description: `a ${block.kind} reply with ${what}` });
  switch (block.kind) {
    case 'HELO': {
      const port = numbers(2);
      return port ? { kind: 'HELO', line: v[0]!, ip: v[1]!, port: port[0]!, studentId: v[3]! } : invalid('a port that is not a number');
    }
    case 'JOINED': {
      const n = numbers(2, 3, 4);
      return n ? { kind: 'JOINED', roomName: v[0]!, serverIp: v[1]!, port: n[0]!, roomRef: n[1]!, joinId: n[2]! } : invalid('a port, ref or join id that is not a number');
    }
    case 'LEFT': {
      const n = numbers(0, 1);
      return n ? { kind: 'LEFT', roomRef: n[0]!, joinId: n[1]! } : invalid('a ref or join id that is not a number');
    }
    case 'CHAT': {
      const n = numbers(0);
      return n ? { kind: 'CHAT', roomRef: n[0]!, clientName: v[1]!, message: [v[2]!, ...block.more].join('\n') } : invalid('a ref that is not a number');
    }
    case 'ERROR': {
      const n = numbers(0);
      return n ? { kind: 'ERROR', code: n[0]!, name: errorNameOf(n[0]!), description: v[1]! } : invalid('a code that is not a number');
    }
  }
}
