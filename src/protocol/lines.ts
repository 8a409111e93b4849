import { isUtf8 } from 'node:buffer';

/** A line as the request parser sees it: its text, or null when its bytes are not UTF-8. */
export type Line = string | null;

const NEWLINE = 0x0a;

/** Room a partial line starts with: most are a request cut in two, a few dozen bytes. */
const MIN_PARTIAL_CAPACITY = 64;

/**
 * Bytes → lines. TCP may cut a read anywhere (inside a UTF-8 character too), so bytes are kept
 * until their newline arrives and a line is decoded only whole. `\r\n` is accepted as `\n`.
 *
 * The bytes after the last newline are copied into one buffer of their own that grows by
 * doubling: a line sent a byte per segment then costs about its own length, not a Buffer object
 * (and a slice pinning the read's memory) per segment.
 */
export class LineSplitter {
  /** Holds the partial line in its first `partialBytes` bytes; null when there is none. */
  private partial: Buffer | null = null;
  private partialBytes = 0;

  constructor(private readonly maxLineBytes: number) {}

  /**
   * Splits `chunk` into complete lines, handing each to `onLine`. Returns false as soon as a line
   * (counted since the last newline, so a stream without newlines too) passes the line limit;
   * the splitter is then of no further use.
   */
  push(chunk: Buffer, onLine: (line: Line, bytes: number) => boolean): boolean {
    let start = 0;
    for (;;) {
      const end = chunk.indexOf(NEWLINE, start);
      if (end < 0) break;
      const bytes = this.partialBytes + (end - start);
      if (bytes > this.maxLineBytes) return false;
      let raw = chunk.subarray(start, end);
      if (this.partialBytes > 0) {
        raw = this.append(raw);
        this.release();
      }
      start = end + 1;
      if (!onLine(decodeLine(raw), bytes + 1)) return true;
    }
    if (start < chunk.length) {
      if (this.partialBytes + (chunk.length - start) > this.maxLineBytes) return false;
      // Copied: the socket's read buffer is not ours to keep, and a slice would pin all of it.
      this.append(chunk.subarray(start));
    }
    return true;
  }

  hasPartial(): boolean {
    return this.partialBytes > 0;
  }

  /** Bytes after the last newline. */
  get pendingBytes(): number {
    return this.partialBytes;
  }

  /** Bytes of memory held for the partial line: at most about twice `pendingBytes`. */
  get retainedBytes(): number {
    return this.partial === null ? 0 : this.partial.buffer.byteLength;
  }

  /** The bytes after the last newline as a line, left in place. */
  peekPartial(): Line | undefined {
    if (this.partial === null) return undefined;
    return decodeLine(this.partial.subarray(0, this.partialBytes));
  }

  /** The bytes after the last newline, as a line: for a request missing its final newline. */
  takePartial(): { line: Line; bytes: number } | undefined {
    if (this.partial === null) return undefined;
    const bytes = this.partialBytes;
    const line = decodeLine(this.partial.subarray(0, bytes));
    this.release();
    return { line, bytes };
  }

  /** Adds `bytes` to the partial line; returns the partial line so far (a view, valid until the next change). */
  private append(bytes: Buffer): Buffer {
    const length = this.partialBytes + bytes.length;
    let partial = this.partial;
    if (partial === null || partial.length < length) {
      // Its own memory, not a slice of the shared pool, which it would pin for as long as the line waits.
      const grown = Buffer.allocUnsafeSlow(Math.min(this.maxLineBytes, Math.max(length, MIN_PARTIAL_CAPACITY, (partial?.length ?? 0) * 2)));
      if (partial !== null) partial.copy(grown, 0, 0, this.partialBytes);
      this.partial = partial = grown;
    }
    bytes.copy(partial, this.partialBytes);
    this.partialBytes = length;
    return partial.subarray(0, length);
  }

  private release(): void {
    this.partial = null;
    this.partialBytes = 0;
  }
}

function decodeLine(raw: Buffer): Line {
  if (!isUtf8(raw)) return null;
  const text = raw.toString('utf8');
  return text.endsWith('\r') ? text.slice(0, -1) : text;
}
