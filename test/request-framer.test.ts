import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Decoded } from '../src/protocol/types.js';
import { requestTimedOut } from '../src/protocol/decoder.js';
import { labDecoders, RequestFramer, type ReadGate } from '../src/transport/inbound.js';

const LIMITS = { maxLineBytes: 8192, maxRequestBytes: 65536 };

/** A gate that counts what the framer asked of it. */
function countingGate(): ReadGate & { holds: number; releases: number } {
  return {
    holds: 0,
    releases: 0,
    get holding() {
      return this.holds > this.releases;
    },
    heldMs() {
      return 0;
    },
    lastReleasedAt: 0,
    hold() {
      this.holds++;
    },
    release() {
      this.releases++;
    },
  };
}

describe('request framer', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('hands on at most 64 requests per turn, holding the socket while the rest wait', () => {
    vi.useFakeTimers();
    const gate = countingGate();
    const received: Decoded[] = [];
    const framer = new RequestFramer(labDecoders(LIMITS), 100, gate, { next: (item) => received.push(item), complete: () => {} }, 60_000);
    framer.push(Buffer.from('HELO x\n'.repeat(100)));
    expect(received).toHaveLength(64);
    expect(gate.holding).toBe(true);
    vi.runOnlyPendingTimers();
    expect(received).toHaveLength(100);
    expect(gate.holding).toBe(false);
  });

  it('stops at once when its subscriber leaves from inside a request: no more requests, the gate released, no timer left', () => {
    vi.useFakeTimers();
    const gate = countingGate();
    const received: Decoded[] = [];
    let completed = false;
    const framer: RequestFramer = new RequestFramer(labDecoders(LIMITS), 100, gate, {
      next: (item) => {
        received.push(item);
        // What a supervisor does when the actor fed by this request fails.
        if (received.length === 70) framer.dispose();
      },
      complete: () => {
        completed = true;
      },
    }, 60_000);
    // 100 whole requests and one that lacks only its newline (the quiet period would complete it).
    framer.push(Buffer.from(`${'HELO x\n'.repeat(100)}HELO y`));
    expect(received).toHaveLength(64);
    vi.runOnlyPendingTimers();
    expect(received).toHaveLength(70);
    expect(gate.holding).toBe(false);
    expect(vi.getTimerCount()).toBe(0);
    framer.push(Buffer.from('HELO z\n'));
    framer.end();
    expect(received).toHaveLength(70);
    expect(completed).toBe(false);
  });

  it('completes a request that lacks only its newline after the quiet period, and not while the socket is held', () => {
    vi.useFakeTimers();
    const gate = countingGate();
    const received: Decoded[] = [];
    const framer = new RequestFramer(labDecoders(LIMITS), 100, gate, { next: (item) => received.push(item), complete: () => {} }, 60_000);
    framer.push(Buffer.from('HELO y'));
    gate.hold();
    vi.advanceTimersByTime(250);
    expect(received).toHaveLength(0);
    gate.release();
    vi.advanceTimersByTime(100);
    expect(received.map((item) => item.kind)).toEqual(['HELO']);
  });

  it('paused by its sink, keeps what follows and holds the socket once 64 wait; resumed, hands them on a turn at a time', () => {
    vi.useFakeTimers();
    const gate = countingGate();
    const received: string[] = [];
    let completed = false;
    const framer: RequestFramer = new RequestFramer(labDecoders(LIMITS), 100, gate, {
      next: (item) => {
        received.push(item.kind === 'HELO' ? item.line : item.kind);
        // A request that must wait for an answer (a join in cluster mode, say).
        if (item.kind === 'JOIN') framer.pause();
      },
      complete: () => {
        completed = true;
      },
    }, 60_000);
    framer.push(Buffer.from(`${'JOIN_CHATROOM: r\nCLIENT_IP: 0\nPORT: 0\nCLIENT_NAME: a\n'}HELO 0\n`));
    expect(received).toEqual(['JOIN']);
    // Below the bound the socket is still read: a peer that hangs up is seen.
    expect(gate.holding).toBe(false);
    framer.push(Buffer.from(Array.from({ length: 99 }, (_, i) => `HELO ${i + 1}\n`).join('')));
    framer.end();
    vi.runOnlyPendingTimers();
    expect(received).toEqual(['JOIN']);
    expect(framer.queued).toBe(100);
    expect(gate.holding).toBe(true);
    framer.resume();
    expect(received).toHaveLength(1);
    vi.runOnlyPendingTimers();
    expect(received).toHaveLength(65);
    vi.runOnlyPendingTimers();
    expect(received).toEqual(['JOIN', ...Array.from({ length: 100 }, (_, i) => `HELO ${i}`)]);
    expect(gate.holding).toBe(false);
    expect(completed).toBe(true);
  });

  it('paused and resumed from inside one request (an answer that comes at once) hands the next on in the same turn', () => {
    const gate = countingGate();
    const received: string[] = [];
    const framer: RequestFramer = new RequestFramer(labDecoders(LIMITS), 100, gate, {
      next: (item) => {
        received.push(item.kind);
        framer.pause();
        framer.resume();
      },
      complete: () => {},
    }, 60_000);
    framer.push(Buffer.from('HELO a\nHELO b\nHELO c\n'));
    expect(received).toEqual(['HELO', 'HELO', 'HELO']);
    expect(framer.queued).toBe(0);
    expect(gate.holds).toBe(0);
  });

  describe('request timeout', () => {
    const TIMEOUT_MS = 1000;
    const timedOut = { kind: 'FAILURE', error: 'MALFORMED', description: 'the request was not complete 1000 ms after its first byte; it was discarded' };

    function framerWith(gate: ReadGate, received: Decoded[]): RequestFramer {
      return new RequestFramer(labDecoders(LIMITS), 100, gate, { next: (item) => received.push(item), complete: () => {} }, TIMEOUT_MS);
    }

    it('discards a request still incomplete after the timeout, counted from its first byte however bytes trickle in; what follows starts afresh', () => {
      vi.useFakeTimers();
      const received: Decoded[] = [];
      const framer = framerWith(countingGate(), received);
      framer.push(Buffer.from('JOIN_CHATROOM: r\nCLIENT'));
      for (let i = 0; i < 9; i++) {
        vi.advanceTimersByTime(100);
        framer.push(Buffer.from('_'));
      }
      expect(received).toEqual([]);
      vi.advanceTimersByTime(100);
      expect(received).toEqual([timedOut]);
      expect(vi.getTimerCount()).toBe(0);
      framer.push(Buffer.from('HELO z\n'));
      expect(received).toEqual([timedOut, { kind: 'HELO', line: 'HELO z' }]);
    });

    it('gives a request that begins in the read completing another its own full time', () => {
      vi.useFakeTimers();
      const received: Decoded[] = [];
      const framer = framerWith(countingGate(), received);
      framer.push(Buffer.from('JOIN_CHATROOM: r\n'));
      vi.advanceTimersByTime(800);
      framer.push(Buffer.from('CLIENT_NAME: n\nJOIN_CHATROOM: s\n'));
      expect(received).toEqual([{ kind: 'JOIN', roomName: 'r', clientName: 'n' }]);
      vi.advanceTimersByTime(999);
      expect(received).toHaveLength(1);
      vi.advanceTimersByTime(1);
      expect(received).toEqual([{ kind: 'JOIN', roomName: 'r', clientName: 'n' }, timedOut]);
    });

    it('arms no timer for a request read whole, nor for one the quiet period completes', () => {
      vi.useFakeTimers();
      const received: Decoded[] = [];
      const framer = framerWith(countingGate(), received);
      framer.push(Buffer.from('HELO x\n'));
      expect(vi.getTimerCount()).toBe(0);
      framer.push(Buffer.from('HELO y'));
      vi.advanceTimersByTime(100);
      expect(received.map((item) => item.kind)).toEqual(['HELO', 'HELO']);
      expect(vi.getTimerCount()).toBe(0);
    });

    it('does not count time the socket is held back against the request', () => {
      vi.useFakeTimers();
      const gate = countingGate();
      const received: Decoded[] = [];
      const framer = framerWith(gate, received);
      framer.push(Buffer.from('JOIN_CHATROOM: r\n'));
      gate.hold();
      vi.advanceTimersByTime(3 * TIMEOUT_MS);
      expect(received).toEqual([]);
      gate.release();
      // The rest was among the bytes held back: it completes the request, which is not discarded.
      framer.push(Buffer.from('CLIENT_NAME: n\n'));
      vi.advanceTimersByTime(3 * TIMEOUT_MS);
      expect(received).toEqual([{ kind: 'JOIN', roomName: 'r', clientName: 'n' }]);
      // Still incomplete once nothing is held back: discarded at the next look.
      framer.push(Buffer.from('JOIN_CHATROOM: s\n'));
      gate.hold();
      vi.advanceTimersByTime(3 * TIMEOUT_MS);
      gate.release();
      expect(received).toHaveLength(1);
      vi.advanceTimersByTime(100);
      expect(received).toEqual([{ kind: 'JOIN', roomName: 'r', clientName: 'n' }, timedOut]);
    });
  });
});

/** A gate that keeps time as the socket's throttle does: how long it held, and when it let go. */
function timedGate(): ReadGate & { held: boolean } {
  let since = 0;
  let before = 0;
  let releasedAt = 0;
  return {
    held: false,
    get lastReleasedAt() {
      return releasedAt;
    },
    get holding() {
      return this.held;
    },
    heldMs() {
      return before + (this.held ? performance.now() - since : 0);
    },
    hold() {
      this.held = true;
      since = performance.now();
    },
    release() {
      this.held = false;
      releasedAt = performance.now();
      before += releasedAt - since;
    },
  };
}

describe('request timeout (framer)', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('does not count time the socket was held back, waits a quiet period after it is let go, and never spins while held', () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setImmediate', 'clearImmediate', 'performance', 'Date'] });
    const gate = timedGate();
    const received: Decoded[] = [];
    const sink = { next: (item: Decoded) => received.push(item), complete: () => {} };
    // Quiet period 0: a re-check per quiet period while held would be a spin.
    const framer = new RequestFramer(labDecoders(LIMITS), 0, gate, sink, 300);
    framer.push(Buffer.from('JOIN_CHATROOM: room1\nCLIENT_IP: 0\n'));
    vi.advanceTimersByTime(100);
    gate.hold();
    const timers = vi.spyOn(globalThis, 'setTimeout');
    // Held for 5 s: none of it is the client's.
    vi.advanceTimersByTime(5_000);
    expect(received).toEqual([]);
    // Looked at now and then while held (every 50 ms at most), not every millisecond.
    expect(timers.mock.calls.length).toBeLessThanOrEqual(101);
    timers.mockRestore();
    gate.release();
    // 100 ms before the hold and 150 after it: 250 ms of the client's, within the 300.
    vi.advanceTimersByTime(150);
    expect(received).toEqual([]);
    vi.advanceTimersByTime(100);
    expect(received).toEqual([requestTimedOut(300)]);
    framer.dispose();
  });

  it('answers a request discarded in its first line once: the rest of that line and its request are dropped', () => {
    vi.useFakeTimers();
    const received: Decoded[] = [];
    const framer = new RequestFramer(labDecoders(LIMITS), 50, timedGate(), { next: (item) => received.push(item), complete: () => {} }, 300);
    framer.push(Buffer.from('JOIN_CHATROOM: ro'));
    vi.advanceTimersByTime(300);
    expect(received).toEqual([requestTimedOut(300)]);
    framer.push(Buffer.from('om\nCLIENT_IP: 0\nPORT: 0\nCLIENT_NAME: a\nHELO z\n'));
    expect(received).toEqual([requestTimedOut(300), { kind: 'HELO', line: 'HELO z' }]);
  });
});
