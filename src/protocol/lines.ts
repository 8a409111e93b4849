import { isUtf8 } from 'node:buffer';

/** A line as the request parser sees it: its text, or null when its bytes are not UTF-8. */
export type Line = string | null;

const NEWLINE = 0x0a;

/**
 * Bytes → lines. TCP may cut a read anywhere (inside a UTF-8 character too), so bytes are kept
 * until their newline arrives and a line is decoded only whole. `\r\n` is accepted as `\n`.
 */
export class LineSplitter {
  private partial: Buffer[] = [];
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
        this.partial.push(raw);
        raw = Buffer.concat(this.partial, bytes);
        this.partial = [];
        this.partialBytes = 0;
      }
      start = end + 1;
      if (!onLine(decodeLine(raw), bytes + 1)) return true;
    }
    if (start < chunk.length) {
      const rest = chunk.subarray(start);
      if (this.partialBytes + rest.length > this.maxLineBytes) return false;
      // Copy: the socket may reuse its read buffer, and a slice would pin the whole chunk.
      this.partial.push(Buffer.from(rest));
      this.partialBytes += rest.length;
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

  /** The bytes after the last newline as a line, left in place. */
  peekPartial(): Line | undefined {
    if (this.partialBytes === 0) return undefined;
    return decodeLine(this.partial.length === 1 ? this.partial[0]! : Buffer.concat(this.partial, this.partialBytes));
  }

  /** The bytes after the last newline, as a line: for a request missing its final newline. */
  takePartial(): { line: Line; bytes: number } | undefined {
    if (this.partialBytes === 0) return undefined;
    const raw = Buffer.concat(this.partial, this.partialBytes);
    this.partial = [];
    this.partialBytes = 0;
    return { line: decodeLine(raw), bytes: raw.length };
  }
}

function decodeLine(raw: Buffer): Line {
  if (!isUtf8(raw)) return null;
  const text = raw.toString('utf8');
  return text.endsWith('\r') ? text.slice(0, -1) : text;
}
