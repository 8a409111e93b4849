import { describe, expect, it } from 'vitest';
import { createActor, emit, setup } from 'xstate';
import { OnDemandMap, OnDemandSet, trimActorCollections } from '../src/supervision/actor-collections.js';

/** Counts to three, telling its listeners of each step, then ends. */
const counter = setup({
  types: { context: {} as { count: number }, events: {} as { type: 'step' }, emitted: {} as { type: 'stepped'; count: number } },
}).createMachine({
  context: { count: 0 },
  initial: 'counting',
  states: {
    counting: {
      on: {
        step: {
          actions: [({ context }) => void context.count++, emit(({ context }) => ({ type: 'stepped' as const, count: context.count }))],
        },
      },
      always: { guard: ({ context }) => context.count >= 3, target: 'done' },
    },
    done: { type: 'final' },
  },
});

describe('an actor whose observers and listeners are made on demand', () => {
  it('still serves subscribers and listeners, and completes them at its end', () => {
    const actor = createActor(counter);
    trimActorCollections(actor);
    expect((actor as unknown as { observers: unknown }).observers).toBeInstanceOf(OnDemandSet);
    expect((actor as unknown as { eventListeners: unknown }).eventListeners).toBeInstanceOf(OnDemandMap);
    const seen: number[] = [];
    const heard: number[] = [];
    let completed = 0;
    const subscription = actor.subscribe({ next: (snapshot) => void seen.push(snapshot.context.count), complete: () => void completed++ });
    const listener = actor.on('stepped', (event) => void heard.push(event.count));
    const late: number[] = [];
    const lateSubscription = actor.subscribe((snapshot) => void late.push(snapshot.context.count));
    actor.start();
    actor.send({ type: 'step' });
    lateSubscription.unsubscribe();
    actor.send({ type: 'step' });
    listener.unsubscribe();
    actor.send({ type: 'step' });
    expect(actor.getSnapshot().status).toBe('done');
    expect(seen).toEqual([0, 1, 2, 3]);
    expect(late).toEqual([0, 1]);
    expect(heard).toEqual([1, 2]);
    expect(completed).toBe(1);
    subscription.unsubscribe();
  });

  it('leaves an actor that already has an observer as it is', () => {
    const actor = createActor(counter);
    actor.subscribe(() => {});
    const before = (actor as unknown as { observers: unknown }).observers;
    trimActorCollections(actor);
    expect((actor as unknown as { observers: unknown }).observers).toBe(before);
  });

  it('behaves as a Set and a Map do', () => {
    const set = new OnDemandSet<string>();
    expect([set.size, [...set], set.has('a'), set.delete('a')]).toEqual([0, [], false, false]);
    set.add('a').add('b').add('a');
    expect([set.size, [...set], [...set.entries()], set.has('b')]).toEqual([2, ['a', 'b'], [['a', 'a'], ['b', 'b']], true]);
    const each: string[] = [];
    set.forEach((value) => each.push(value));
    expect(each).toEqual(['a', 'b']);
    expect(set.delete('a')).toBe(true);
    set.clear();
    expect([set.size, [...set.keys()], Object.prototype.toString.call(set)]).toEqual([0, [], '[object Set]']);

    const map = new OnDemandMap<string, number>();
    expect([map.size, map.get('a'), [...map]]).toEqual([0, undefined, []]);
    map.set('a', 1).set('b', 2).set('a', 3);
    expect([map.size, [...map], [...map.keys()], [...map.values()], map.has('a')]).toEqual([2, [['a', 3], ['b', 2]], ['a', 'b'], [3, 2], true]);
    expect(map.delete('a')).toBe(true);
    map.clear();
    expect([map.size, [...map.entries()], Object.prototype.toString.call(map)]).toEqual([0, [], '[object Map]']);
  });
});
