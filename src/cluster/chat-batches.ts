import type { JoinId, RoomRef } from '../protocol/types.js';
import type { Logger } from 'pino';
import { UnavailableError, type RedisCommands } from './commands.js';
import type { ClusterKeys } from './keys.js';
import { ORDER_CHATS } from './scripts.js';

/** A chat for the ordering script: its wire letter, and for a NICK change (`k`) the new name. */
export interface ChatToOrder {
  readonly joinId: JoinId;
  readonly text: string;
  readonly letter: string;
  readonly face: string | undefined;
}

/**
 * What became of a chat: `ordered` (its record comes back on the room's channel like everyone's),
 * `notMember` (the cluster no longer has the sender in the room), `unavailable` (not ordered
 * within the wait bound; it never will be).
 */
export type ChatOutcome = 'ordered' | 'notMember' | 'unavailable';

interface Pending {
  chat: ChatToOrder;
  told: (outcome: ChatOutcome) => void;
}

/** Chats per script call: a long batch holds Redis (and every other room's events) up. */
const MOST_PER_CALL = 256;

/** Where the script's deadline comes from: the link's wait bound on Redis' clock. */
export interface ChatDeadline {
  (): number;
}

/**
 * A room's chats, gathered over one event-loop turn and ordered by one script call per room
 * (ORDER_CHATS): every chat read from every socket in a turn goes out together when the turn's
 * reads are done (setImmediate). A room's join or leave flushes its chats first, so a member's
 * chat before its own leave keeps its place.
 */
export class ChatBatches {
  private readonly pending = new Map<RoomRef, Pending[]>();
  /** Per room: settles when every batch sent so far has its answer. */
  private readonly answered = new Map<RoomRef, Promise<void>>();
  private scheduled = false;

  constructor(
    private readonly commands: RedisCommands,
    private readonly keys: ClusterKeys,
    private readonly deadline: ChatDeadline,
    private readonly publishCommand: string,
    private readonly logLength: number,
    private readonly log: Logger,
  ) {}

  add(ref: RoomRef, chat: ChatToOrder, told: (outcome: ChatOutcome) => void): void {
    const batch = this.pending.get(ref);
    if (batch) batch.push({ chat, told });
    else this.pending.set(ref, [{ chat, told }]);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flushAll());
    }
  }

  /**
   * Sends the room's waiting chats now, as a join or leave of the room is about to go; settles
   * when Redis has answered every chat of the room sent so far (null: none is unanswered). What
   * comes next waits for that: two different scripts can be run out of the order they were sent
   * in (a NOSCRIPT answer is followed by the script's source, by then behind the other).
   */
  flush(ref: RoomRef): Promise<void> | null {
    const batch = this.pending.get(ref);
    if (batch) {
      this.pending.delete(ref);
      this.send(ref, batch);
    }
    return this.answered.get(ref) ?? null;
  }

  /**
   * Settles when Redis has answered every chat of the room gathered so far (those still gathering
   * go out at the end of this turn, before this looks again); null when none is unanswered.
   */
  unanswered(ref: RoomRef): Promise<void> | null {
    if (this.pending.has(ref)) return new Promise((resolve) => setImmediate(() => resolve(this.answered.get(ref))));
    return this.answered.get(ref) ?? null;
  }

  private flushAll(): void {
    this.scheduled = false;
    const all = [...this.pending];
    this.pending.clear();
    for (const [ref, batch] of all) this.send(ref, batch);
  }

  private send(ref: RoomRef, batch: Pending[]): void {
    const answered: Promise<void>[] = [];
    for (let start = 0; start < batch.length; start += MOST_PER_CALL) {
      const part = start === 0 && batch.length <= MOST_PER_CALL ? batch : batch.slice(start, start + MOST_PER_CALL);
      const args = [String(this.logLength), this.keys.roomChannel(ref), this.publishCommand, String(this.deadline())];
      for (const { chat } of part) args.push(chat.letter, String(chat.joinId), chat.text, chat.face ?? '');
      const answer = this.commands
        .run<number[]>(ORDER_CHATS, this.keys.roomKeys(ref), args, 'once')
        .then(
          (results) => {
            // {-2}: past the deadline, none of them ordered.
            const late = results.length === 1 && results[0] === -2;
            if (late) this.commands.countUnavailable(part.length);
            part.forEach((pending, i) => pending.told(late ? 'unavailable' : results[i]! > 0 ? 'ordered' : 'notMember'));
          },
          (error: unknown) => {
            // The command counted one request UNAVAILABLE: each chat in it is one.
            if (error instanceof UnavailableError) this.commands.countUnavailable(part.length - 1);
            for (const pending of part) pending.told('unavailable');
          },
        )
        .catch((error: unknown) => this.log.error({ err: error, room: ref }, 'cluster: answering ordered chats failed'));
      answered.push(answer);
    }
    const before = this.answered.get(ref);
    const all = Promise.all(before ? [before, ...answered] : answered).then(() => {});
    this.answered.set(ref, all);
    void all.then(() => {
      if (this.answered.get(ref) === all) this.answered.delete(ref);
    });
  }
}
