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
 * `gate.holding` says when unread bytes are being held back (flood control): no quiet then.
 */
export function decodeRequests(limits: DecoderLimits, quietMs: number, gate: { readonly holding: boolean } = { holding: false }): OperatorFunction<Buffer, Decoded> {
  return (bytes) =>
    new Observable<Decoded>((subscriber) => {
      const decoder = new RequestDecoder(limits);
      let quiet: NodeJS.Timeout | undefined;
      const emit = (decoded: Decoded[]): void => {
        for (const item of decoded) subscriber.next(item);
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
          subscriber.complete();
        },
      });
      return () => {
        if (quiet) clearTimeout(quiet);
        subscription.unsubscribe();
      };
    });
}
