import type { Observer, TeardownLogic, Unsubscribable } from 'rxjs';
import type { ClientEvent } from '../../actors/events.js';

/** What a feed sends its events to: the client actor. */
export interface EventTarget {
  send(event: ClientEvent): void;
}

/** Feeds with a run gathered, flushed together once the read that gave them is handled. */
const due: { flushRun(): void }[] = [];
let flushQueued = false;

function flushDue(): void {
  // A run that becomes due meanwhile is taken up by this loop.
  let i = 0;
  try {
    for (; i < due.length; i++) due[i]!.flushRun();
  } finally {
    // An actor's send does not throw (a failing actor stops and its supervisor is told); were one
    // to, the runs after it still go, in a microtask of their own.
    const rest = due.slice(i + 1);
    due.length = 0;
    flushQueued = false;
    if (rest.length > 0) {
      due.push(...rest);
      flushQueued = true;
      queueMicrotask(flushDue);
    }
  }
}

/**
 * Feeds a client actor from its connection, one event per request or signal, except that
 * consecutive chats from one read go as one event: a busy sender's read holds a dozen of them,
 * and one actor step (and one room step per room) for the run costs a twelfth of a step each.
 *
 * A run ends at the first request that is not a chat (the run goes first, so the actor sees every
 * request in arrival order) or when the read is handled: the microtask after the read's callback,
 * before any other socket's read. A run of one goes as the plain event.
 *
 * The feed is also its own subscription. RxJS takes an observer that is a subscription too (an
 * `add`, `remove`, `unsubscribe` and `closed`) as the subscriber itself, where it would otherwise
 * wrap it in a `SafeSubscriber` with a `ConsumerObserver` and keep the stream's teardown in an
 * array grown for 16 more: about 300 bytes a connection for one teardown. What the wrapper gives,
 * this does itself: nothing is handed on once it is closed, and completing or failing closes it.
 */
export abstract class RunFeed<I, C> implements Observer<I>, Unsubscribable {
  private run: C[] | null = null;
  /** The stream's teardown: one stream feeds one actor. */
  private teardown: Exclude<TeardownLogic, void> | null = null;
  private ended = false;

  constructor(protected readonly actor: EventTarget) {}

  /** The request as a chat that may join a run, or null. */
  protected abstract chatOf(incoming: I): C | null;
  /** The event for one request or signal. */
  protected abstract eventOf(incoming: I): ClientEvent;
  /** The event for a run of two or more chats. */
  protected abstract runEvent(chats: C[]): ClientEvent;
  /** The event for a run of one. */
  protected abstract chatEvent(chat: C): ClientEvent;

  /** Unsubscribed, completed or failed: nothing more is handed on. */
  get closed(): boolean {
    return this.ended;
  }

  next(incoming: I): void {
    if (this.ended) return;
    // As RxJS's wrapper did: a throw here is reported on its own, not into the connection's
    // framer, which hands requests on from inside its own loop.
    try {
      this.take(incoming);
    } catch (error) {
      setTimeout(() => {
        throw error;
      });
    }
  }

  private take(incoming: I): void {
    const chat = this.chatOf(incoming);
    if (chat !== null) {
      if (this.run === null) {
        this.run = [chat];
        due.push(this);
        if (!flushQueued) {
          flushQueued = true;
          queueMicrotask(flushDue);
        }
      } else this.run.push(chat);
      return;
    }
    this.flushRun();
    this.actor.send(this.eventOf(incoming));
  }

  /** The stream ends only with its subscription: nothing to tell but the run. */
  complete(): void {
    if (this.ended) return;
    this.flushRun();
    this.unsubscribe();
  }

  /** A second subscriber to one connection (a wiring mistake): the connection is done with. */
  error(): void {
    if (this.ended) return;
    this.flushRun();
    this.actor.send({ type: 'request.end' });
    this.unsubscribe();
  }

  /** The stream's teardown, from RxJS: run at once if the feed has already closed. */
  add(teardown: TeardownLogic): void {
    if (!teardown || teardown === this) return;
    if (this.ended) return runTeardown(teardown);
    const before = this.teardown;
    this.teardown = before === null ? teardown : () => (runTeardown(before), runTeardown(teardown));
  }

  remove(teardown: Exclude<TeardownLogic, void>): void {
    if (this.teardown === teardown) this.teardown = null;
  }

  /** The feed stops: nothing more reaches the actor, and the stream lets the connection go. */
  unsubscribe(): void {
    if (this.ended) return;
    this.ended = true;
    // A run gathered in this read is dropped with the rest: the actor is done with.
    this.run = null;
    const { teardown } = this;
    this.teardown = null;
    if (teardown !== null) runTeardown(teardown);
  }

  /** Sends the run gathered, if any. */
  flushRun(): void {
    const run = this.run;
    if (run === null || this.ended) return;
    this.run = null;
    this.actor.send(run.length === 1 ? this.chatEvent(run[0]!) : this.runEvent(run));
  }
}

function runTeardown(teardown: Exclude<TeardownLogic, void>): void {
  if (typeof teardown === 'function') teardown();
  else teardown.unsubscribe();
}
