import { describe, expect, it } from 'vitest';
import { createActor, createMachine, setup, type AnyActorRef } from 'xstate';
import { shareStartedOptions } from '../src/supervision/actor-options.js';

const child = setup({ types: { context: {} as { n: number }, input: {} as { n: number }, events: {} as { type: 'off' } } }).createMachine({
  context: ({ input }) => ({ n: input.n }),
  initial: 'on',
  states: { on: { on: { off: 'off' } }, off: { type: 'final' } },
});
const other = setup({ types: { input: {} as { n: number } } }).createMachine({ initial: 'on', states: { on: {} } });

function parent(): AnyActorRef {
  const actor = createActor(createMachine({ on: { '*': {} } }));
  actor.start();
  return actor;
}

function started(logic: typeof child, server: AnyActorRef, n: number) {
  const actor = createActor(logic, { parent: server, id: 'client', input: { n } });
  actor.start();
  shareStartedOptions(actor, server);
  return actor;
}

describe('started actors share their options', () => {
  it('one frozen object per parent and logic, without the input; the actors work on', () => {
    const server = parent();
    const [a, b] = [started(child, server, 1), started(child, server, 2)];
    expect(a.options).toBe(b.options);
    expect(Object.isFrozen(a.options)).toBe(true);
    expect(a.options.input).toBeUndefined();
    expect(a.options.id).toBe('client');
    expect([a.getSnapshot().context.n, b.getSnapshot().context.n]).toEqual([1, 2]);
    b.send({ type: 'off' });
    expect([a.getSnapshot().status, b.getSnapshot().status]).toEqual(['active', 'done']);

    const elsewhere = started(child, parent(), 3);
    expect(elsewhere.options).not.toBe(a.options);
    const otherLogic = createActor(other, { parent: server, id: 'client', input: { n: 4 } });
    otherLogic.start();
    shareStartedOptions(otherLogic, server);
    expect(otherLogic.options).not.toBe(a.options);
  });

  it('leaves an actor with options of its own (a system id) alone', () => {
    const server = parent();
    const actor = createActor(child, { parent: server, systemId: 'special', input: { n: 1 } });
    actor.start();
    const own = actor.options;
    shareStartedOptions(actor, server);
    expect(actor.options).toBe(own);
  });
});
