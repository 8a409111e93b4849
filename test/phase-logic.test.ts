import { describe, expect, it } from 'vitest';
import { createActor, createMachine, type AnyEventObject } from 'xstate';
import { phaseLogic } from '../actors/phase-logic.js';

type Event = { type: 'go' } | { type: 'note'; text: string } | { type: 'hold'; text: string } | { type: 'release' } | { type: 'finish' } | { type: 'fail' } | { type: 'anywhere' } | { type: 'again' } | { type: 'releaseAndFinish' };
type Phase = 'idle' | 'busy' | 'passing' | 'done';
interface Context {
  log: string[];
  held: Event[];
}

/** A logic that writes down every entry, exit and handler it runs, in the order run. */
const logic = phaseLogic<Context, Event, { first: string }, { notes: number }, Phase>({
  context: ({ first }) => ({ log: [first], held: [] }),
  initial: 'idle',
  start: (context) => void context.log.push('start'),
  afterStep: (context) => void context.log.push('after'),
  on: {
    anywhere: (context) => void context.log.push('top:anywhere'),
    fail: () => {
      throw new Error('failed on purpose');
    },
  },
  phases: {
    idle: {
      entry: (context) => void context.log.push('enter:idle'),
      exit: (context) => void context.log.push('exit:idle'),
      on: {
        go: (context) => {
          context.log.push('idle:go');
          return 'passing';
        },
        note: (context, { text }) => void context.log.push(`idle:note ${text}`),
        finish: () => 'done',
      },
    },
    passing: {
      entry: (context) => void context.log.push('enter:passing'),
      exit: (context) => void context.log.push('exit:passing'),
      // An eventless step: straight on to busy.
      always: () => 'busy',
    },
    busy: {
      entry: (context) => void context.log.push('enter:busy'),
      exit: (context) => void context.log.push('exit:busy'),
      on: {
        hold: (context, event) => void context.held.push(event),
        note: (context, { text }) => void context.log.push(`busy:note ${text}`),
        anywhere: (context) => void context.log.push('busy:anywhere'),
        again: () => 'busy',
        releaseAndFinish: (context) => ({ to: 'idle', raise: [{ type: 'note', text: 'first' }, { type: 'finish' }, { type: 'note', text: 'never' }] }),
        release: (context) => {
          context.log.push('busy:release');
          return { to: 'idle', raise: context.held.splice(0).map((held) => ({ type: 'note' as const, text: held.type === 'hold' ? held.text : '?' })) };
        },
      },
    },
    done: {
      entry: (context) => void context.log.push('enter:done'),
      final: true,
    },
  },
  output: (context) => ({ notes: context.log.filter((line) => line.includes('note')).length }),
});

/** A parent that keeps every event its children send it. */
function parentAndChild() {
  const heard: AnyEventObject[] = [];
  const parent = createActor(createMachine({ on: { '*': { actions: ({ event }) => void heard.push(event) } } }));
  parent.start();
  const child = createActor(logic, { parent, id: 'child', input: { first: 'made' } });
  child.start();
  return { heard, child, log: () => child.getSnapshot().context.log };
}

describe('phase logic', () => {
  it('starts in its initial phase, running its entry', () => {
    const { child, log } = parentAndChild();
    expect(child.getSnapshot().value).toBe('idle');
    expect(child.getSnapshot().status).toBe('active');
    expect(log()).toEqual(['made', 'start', 'enter:idle', 'after']);
  });

  it('runs the handler, the exit, the entry, then eventless steps until one stays', () => {
    const { child, log } = parentAndChild();
    child.send({ type: 'go' });
    expect(child.getSnapshot().value).toBe('busy');
    expect(log().slice(4)).toEqual(['idle:go', 'exit:idle', 'enter:passing', 'exit:passing', 'enter:busy', 'after']);
  });

  it('prefers the phase\'s handler to the top one, uses the top one otherwise, and ignores the rest', () => {
    const { child, log } = parentAndChild();
    child.send({ type: 'anywhere' });
    child.send({ type: 'release' });
    child.send({ type: 'go' });
    child.send({ type: 'anywhere' });
    child.send({ type: 'finish' });
    expect(child.getSnapshot().value).toBe('busy');
    expect(log().filter((line) => line.includes('anywhere') || line.includes('release'))).toEqual(['top:anywhere', 'busy:anywhere']);
  });

  it('handles raised events in order once the step has settled, in the phase then current', () => {
    const { child, log } = parentAndChild();
    child.send({ type: 'go' });
    child.send({ type: 'hold', text: 'one' });
    child.send({ type: 'hold', text: 'two' });
    child.send({ type: 'release' });
    expect(child.getSnapshot().value).toBe('idle');
    expect(log().slice(-6)).toEqual(['busy:release', 'exit:busy', 'enter:idle', 'idle:note one', 'idle:note two', 'after']);
  });

  it('ends in a final phase: its output reaches the parent as xstate.done.actor.<id>', () => {
    const { child, heard, log } = parentAndChild();
    child.send({ type: 'note', text: 'a' });
    child.send({ type: 'finish' });
    expect(child.getSnapshot().status).toBe('done');
    expect(child.getSnapshot().output).toEqual({ notes: 1 });
    expect(log().slice(-2)).toEqual(['enter:done', 'after']);
    expect(heard.filter((event) => event.type.startsWith('xstate.'))).toEqual([expect.objectContaining({ type: 'xstate.done.actor.child', output: { notes: 1 } })]);
    // Nothing is handled after the end.
    child.send({ type: 'note', text: 'late' });
    expect(log().at(-1)).toBe('after');
  });

  it('fails when a handler throws: the parent hears xstate.error.actor.<id>', () => {
    const { child, heard } = parentAndChild();
    child.send({ type: 'fail' });
    expect(child.getSnapshot().status).toBe('error');
    expect(heard.filter((event) => event.type.startsWith('xstate.'))).toEqual([expect.objectContaining({ type: 'xstate.error.actor.child', error: new Error('failed on purpose') })]);
  });

  it('re-enters the current phase when a handler names it: exit, then entry', () => {
    const { child, log } = parentAndChild();
    child.send({ type: 'go' });
    child.send({ type: 'again' });
    expect(log().slice(-3)).toEqual(['exit:busy', 'enter:busy', 'after']);
  });

  it('drops the raised events still queued when one of them ends the actor', () => {
    const { child, log } = parentAndChild();
    child.send({ type: 'go' });
    child.send({ type: 'releaseAndFinish' });
    expect(child.getSnapshot().status).toBe('done');
    expect(log().slice(-6)).toEqual(['exit:busy', 'enter:idle', 'idle:note first', 'exit:idle', 'enter:done', 'after']);
  });

  it('is stopped when stopped (as its parent stops it), and handles nothing after', () => {
    const actor = createActor(logic, { input: { first: 'made' } });
    actor.start();
    actor.stop();
    expect(actor.getSnapshot().status).toBe('stopped');
    actor.send({ type: 'go' });
    expect(actor.getSnapshot().context.log).toEqual(['made', 'start', 'enter:idle', 'after']);
  });
});
