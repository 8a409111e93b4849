/**
 * The node's standing in the cluster, as an explicit state machine. A node may act (order events,
 * publish, hand out ids) only while `up`: its lease in Redis is live and renewed.
 *
 *   registering ──registered──► up ◄──connectionBack── down
 *        ▲                      │ └──connectionLost──────►│
 *        │                      ├──leaseLost / epochChanged──► fenced ──registered──► up
 *        │                      │                               ▲   (its connections dropped;
 *        └──────────────────────┴─────────── down ──leaseLost ──┘    it registers anew)
 *   any ──closed──► closed (final: nothing goes to Redis any more)
 *
 * `fenced`: the node found its lease gone (not renewed within the lease: others may have declared
 * it dead and announced its members' departures) or Redis emptied (a new epoch). It must drop its
 * connections, so no member lives on that the cluster thinks gone, and register again under a new
 * node id; requests meanwhile wait for that.
 */
export type LeaseState = 'registering' | 'up' | 'down' | 'fenced' | 'closed';

export type LeaseEvent =
  /** Redis took the node's registration (a new node id and lease). */
  | 'registered'
  /** The connection to Redis dropped while up. */
  | 'connectionLost'
  /** Every connection to Redis is ready again. */
  | 'connectionBack'
  /** The lease was not renewed in time, or was found expired. */
  | 'leaseLost'
  /** Redis lost the cluster's state (restarted empty). */
  | 'epochChanged'
  /** The node stops (or, in tests, crashes). */
  | 'closed';

const TRANSITIONS: Readonly<Record<LeaseState, Partial<Record<LeaseEvent, LeaseState>>>> = {
  registering: { registered: 'up', closed: 'closed' },
  up: { connectionLost: 'down', leaseLost: 'fenced', epochChanged: 'fenced', closed: 'closed' },
  down: { connectionBack: 'up', leaseLost: 'fenced', epochChanged: 'fenced', closed: 'closed' },
  fenced: { registered: 'up', closed: 'closed' },
  closed: {},
};

/** The state after `event`; an event a state does not take leaves it as it is. */
export function nextLeaseState(state: LeaseState, event: LeaseEvent): LeaseState {
  return TRANSITIONS[state][event] ?? state;
}

/**
 * The machine's current state, and the requests waiting for the node to be registered again
 * (they may not go out under a node id that is no longer its own).
 */
export class LeaseStatus {
  private current: LeaseState = 'registering';
  private readonly waiters: (() => void)[] = [];

  get state(): LeaseState {
    return this.current;
  }

  /** Applies `event`; returns whether the state changed. */
  apply(event: LeaseEvent): boolean {
    const next = nextLeaseState(this.current, event);
    if (next === this.current) return false;
    this.current = next;
    if (next === 'up') for (const wake of this.waiters.splice(0)) wake();
    return true;
  }

  /** Calls `wake` once the node is up again; returns the function that stops waiting. */
  whenUp(wake: () => void): () => void {
    this.waiters.push(wake);
    return () => {
      const index = this.waiters.indexOf(wake);
      if (index >= 0) this.waiters.splice(index, 1);
    };
  }
}
