import type { AnyActorLogic, AnyActorRef, Actor } from 'xstate';

/**
 * Gives an actor's kept options object a hidden class shared with every other actor's.
 *
 * xstate's `Actor` keeps its options as `{ ...defaultOptions, ...options }`. On Node 20's V8 an
 * object spread of that kind, once its call site has run a few times, gives every result a hidden
 * class of its own (a `Map` and its `DescriptorArray`, about 250 bytes), which the actor then holds
 * for life: one per room here. `Object.assign` onto a fresh literal builds the same properties
 * along V8's shared transitions instead. xstate reads these options again only at `start()` (its
 * `input` and `devTools`), so the copy must be made before the actor is started.
 * Measured with heap snapshots at 10,000 connections: docs/performance.md, "Memory per connection".
 */
export function shareOptionsShape(actor: AnyActorRef & { options: object }): void {
  actor.options = Object.assign({}, actor.options);
}

/** Per parent, per logic: the one options object its started children share. */
const started = new WeakMap<AnyActorRef, Map<AnyActorLogic, Readonly<object>>>();

/**
 * After `start()` xstate reads an actor's options no more, so every started client actor of a
 * server shares one options object (its parent and id are theirs all alike) and lets go of its
 * own and of its input (whose parts its context already holds): about 100 bytes a connection, and
 * the per-actor hidden class above goes with the object that had it.
 */
export function shareStartedOptions(actor: Actor<AnyActorLogic>, parent: AnyActorRef): void {
  // Options of one actor's own would be wrongly shared: such an actor keeps its object.
  const { systemId, snapshot, inspect } = actor.options;
  if (systemId !== undefined || snapshot !== undefined || inspect !== undefined) return;
  let byLogic = started.get(parent);
  if (!byLogic) started.set(parent, (byLogic = new Map()));
  let shared = byLogic.get(actor.logic);
  if (!shared) byLogic.set(actor.logic, (shared = Object.freeze({ ...actor.options, input: undefined })));
  actor.options = shared;
}
