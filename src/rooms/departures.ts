import type { RoomEvent } from '../../actors/events.js';
import { RoomFault, type DepartCommand, type RoomIo, type RoomState } from './order.js';

/** A departure waiting for its turn (see WORK_PER_TURN). */
export type Departure = DepartCommand;

/**
 * The work all rooms together do on departures per turn of the event loop, in deliveries (one per
 * member told) plus DEPARTURE_COST for each departure (its record, its departer's actor told).
 * Each departure is announced to everyone still in the room, so when thousands of members go at
 * once (a load generator stopped) carrying each out as it arrives is n² deliveries in the turn
 * that reads the closes, and every other connection waits for all of it. Queued instead, they
 * are carried out in later turns, this much work a turn over every room (at least one departure
 * a turn), in the order the rooms queued them, and the replies and room traffic of the
 * connections that remain go out in between.
 */
const WORK_PER_TURN = 20_000;
const DEPARTURE_COST = 25;

/** A single server's room: its departures not carried out yet, in arrival order. */
export interface DepartureQueue {
  readonly departures: Departure[];
  /** A turn to carry departures out is scheduled. */
  departuresScheduled: boolean;
}

type RoomSelf = { send(event: RoomEvent): void; getSnapshot(): { status: string } };

/** Departures whose carrying out failed once: a second failure drops them. */
const failedOnce = new WeakSet<Departure>();

/** Rooms with departures waiting, in the order they queued them; each turn takes them in order. */
const waiting: RoomSelf[] = [];
let turn: NodeJS.Immediate | undefined;
/** What is left of this turn's work. */
let workLeft = 0;

/** A turn of departures: rooms are handed their share in order until the turn's work is done. */
function departuresTurn(): void {
  turn = undefined;
  workLeft = WORK_PER_TURN;
  while (workLeft > 0 && waiting.length > 0) {
    const room = waiting.shift()!;
    // A room stopped meanwhile (emptied, or the server stopping) has nothing left to announce to.
    if (room.getSnapshot().status === 'active') room.send({ type: 'room.departures' });
  }
  if (waiting.length > 0) turn = setImmediate(departuresTurn);
}

export function scheduleDepartures(queue: DepartureQueue, self: RoomSelf): void {
  if (queue.departuresScheduled || queue.departures.length === 0) return;
  queue.departuresScheduled = true;
  waiting.push(self);
  turn ??= setImmediate(departuresTurn);
}

export function queueDeparture(queue: DepartureQueue, departure: Departure, self: RoomSelf): void {
  queue.departures.push(departure);
  scheduleDepartures(queue, self);
}

/**
 * This turn's share of the queued departures, in their order; each departer is told once its
 * departure is announced. Other commands are not held behind them: no member can act on a
 * departure before it is announced, so the room's one order stays one order either way.
 * `carryOut` orders and applies one departure.
 */
export function applyDepartures(queue: DepartureQueue, room: RoomState, io: RoomIo, carryOut: (departure: Departure) => void): void {
  queue.departuresScheduled = false;
  const cost = room.members.size + DEPARTURE_COST;
  const count = Math.max(1, Math.floor(workLeft / cost));
  const batch = queue.departures.splice(0, count);
  workLeft -= batch.length * cost;
  for (let i = 0; i < batch.length; i++) {
    const departure = batch[i]!;
    try {
      carryOut(departure);
    } catch (cause) {
      requeueAfterFault(queue, room, batch, i);
      // Not the departure itself: the restarted room carries on with the queue, the failed one first.
      throw new RoomFault({ type: 'room.departures' }, { cause });
    }
    io.notify(departure.client, { type: 'room.departed', roomRef: room.ref });
  }
  scheduleDepartures(queue, io.self);
}

/**
 * A departure of this turn's batch failed (at `failed`). An action that throws loses the sends it
 * enqueued, so the departers already announced this turn are told directly. The failed one goes
 * back at the head of the queue, ahead of the rest, so the restarted room keeps their order; one
 * that fails a second time is dropped (as the supervisor drops any event that fails twice), its
 * client told all the same so that it does not wait forever.
 */
function requeueAfterFault(queue: DepartureQueue, room: RoomState, batch: readonly Departure[], failed: number): void {
  const departed = { type: 'room.departed', roomRef: room.ref } as const;
  for (const done of batch.slice(0, failed)) done.client.send(departed);
  const departure = batch[failed]!;
  const rest = batch.slice(failed + 1);
  if (failedOnce.has(departure)) {
    departure.client.send(departed);
    queue.departures.unshift(...rest);
  } else {
    failedOnce.add(departure);
    queue.departures.unshift(departure, ...rest);
  }
}
