import { LineSplitter } from './lines.js';
import { RequestParser } from './parse.js';
import type { Decoded, DecodeFailure } from './types.js';

export interface DecoderLimits {
  /** Bytes since the last newline before a line is TOO_LONG. */
  readonly maxLineBytes: number;
  /** Bytes of one request (a multi-line message included) before it is TOO_LONG. */
  readonly maxRequestBytes: number;
}

/**
 * One connection's codec state, bytes → typed requests: pure, no sockets, no timers. The caller
 * owns the quiet period and calls `completeOnQuiet` when it has passed.
 */
export class RequestDecoder {
  private readonly lines: LineSplitter;
  private readonly parser: RequestParser;
  private failed = false;

  private readonly maxRequestBytes: number;

  constructor(limits: DecoderLimits) {
    this.maxRequestBytes = limits.maxRequestBytes;
    this.lines = new LineSplitter(limits.maxLineBytes);
    this.parser = new RequestParser(limits.maxRequestBytes);
  }

  /** Decodes one read; after a TOO_LONG nothing more is decoded (the connection is closing). */
  push(chunk: Buffer): Decoded[] {
    const out: Decoded[] = [];
    if (this.failed) return out;
    const withinLimit = this.lines.push(chunk, (line, bytes) => this.parser.line(line, bytes, out));
    if (!withinLimit) this.tooLong(out, 'a line is over the line limit');
    else if (this.parser.isDead()) this.failed = true;
    // "As soon as a size limit is passed": a request's unended last line counts too.
    else if (this.parser.bytesInBlock() > 0 && this.parser.bytesInBlock() + this.lines.pendingBytes > this.maxRequestBytes) {
      this.failed = true;
      this.parser.tooLong(out);
    }
    return out;
  }

  /**
   * The request under way timed out and was answered: the rest of it, should it come, is read to
   * its end and dropped, so it is not answered a second time.
   */
  discardCurrent(): void {
    // The line cut off goes (what follows it starts a line); its request's block is silenced.
    this.lines.takePartial();
    this.parser.discardCurrent();
  }

  /** Reading the rest of a discarded request: nothing it holds is owed an answer. */
  isDiscarding(): boolean {
    return this.parser.isDiscarding();
  }

  /** After a TOO_LONG: nothing more is decoded, the connection is closing. */
  hasFailed(): boolean {
    return this.failed;
  }

  /** Between requests, with no bytes held: a fresh decoder would do the same from here on. */
  isIdle(): boolean {
    return !this.failed && !this.lines.hasPartial() && this.parser.isIdle();
  }

  /**
   * True when what is buffered lacks only its terminator, so the quiet period would complete it:
   * a last line without its newline that ends its request, a CHAT without its empty line, a bad
   * block. A request that lacks more (`JOIN_CHATROOM: ro` then a pause) keeps waiting.
   */
  hasCompletablePending(): boolean {
    if (this.failed) return false;
    const partial = this.lines.peekPartial();
    return partial === undefined ? this.parser.awaitsOnlyTerminator() : this.parser.completesWith(partial);
  }

  /** The quiet period passed (or the peer finished sending): take what is buffered as complete. */
  completeOnQuiet(): Decoded[] {
    const out: Decoded[] = [];
    if (this.failed) return out;
    const partial = this.lines.takePartial();
    if (partial && !this.parser.line(partial.line, partial.bytes, out)) {
      this.failed = true;
      return out;
    }
    this.parser.completeOnQuiet(out);
    return out;
  }

  private tooLong(out: Decoded[], description: string): void {
    this.failed = true;
    out.push({ kind: 'FAILURE', error: 'TOO_LONG', description });
  }
}

/** The answer to a request that stayed incomplete past the request timeout (it is discarded). */
export function requestTimedOut(timeoutMs: number): DecodeFailure {
  return { kind: 'FAILURE', error: 'MALFORMED', description: `the request was not complete ${timeoutMs} ms after its first byte; it was discarded` };
}
