import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RequestDecoder, type Decoded } from '../src/protocol/index.js';
import { joinedClient, RawClient, startServer, wire } from './helpers.js';

const limits = { maxLineBytes: 8192, maxRequestBytes: 65536 };

const name = fc.string({ minLength: 1, maxLength: 20, unit: 'grapheme' }).filter((text) => !/[\r\n]/.test(text) && text.trim() === text && !/^\s/.test(text));
const integer = fc.nat({ max: 1_000_000 });
// A message line that starts no request and forges no field (see protocol.md, Grammar).
const messageLine = fc.string({ maxLength: 40, unit: 'grapheme' }).filter((text) => text.length > 0 && !/[\r\n]/.test(text) && !/(?:^|[\v\f\x1c-\x1e\x85\u2028\u2029])(?:[A-Z_]*[:\s]|HELO|KILL_SERVICE|(IP|Port|StudentID):)/.test(text) && text.trim() === text);
/** What Python's str.splitlines() breaks a line at, `\n` aside. */
const lineBreak = fc.constantFrom('\r', '\x0b', '\x0c', '\x1c', '\x1d', '\x1e', '\u0085', '\u2028', '\u2029');
/** A reply field a client reading line by line would take as the server's. */
const replyField = fc.oneof(fc.stringMatching(/^[A-Z_]{1,12}$/).map((field) => `${field}:`), fc.constantFrom('IP:', 'Port:', 'StudentID:'));

const request: fc.Arbitrary<{ text: string; decoded: Decoded }> = fc.oneof(
  name.map((text) => ({ text: `HELO ${text}\n`, decoded: { kind: 'HELO' as const, line: `HELO ${text}` } })),
  fc.tuple(name, name).map(([room, client]) => ({ text: wire.join(room, client), decoded: { kind: 'JOIN' as const, roomName: room, clientName: client } })),
  fc.tuple(integer, integer, name, fc.array(messageLine, { minLength: 1, maxLength: 3 })).map(([ref, id, client, lines]) => ({
    text: wire.chat(ref, id, client, lines.join('\n')),
    decoded: { kind: 'CHAT' as const, roomRef: ref, joinId: id, clientName: client, message: lines.join('\n'), forgedLine: null },
  })),
  fc.tuple(integer, integer, name).map(([ref, id, client]) => ({ text: wire.leave(ref, id, client), decoded: { kind: 'LEAVE' as const, roomRef: ref, joinId: id, clientName: client, echo: { roomRef: String(ref), joinId: String(id) } } })),
  name.map((client) => ({ text: wire.disconnect(client), decoded: { kind: 'DISCONNECT' as const, clientName: client } })),
);

function decodeChunks(bytes: Buffer, cuts: number[]): Decoded[] {
  const decoder = new RequestDecoder(limits);
  const out: Decoded[] = [];
  let start = 0;
  for (const cut of [...cuts].sort((x, y) => x - y)) {
    out.push(...decoder.push(bytes.subarray(start, cut)));
    start = cut;
  }
  out.push(...decoder.push(bytes.subarray(start)));
  return out;
}

describe('codec properties', () => {
  it('any sequence of valid requests, cut into any chunks, decodes the same', () => {
    fc.assert(
      fc.property(fc.array(request, { minLength: 1, maxLength: 8 }), fc.array(fc.nat(), { maxLength: 12 }), fc.boolean(), (requests, rawCuts, crlf) => {
        let text = requests.map((r) => r.text).join('');
        if (crlf) text = text.replace(/\n/g, '\r\n');
        const bytes = Buffer.from(text);
        const cuts = rawCuts.map((cut) => cut % (bytes.length + 1));
        expect(decodeChunks(bytes, cuts)).toEqual(requests.map((r) => r.decoded));
      }),
      { numRuns: 300 },
    );
  });

  it('a reply field after any line break inside a message line marks the message forged', () => {
    fc.assert(
      fc.property(messageLine, lineBreak, replyField, fc.string({ maxLength: 20 }).filter((text) => !/[\r\n]/.test(text)), fc.boolean(), (before, lineBreakChar, field, rest, firstLine) => {
        const forged = `${before}${lineBreakChar}${field}${rest}`.trimEnd();
        const message = firstLine ? forged : `${before}\n${forged}`;
        const [decoded] = decodeChunks(Buffer.from(wire.chat(0, 0, 'a', message)), []);
        expect(decoded).toMatchObject({ kind: 'CHAT', forgedLine: forged });
      }),
      { numRuns: 300 },
    );
  });

  it('random bytes never throw, and every output is a request or a failure', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 200 }), { maxLength: 10 }), (chunks) => {
        const decoder = new RequestDecoder({ maxLineBytes: 256, maxRequestBytes: 1024 });
        const out: Decoded[] = [];
        for (const chunk of chunks) out.push(...decoder.push(Buffer.from(chunk)));
        out.push(...decoder.completeOnQuiet());
        for (const item of out) expect(['HELO', 'KILL_SERVICE', 'JOIN', 'CHAT', 'LEAVE', 'DISCONNECT', 'FAILURE']).toContain(item.kind);
      }),
      { numRuns: 500 },
    );
  });
});

describe('server fuzz', () => {
  it('connections sending random bytes do not disturb well-behaved clients chatting', async () => {
    const server = await startServer({ quietMs: 20, maxLineBytes: 512 });
    const port = server.port;
    const alice = await joinedClient(port, 'calm', 'alice');
    const bob = await joinedClient(port, 'calm', 'bob');
    await alice.readUntil(wire.hasJoined(0, 'bob'));

    const junk = fc.sample(fc.array(fc.uint8Array({ minLength: 1, maxLength: 300 }), { minLength: 1, maxLength: 20 }), { numRuns: 40, seed: 42 });
    const fuzzers = await Promise.all(junk.map(() => RawClient.connect(port)));
    const rounds = 30;
    for (let n = 0; n < rounds; n++) {
      for (const [i, fuzzer] of fuzzers.entries()) {
        const chunk = junk[i]![n % junk[i]!.length]!;
        if (!fuzzer.isClosed()) fuzzer.send(Buffer.from(chunk));
      }
      alice.send(wire.chat(0, 0, 'alice', `a${n}`));
      bob.send(wire.chat(0, 1, 'bob', `b${n}`));
    }
    for (const member of [alice, bob]) {
      const got: string[] = [];
      for (let k = 0; k < 2 * rounds; k++) got.push((await member.readUntil('\n\n')).split('\n')[2]!.slice('MESSAGE: '.length));
      expect(got.filter((text) => text.startsWith('a'))).toEqual(Array.from({ length: rounds }, (_, n) => `a${n}`));
      expect(got.filter((text) => text.startsWith('b'))).toEqual(Array.from({ length: rounds }, (_, n) => `b${n}`));
    }
    // Every fuzzer still open got nothing but error replies, and is answered again.
    for (const fuzzer of fuzzers) fuzzer.send('\nHELO probe\n');
    let stillOpen = 0;
    for (const fuzzer of fuzzers) {
      const reply = await fuzzer.readUntil('StudentID:actor-chat-server\n').catch(() => null);
      if (reply === null) {
        // Closed: only for a line over the limit, after its TOO_LONG.
        expect(fuzzer.isClosed()).toBe(true);
        expect(fuzzer.pending()).toMatch(/(?:^|\n)ERROR_CODE: 8\nERROR_DESCRIPTION: [^\n]*\n$/);
        continue;
      }
      stillOpen++;
      expect(reply).toMatch(/^(?:ERROR_CODE: (?:1|8)\nERROR_DESCRIPTION: [^\n]*\n)*HELO probe\nIP:127\.0\.0\.1\nPort:\d+\nStudentID:actor-chat-server\n$/);
    }
    expect(stillOpen).toBeGreaterThan(0);
    expect(server.actor.getSnapshot().status).toBe('active');
  }, 60_000);
});
