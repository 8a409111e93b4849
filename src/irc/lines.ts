/**
 * IRC's framing: lines end in CR LF (a bare LF is taken too, as every server does). A line's body
 * is at most 512 bytes with its CR LF, and a client's tags at most 4094 bytes more (IRCv3
 * message-tags: the `@` and the space after them apart); a longer line is
 * answered 417 ERR_INPUTTOOLONG and dropped, the connection stays. Bytes are kept until their line
 * ends, so a read cut anywhere (inside a UTF-8 character too) decodes whole.
 */
export const MAX_LINE_BYTES = 512;
/** A client's tag data with its leading `@` (IRCv3: 4094 bytes, `@` and space apart). */
export const MAX_TAG_BYTES = 4095;

/** What one complete line yields: its text, or that it was too long (and dropped). */
export type IrcLine = { readonly kind: 'line'; readonly text: string } | { readonly kind: 'tooLong' };

const LF = 0x0a;
const CR = 0x0d;
const AT = 0x40;
const SPACE = 0x20;

export class IrcLineSplitter {
  private partial: Buffer | null = null;
  /** The line under way passed every limit: the rest of it up to its LF is dropped. */
  private overflowed = false;

  /** The complete lines in `chunk` (and before it), in order. */
  push(chunk: Buffer): IrcLine[] {
    const out: IrcLine[] = [];
    let start = 0;
    for (;;) {
      const end = chunk.indexOf(LF, start);
      if (end < 0) break;
      const piece = chunk.subarray(start, end);
      start = end + 1;
      if (this.overflowed) {
        this.overflowed = false;
        this.partial = null;
        out.push({ kind: 'tooLong' });
        continue;
      }
      const line = this.partial ? Buffer.concat([this.partial, piece]) : piece;
      this.partial = null;
      out.push(lineOf(line));
    }
    if (start < chunk.length && !this.overflowed) {
      const rest = chunk.subarray(start);
      // Copied: the read's buffer is not ours to keep.
      this.partial = this.partial ? Buffer.concat([this.partial, rest]) : Buffer.from(rest);
      if (this.partial.length > MAX_TAG_BYTES + 1 + MAX_LINE_BYTES) {
        this.partial = null;
        this.overflowed = true;
      }
    }
    return out;
  }

  /** Bytes held of a line not ended yet. */
  get pendingBytes(): number {
    return this.partial?.length ?? 0;
  }

  /** Between lines: nothing held, and not dropping the rest of an over-long line. */
  get idle(): boolean {
    return this.partial === null && !this.overflowed;
  }
}

/** One line without its LF: its CR dropped, its size checked, its bytes decoded (invalid UTF-8 replaced). */
function lineOf(raw: Buffer): IrcLine {
  const bytes = raw.length > 0 && raw[raw.length - 1] === CR ? raw.subarray(0, raw.length - 1) : raw;
  let body = bytes;
  if (bytes[0] === AT) {
    const space = bytes.indexOf(SPACE);
    const tagBytes = space < 0 ? bytes.length : space;
    if (tagBytes > MAX_TAG_BYTES) return { kind: 'tooLong' };
    body = space < 0 ? bytes.subarray(bytes.length) : bytes.subarray(space + 1);
  }
  // 512 with the CR LF.
  if (body.length > MAX_LINE_BYTES - 2) return { kind: 'tooLong' };
  return { kind: 'line', text: bytes.toString('utf8') };
}

/**
 * Splits `text` into pieces of at most `maxBytes` UTF-8 bytes each, never inside a character, at
 * the last space where there is one in the second half of a piece: a long lab message as several
 * PRIVMSGs, each within the line limit once its prefix is added.
 */
export function splitText(text: string, maxBytes: number): string[] {
  // Room for any one character: a piece always makes progress.
  if (maxBytes < 4) throw new RangeError(`splitText needs at least 4 bytes a piece, got ${maxBytes}`);
  if (Buffer.byteLength(text) <= maxBytes) return [text];
  const pieces: string[] = [];
  let piece = '';
  let bytes = 0;
  let lastSpace = -1;
  for (const char of text) {
    const size = Buffer.byteLength(char);
    if (bytes + size > maxBytes) {
      if (lastSpace > piece.length / 2) {
        pieces.push(piece.slice(0, lastSpace));
        piece = piece.slice(lastSpace + 1);
      } else {
        pieces.push(piece);
        piece = '';
      }
      bytes = Buffer.byteLength(piece);
      lastSpace = piece.lastIndexOf(' ');
    }
    if (char === ' ') lastSpace = piece.length;
    piece += char;
    bytes += size;
  }
  if (piece !== '') pieces.push(piece);
  return pieces;
}
