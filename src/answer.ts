/**
 * An answer a service gives an actor: here now, or later (a promise, when it comes from Redis).
 *
 * Why not a promise always: the local services (a single server's room directory and counters)
 * answer at once, and a join is a hot path; a promise per join would cost an allocation and a
 * microtask, and its answer would have to come back as one more event through the supervisor's
 * mailbox. So the action that asks handles an answer that is here in the same transition, and
 * only a later one takes the detour through `sendWhenSettled`.
 *
 * Why not xstate's `fromPromise`: an actor spawned per request costs more than the request, and
 * the ids of spawned children either collide (one id for all) or grow xstate's memoized
 * transitions forever (one `xstate.done.actor.<id>` event type per id).
 */
export type Answer<T> = T | Promise<T>;

export function isLater<T>(answer: Answer<T>): answer is Promise<T> {
  return answer instanceof Promise;
}

/** Anything events can be sent to: an actor, or its `self`. */
export interface EventTarget<E> {
  send(event: E): void;
}

/**
 * The one way a later answer enters the actor system: as an event sent to `target` once it
 * settles, made by `settled` from its value or by `failed` from its rejection. Sent from outside
 * any action (a promise's callback), as xstate expects of asynchronous results.
 */
export function sendWhenSettled<T, E>(target: EventTarget<E>, answer: Promise<T>, settled: (value: T) => E, failed: (error: unknown) => E): void {
  answer.then(
    (value) => target.send(settled(value)),
    (error: unknown) => target.send(failed(error)),
  );
}
