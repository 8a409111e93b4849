import type { ServerMessage } from '../protocol/replies.js';
import type { RoomRef } from '../protocol/types.js';

type Answer = 'HELO' | 'JOINED' | 'LEFT' | 'CHAT';
type AnswerOf<K extends Answer> = Extract<ServerMessage, { kind: K }>;

/** The CHAT that answers a chat request: the server's echo of it to the sender. */
export interface Echo {
  readonly roomRef: RoomRef;
  readonly clientName: string;
  readonly message: string;
}

interface Entry {
  /** What answers this request: a reply kind, or the connection's close (DISCONNECT). */
  readonly answer: Answer | 'CLOSE';
  readonly echo: Echo | undefined;
  readonly resolve: (message: ServerMessage | undefined) => void;
  readonly reject: (error: Error) => void;
}

/**
 * Requests waiting for their answer. The server answers one connection's requests in order, so
 * the oldest waits for the next reply; an ERROR_CODE takes the place of that reply.
 */
export class PendingRequests {
  private readonly queue: Entry[] = [];

  /**
   * A request answered by a reply of kind `answer` (for CHAT: by `echo`). `onAnswer` runs as the
   * reply is decoded, before anything after it in the stream: state it sets is there for the next event.
   */
  expect<K extends Answer>(answer: K, options: { echo?: Echo; onAnswer?: (message: AnswerOf<K>) => void } = {}): Promise<AnswerOf<K>> {
    return new Promise((resolve, reject) => {
      // The entry is only ever resolved with a message of kind K (see `answer`).
      const settle = (message: ServerMessage | undefined): void => {
        options.onAnswer?.(message as AnswerOf<K>);
        resolve(message as AnswerOf<K>);
      };
      this.queue.push({ answer, echo: options.echo, resolve: settle, reject });
    });
  }

  expectClose(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.queue.push({ answer: 'CLOSE', echo: undefined, resolve: () => resolve(), reject });
    });
  }

  /** Settles the oldest request if `message` is its answer; false when it is not (e.g. room traffic). */
  answer(message: ServerMessage): boolean {
    const head = this.queue[0];
    if (head === undefined || head.answer !== message.kind) return false;
    if (message.kind === 'CHAT' && !isEcho(head.echo, message)) return false;
    this.queue.shift();
    head.resolve(message);
    return true;
  }

  /** Rejects the oldest request (its reply was an error); false when nothing was waiting. */
  rejectOldest(error: Error): boolean {
    const head = this.queue.shift();
    head?.reject(error);
    return head !== undefined;
  }

  /** The connection closed: a DISCONNECT waiting for it is answered, everything else fails. */
  close(error: Error): void {
    for (const entry of this.queue.splice(0)) {
      if (entry.answer === 'CLOSE') entry.resolve(undefined);
      else entry.reject(error);
    }
  }

}

function isEcho(echo: Echo | undefined, message: AnswerOf<'CHAT'>): boolean {
  return echo !== undefined && echo.roomRef === message.roomRef && echo.clientName === message.clientName && echo.message === message.message;
}
