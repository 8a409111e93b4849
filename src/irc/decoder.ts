import type { DecoderSource, StreamDecoder } from '../transport/stream-decoder.js';
import { IrcLineSplitter } from './lines.js';
import { parseMessage, type IrcMessage } from './message.js';

/** What the IRC door reads: a message, or a line too long to take (answered 417, dropped). */
export type IrcInput = { readonly kind: 'message'; readonly message: IrcMessage } | { readonly kind: 'tooLong' };

const TOO_LONG: IrcInput = Object.freeze({ kind: 'tooLong' });

/**
 * Bytes → IRC messages for the framer: a line is a request, so a request is under way only while a
 * line is not ended. IRC has no quiet-period completion (a line without its CR LF waits) and no
 * fatal error (a line too long is dropped, the connection stays).
 */
class IrcDecoder implements StreamDecoder<IrcInput> {
  private readonly lines = new IrcLineSplitter();

  push(chunk: Buffer): IrcInput[] {
    const out: IrcInput[] = [];
    for (const line of this.lines.push(chunk)) {
      if (line.kind === 'tooLong') out.push(TOO_LONG);
      else {
        // Blank lines and lines with no command are ignored, as servers do.
        const message = parseMessage(line.text);
        if (message) out.push({ kind: 'message', message });
      }
    }
    return out;
  }

  isIdle(): boolean {
    return this.lines.idle;
  }

  hasFailed(): boolean {
    return false;
  }

  hasCompletablePending(): boolean {
    return false;
  }

  completeOnQuiet(): IrcInput[] {
    return [];
  }

  discardCurrent(): void {}

  isDiscarding(): boolean {
    return false;
  }
}

/**
 * The IRC door's decoders. A line left unended past the request timeout is not answered (IRC has
 * no reply for it); its bytes stay bounded by the line limits, and the door's ping timeout ends a
 * connection that says nothing more.
 */
export const IRC_DECODERS: DecoderSource<IrcInput> = {
  create: () => new IrcDecoder(),
  timedOut: () => null,
};
