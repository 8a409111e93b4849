/**
 * What the framer (inbound.ts) needs of a door's codec: bytes in, typed items out, and enough to
 * know when a request is under way. The lab protocol's is RequestDecoder (src/protocol/), IRC's is
 * in src/irc/. One decoder exists per connection only while a request is under way.
 */
export interface StreamDecoder<T> {
  /** Decodes one read (cut anywhere): the items it completes, in order. */
  push(chunk: Buffer): T[];
  /** Between requests, with no bytes held: a fresh decoder would do the same from here on. */
  isIdle(): boolean;
  /** Decoding stopped for good (the connection is closing). */
  hasFailed(): boolean;
  /** What is buffered lacks only its terminator, so the quiet period may complete it. */
  hasCompletablePending(): boolean;
  /** The quiet period passed (or the input ended): what lacks only its terminator, as complete. */
  completeOnQuiet(): T[];
  /** The request under way timed out and was answered: its rest, should it come, is dropped. */
  discardCurrent(): void;
  /** Dropping the rest of a discarded request. */
  isDiscarding(): boolean;
}

/** A door's decoders: one made per request under way, and its answer to a request timeout. */
export interface DecoderSource<T> {
  create(): StreamDecoder<T>;
  /** What the reader is handed for a request discarded on the timeout; null: nothing. */
  timedOut(timeoutMs: number): T | null;
}
