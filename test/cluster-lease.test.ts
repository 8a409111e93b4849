import { describe, expect, it } from 'vitest';
import { LeaseStatus, nextLeaseState, type LeaseEvent, type LeaseState } from '../src/cluster/lease-state.js';

describe('the node lease state machine (unit)', () => {
  it('a registered node is up; a lost connection takes it down and its return up again', () => {
    expect(nextLeaseState('registering', 'registered')).toBe('up');
    expect(nextLeaseState('up', 'connectionLost')).toBe('down');
    expect(nextLeaseState('down', 'connectionBack')).toBe('up');
  });

  it('a lease lost or a new epoch fences the node, up or down; only a new registration lifts it', () => {
    for (const from of ['up', 'down'] as const) {
      expect(nextLeaseState(from, 'leaseLost')).toBe('fenced');
      expect(nextLeaseState(from, 'epochChanged')).toBe('fenced');
    }
    for (const event of ['connectionBack', 'connectionLost', 'leaseLost', 'epochChanged'] as const) expect(nextLeaseState('fenced', event)).toBe('fenced');
    expect(nextLeaseState('fenced', 'registered')).toBe('up');
  });

  it('a closed node stays closed, whatever comes after (a registration finishing late included)', () => {
    const events: LeaseEvent[] = ['registered', 'connectionLost', 'connectionBack', 'leaseLost', 'epochChanged', 'closed'];
    const states: LeaseState[] = ['registering', 'up', 'down', 'fenced', 'closed'];
    for (const state of states) expect(nextLeaseState(state, 'closed')).toBe('closed');
    for (const event of events) expect(nextLeaseState('closed', event)).toBe('closed');
  });

  it('before its first registration a node is neither up nor fenced: a lost connection or lease changes nothing', () => {
    for (const event of ['connectionLost', 'connectionBack', 'leaseLost', 'epochChanged'] as const) expect(nextLeaseState('registering', event)).toBe('registering');
  });

  it('requests waiting while fenced are woken when the node is up again, and not before', () => {
    const status = new LeaseStatus();
    status.apply('registered');
    expect(status.apply('leaseLost')).toBe(true);
    let woken = 0;
    status.whenUp(() => woken++);
    const stopped = status.whenUp(() => woken++);
    stopped();
    expect(status.apply('connectionBack')).toBe(false);
    expect(woken).toBe(0);
    status.apply('registered');
    expect(status.state).toBe('up');
    expect(woken).toBe(1);
  });
});
