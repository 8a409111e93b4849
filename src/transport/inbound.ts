import type { Socket } from 'node:net';
import { Observable, type OperatorFunction } from 'rxjs';
import { RequestDecoder, type DecoderLimits } from '../protocol/decoder.js';
import type { Decoded } from '../protocol/types.js';

/** The bytes a socket reads, as a stream that completes when the peer stops sending or the socket closes. */
export function socketBytes(socket: Socket, meter?: { counted(bytes: number): void }): Observable<Buffer> {
  return new Observable<Buffer>((subscriber) => {
    const onData = (chunk: Buffer): void => {
      meter?.counted(chunk.length);
      subscriber.next(chunk);
    };
    const onEnd = (): void => subscriber.complete();
    socket.on('data', onData);
    socket.on('end', onEnd);
    socket.on('close', onEnd);
    // A socket paused before (after a PROXY header) does not flow on its own.
    socket.resume();
    return () => {
      socket.off('data', onData);
      socket.off('end', onEnd);
      socket.off('close', onEnd);
    };
  });
}

/**
 * The framing operator: reads (cut anywhere) → typed requests or typed failures, in order.
 * A request that lacks only its terminator is completed after `quietMs` without more bytes, or
 * when the input ends: one-shot clients often omit the last newline and wait for the answer.
 * `gate.holding` says when unread bytes are being held back (flood control, or requests waiting
 * their turn): no quiet then.
 */
/** Holds a socket back while requests it already sent wait their turn (see ReadThrottle). */
export interface ReadGate {
  readonly holding: boolean;
  hold(): void;
  release(): void;
}

const NO_GATE: ReadGate = { holding: false, hold() {}, release() {} };

/**
 * Requests one connection may have handled per turn of the event loop. A read of 64 KiB of tiny
 * requests is hundreds of them: the rest wait for the next turn (the socket is held meanwhile),
 * so one client's burst cannot hold every other connection up while it is worked through.
 */
const REQUESTS_PER_TURN = 64;

export function decodeRequests(limits: DecoderLimits, quietMs: number, gate: ReadGate = NO_GATE): OperatorFunction<Buffer, Decoded> {
  return (bytes) =>
    new Observable<Decoded>((subscriber) => {
      const decoder = new RequestDecoder(limits);
      let quiet: NodeJS.Timeout | undefined;
      let handledThisTurn = 0;
      let backlog: Decoded[] = [];
      let next = 0;
      let turn: NodeJS.Immediate | undefined;
      let ended = false;
      const emit = (decoded: Decoded[]): void => {
        for (const item of decoded) {
          if (turn !== undefined || handledThisTurn >= REQUESTS_PER_TURN) backlog.push(item);
          else {
            handledThisTurn++;
            subscriber.next(item);
          }
        }
        if (backlog.length > next && turn === undefined) {
          gate.hold();
          turn = setImmediate(nextTurn);
        }
      };
      const nextTurn = (): void => {
        turn = undefined;
        handledThisTurn = 0;
        while (next < backlog.length && handledThisTurn < REQUESTS_PER_TURN) {
          handledThisTurn++;
          subscriber.next(backlog[next++]!);
        }
        if (next < backlog.length) {
          turn = setImmediate(nextTurn);
          return;
        }
        backlog = [];
        next = 0;
        gate.release();
        if (ended) subscriber.complete();
      };
      const onQuiet = (): void => {
        // Bytes the flood control has not read yet may be the rest: the quiet period counts
        // only while everything the socket holds has been read.
        if (gate.holding) {
          quiet = setTimeout(onQuiet, quietMs);
          return;
        }
        quiet = undefined;
        emit(decoder.completeOnQuiet());
      };
      const subscription = bytes.subscribe({
        next(chunk) {
          if (quiet) clearTimeout(quiet);
          quiet = undefined;
          if (turn === undefined) handledThisTurn = 0;
          emit(decoder.push(chunk));
          if (decoder.hasCompletablePending()) quiet = setTimeout(onQuiet, quietMs);
        },
        error(err: unknown) {
          subscriber.error(err);
        },
        complete() {
          if (quiet) clearTimeout(quiet);
          quiet = undefined;
          emit(decoder.completeOnQuiet());
          // What waits its turn is still handled, in order, before the end.
          if (turn === undefined) subscriber.complete();
          else ended = true;
        },
      });
      return () => {
        if (quiet) clearTimeout(quiet);
        if (turn) clearImmediate(turn);
        subscription.unsubscribe();
      };
    });
}
