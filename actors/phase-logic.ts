import type { ActorLogic, ActorRef, ActorScope, EventObject, Snapshot } from 'xstate';

/**
 * A flat state machine (one level of phases, no parallel regions, no history, no delays) as
 * xstate actor logic: what a client actor needs, at a fraction of a statechart's cost per actor.
 *
 * An xstate machine's snapshot carries a `tags` Set, `children` and `historyValue` objects and a
 * `_nodes` array, and every step builds a new snapshot through microsteps that allocate sets and
 * arrays even for a transition without a target; its entry actions at start leave the actor a
 * grown `_deferred` array for life. At 10,000 connections that is over half a kilobyte per
 * connection and a good part of each request's garbage (docs/performance.md, "Memory per
 * connection"). This logic keeps one snapshot per actor and changes it in place: the context is
 * the actor's own, as a machine's context already was here (its actions mutate it).
 *
 * The rules are a machine's, kept as plain functions:
 * - an event is handled by the current phase's handler for its type, else by the logic's own
 *   (`on` at the top), else ignored;
 * - a handler acts and returns the phase to go to, or nothing to stay; going to a phase, even the
 *   current one, runs the phase's `exit`, then the target's `entry` (a machine runs a transition's
 *   actions between the two; here the handler, which also chooses the target, runs first, so an
 *   exit must not be something the handler's actions rely on);
 * - after every handled event and every entry, the phase's `always` is asked where to go next
 *   (an eventless transition), until one stays (unlike a machine, not after an event nothing
 *   handles: what an `always` waits for must come as a handled event);
 * - `{ to, raise }` also queues events, handled in order once the step has settled (a machine's
 *   `raise`);
 * - entering a `final` phase ends the actor: its output goes to its parent as
 *   `xstate.done.actor.<id>`, as a machine's would. A handler that throws fails the actor, which
 *   its parent hears as `xstate.error.actor.<id>`; stopped by its parent, its status is `stopped`.
 *
 * Messages to other actors are sent by the handlers themselves, in the order written. A machine
 * defers `sendTo` to the end of its step; a logic that needs that (the room does: its clients and
 * the supervisor hear from it after its step) keeps an outbox and sends it in `afterStep`.
 */
export type PhaseSnapshot<TContext, TOutput, TPhase extends string> = Snapshot<TOutput> & {
  /** The phase the actor is in: what a machine's snapshot calls its value (the dump shows it). */
  readonly value: TPhase;
  readonly context: TContext;
};

/** Where a step goes: a phase, a phase and events to handle after it, or nowhere (stay). */
export type Next<TPhase extends string, TEvent extends EventObject> = TPhase | { readonly to: TPhase; readonly raise: readonly TEvent[] } | undefined;

export type PhaseSelf<TContext, TEvent extends EventObject, TOutput, TPhase extends string> = ActorRef<PhaseSnapshot<TContext, TOutput, TPhase>, TEvent>;

export type Handlers<TContext, TEvent extends EventObject, TPhase extends string, TSelf> = {
  readonly [K in TEvent['type']]?: (context: TContext, event: Extract<TEvent, { type: K }>, self: TSelf) => Next<TPhase, TEvent> | void;
};

export interface Phase<TContext, TEvent extends EventObject, TPhase extends string, TSelf> {
  readonly entry?: (context: TContext, self: TSelf) => void;
  readonly exit?: (context: TContext, self: TSelf) => void;
  /** Asked after each handled event and on entry: a phase to go on to, or nothing to stay. */
  readonly always?: (context: TContext, self: TSelf) => Next<TPhase, TEvent>;
  readonly on?: Handlers<TContext, TEvent, TPhase, TSelf>;
  /** Entering it ends the actor. */
  readonly final?: true;
}

export interface PhaseLogicSpec<TContext, TEvent extends EventObject, TInput, TOutput, TPhase extends string> {
  /** The actor's context, made before it starts (`self` for what the context keeps of it). */
  readonly context: (input: TInput, self: PhaseSelf<TContext, TEvent, TOutput, TPhase>) => TContext;
  readonly initial: TPhase;
  /** Run once, when the actor starts, before the initial phase's entry. */
  readonly start?: (context: TContext, self: PhaseSelf<TContext, TEvent, TOutput, TPhase>) => void;
  /** Run after every step (the start's too), once its raised events are handled. */
  readonly afterStep?: (context: TContext) => void;
  /** Handled in every phase without a handler of its own for the event. */
  readonly on?: Handlers<TContext, TEvent, TPhase, PhaseSelf<TContext, TEvent, TOutput, TPhase>>;
  readonly phases: { readonly [K in TPhase]: Phase<TContext, TEvent, TPhase, PhaseSelf<TContext, TEvent, TOutput, TPhase>> };
  readonly output: (context: TContext) => TOutput;
}

export type PhaseLogic<TContext, TEvent extends EventObject, TInput, TOutput, TPhase extends string> = ActorLogic<PhaseSnapshot<TContext, TOutput, TPhase>, TEvent, TInput>;

/** The event xstate sends an actor its parent stops (xstate's own name for it). */
const XSTATE_STOP = 'xstate.stop';

type AnyHandler<C, E, P extends string, S> = (context: C, event: E, self: S) => Next<P, E & EventObject> | void;

/** The snapshot as this module changes it; outside, it is read-only. */
interface Mutable<C, O, P extends string> {
  status: 'active' | 'done' | 'stopped';
  output: O | undefined;
  error: undefined;
  value: P;
  readonly context: C;
}

export function phaseLogic<TContext, TEvent extends EventObject, TInput, TOutput, TPhase extends string>(
  spec: PhaseLogicSpec<TContext, TEvent, TInput, TOutput, TPhase>,
): PhaseLogic<TContext, TEvent, TInput, TOutput, TPhase> {
  type Self = PhaseSelf<TContext, TEvent, TOutput, TPhase>;
  type State = Mutable<TContext, TOutput, TPhase>;
  type Snap = PhaseSnapshot<TContext, TOutput, TPhase>;
  const { phases } = spec;
  const handlerOf = (handlers: Handlers<TContext, TEvent, TPhase, Self> | undefined, type: TEvent['type']) =>
    handlers?.[type] as AnyHandler<TContext, TEvent, TPhase, Self> | undefined;

  function go(state: State, to: TPhase, self: Self): void {
    phases[state.value].exit?.(state.context, self);
    state.value = to;
    const phase = phases[to];
    phase.entry?.(state.context, self);
    if (phase.final) {
      state.output = spec.output(state.context);
      state.status = 'done';
    }
  }

  /** Follows `next`, then each phase's `always`, until one stays; returns the events raised on the way. */
  function settle(state: State, next: Next<TPhase, TEvent> | void, self: Self, raised: TEvent[] | undefined): TEvent[] | undefined {
    for (;;) {
      if (next === undefined) {
        next = phases[state.value].always?.(state.context, self);
        if (next === undefined) return raised;
      }
      let to: TPhase;
      if (typeof next === 'string') to = next;
      else {
        to = next.to;
        raised = raised ? raised.concat(next.raise) : next.raise.slice();
      }
      go(state, to, self);
      if (state.status !== 'active') return raised;
      next = undefined;
    }
  }

  function handle(state: State, event: TEvent, self: Self, raised: TEvent[] | undefined): TEvent[] | undefined {
    const type = event.type as TEvent['type'];
    const handler = handlerOf(phases[state.value].on, type) ?? handlerOf(spec.on, type);
    if (!handler) return raised;
    return settle(state, handler(state.context, event, self), self, raised);
  }

  return {
    getInitialSnapshot: (scope: ActorScope<Snap, TEvent>, input: TInput): Snap => {
      const state: State = { status: 'active', output: undefined, error: undefined, value: spec.initial, context: spec.context(input, scope.self) };
      return state as unknown as Snap;
    },
    start: (snapshot: Snap, scope: ActorScope<Snap, TEvent>): void => {
      const state = snapshot as unknown as State;
      spec.start?.(state.context, scope.self);
      phases[state.value].entry?.(state.context, scope.self);
      drain(state, settle(state, undefined, scope.self, undefined), scope.self);
      spec.afterStep?.(state.context);
    },
    transition: (snapshot: Snap, event: TEvent, scope: ActorScope<Snap, TEvent>): Snap => {
      const state = snapshot as unknown as State;
      if (state.status !== 'active') return snapshot;
      // Sent by xstate itself when the parent stops this actor; nothing more is handled after it.
      if (event.type === XSTATE_STOP) {
        state.status = 'stopped';
        return snapshot;
      }
      drain(state, handle(state, event, scope.self, undefined), scope.self);
      spec.afterStep?.(state.context);
      return snapshot;
    },
    getPersistedSnapshot: (snapshot: Snap): Snap => snapshot,
  };

  /** Raised events, in order; those they raise join the end of the queue. */
  function drain(state: State, raised: TEvent[] | undefined, self: Self): void {
    if (!raised) return;
    for (let i = 0; i < raised.length && state.status === 'active'; i++) {
      const more = handle(state, raised[i]!, self, undefined);
      if (more) raised = raised.concat(more);
    }
  }
}
