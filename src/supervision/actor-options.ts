import type { AnyActorRef } from 'xstate';

/**
 * Gives an actor's kept options object a hidden class shared with every other actor's.
 *
 * xstate's `Actor` keeps its options as `{ ...defaultOptions, ...options }`. On Node 20's V8 an
 * object spread of that kind, once its call site has run a few times, gives every result a hidden
 * class of its own (a `Map` and its `DescriptorArray`, about 250 bytes), which the actor then holds
 * for life: one per connection and per room. `Object.assign` onto a fresh literal builds the same
 * properties along V8's shared transitions instead. xstate reads these options again only at
 * `start()` (its `input` and `devTools`), so the copy must be made before the actor is started.
 * Measured with heap snapshots at 10,000 connections: docs/performance.md, "Memory per connection".
 */
export function shareOptionsShape(actor: AnyActorRef & { options: object }): void {
  actor.options = Object.assign({}, actor.options);
}
