/**
 * One run of the load driver (see driver.ts for the workload and its command line): its
 * connections, its phases and the chatload-shaped result.
 */
import { connect, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { eachMarker, hasError, joinIdIn, marker, roomRefIn } from './driver-scan.js';
import { LatencyHistogram } from './latency-histogram.js';

export interface DriverOptions {
  host: string;
  /** Connection i goes to ports[i mod n]. */
  ports: number[];
  rooms: number;
  members: number;
  senders: number;
  window: number;
  /** Messages per second per sender; 0 means closed loop. */
  rate: number;
  size: number;
  duration: number;
  warmup: number;
  drain: number;
  roomPrefix: string;
  /** Connects in flight (not yet joined) while setting up; chatload's is 256. */
  handshakes: number;
}

/** chatload's JSON line, field for field. */
export interface DriverResult {
  /** chatload's IRC runs say 'irc'; the Node driver speaks only the lab protocol. */
  proto: 'tcd' | 'irc';
  rooms: number;
  members: number;
  senders: number;
  window: number;
  rate: number;
  size: number;
  setup_s: number;
  joins_per_s: number;
  measure_s: number;
  sent_per_s: number;
  delivered_per_s: number;
  p50_us: number;
  p99_us: number;
  p999_us: number;
  max_us: number;
  sent: number;
  delivered: number;
  expected: number;
  lost: number;
  order_violations: number;
  order_divergent_rooms: number;
  echo: number;
  errors: number;
  disconnects: number;
}

export interface DriverOutcome {
  result: DriverResult;
  /** chatload's exit status: 1 if setup failed or the server closed connections. */
  ok: boolean;
}

/** The process ran out of file descriptors: one connection is one descriptor. */
export class DescriptorLimitError extends Error {}

const enum State {
  Connecting,
  Joining,
  Joined,
}

interface Conn {
  id: number;
  room: number;
  member: number;
  state: State;
  socket: Socket | null;
  rest: Buffer | null;
  out: string;
  roomRef: number;
  joinId: number;
  sent: number;
  acked: number;
  /** Last sequence number seen from each sender of this room (indexed by member). */
  lastSeq: Float64Array;
  received: number;
  /** A hash of the (sender, seq) sequence this member received. */
  chain: number;
}

const SETUP_TIMEOUT_MS = 60_000;
/** An open-loop sender stops queueing this far ahead of its acknowledgements. */
const OPEN_LOOP_BACKLOG = 100_000;
const NEWLINE = 0x0a;

const nowNs = (): number => Math.round(performance.now() * 1e6);
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * One run, in its phases: `connectAndJoin` (the join storm), `load` (warm-up and measurement),
 * `drain`, then `result` (losses, order, latency). The counters are fields the socket handlers
 * update; the phases read them.
 */
class DriverRun {
  private readonly nconn: number;
  private readonly cs: Conn[];
  private readonly senderConns: Conn[];
  private readonly padding: string;
  private readonly latency = new LatencyHistogram();
  private measuring = false;
  private sending = false;
  private tMeasure0 = 0;
  private tMeasure1 = 0;
  private deliveredMeasured = 0;
  private deliveredTotal = 0;
  private sentTotal = 0;
  private sentMeasured = 0;
  private orderViolations = 0;
  private selfReceipts = 0;
  private errors = 0;
  private disconnects = 0;
  private connected = 0;
  private joined = 0;
  private closing = false;
  private fatal: Error | null = null;
  private onProgress: (() => void) | null = null;
  // Writes are gathered and handed to the sockets once per turn of the event loop.
  private readonly dirty = new Set<Conn>();
  private flushScheduled = false;

  constructor(private readonly options: DriverOptions) {
    const { rooms, members, senders, size } = options;
    this.nconn = rooms * members;
    this.padding = 'x'.repeat(size);
    this.cs = Array.from({ length: this.nconn }, (_, id) => ({
      id,
      room: Math.floor(id / members),
      member: id % members,
      state: State.Connecting,
      socket: null,
      rest: null,
      out: '',
      roomRef: 0,
      joinId: 0,
      sent: 0,
      acked: 0,
      lastSeq: new Float64Array(senders),
      received: 0,
      chain: 0,
    }));
    this.senderConns = this.cs.filter((c) => c.member < senders);
  }

  async run(): Promise<DriverOutcome> {
    const t0 = nowNs();
    const setupDone = await this.connectAndJoin();
    if (this.fatal) {
      this.closeAll();
      throw this.fatal;
    }
    const setupS = (nowNs() - t0) / 1e9;
    if (setupDone) await this.load();
    this.endMeasurement();
    if (setupDone) await this.drain();
    const disconnects = this.disconnects;
    const divergent = this.divergentRooms();
    this.closeAll();
    return {
      result: this.result(setupS, divergent, disconnects),
      ok: setupDone && this.joined === this.nconn && disconnects === 0,
    };
  }

  /** Connects with at most `handshakes` connections not yet joined; joins as connections complete. */
  private connectAndJoin(): Promise<boolean> {
    let next = 0;
    return new Promise<boolean>((resolve) => {
      const finish = (ok: boolean): void => {
        clearTimeout(timer);
        clearInterval(poll);
        this.onProgress = null;
        resolve(ok);
      };
      const timer = setTimeout(() => {
        process.stderr.write(`setup timed out: ${this.connected} connected, ${this.joined} joined of ${this.nconn}\n`);
        finish(false);
      }, SETUP_TIMEOUT_MS);
      // Descriptor errors arrive on sockets that never connect: look for them now and then.
      const poll = setInterval(() => {
        if (this.fatal) finish(false);
      }, 50);
      this.onProgress = (): void => {
        if (this.fatal) return finish(false);
        if (this.disconnects) {
          process.stderr.write(`server closed ${this.disconnects} connections during setup\n`);
          return finish(false);
        }
        if (this.joined === this.nconn) return finish(true);
        while (next < this.nconn && next - this.joined < this.options.handshakes) this.startConnect(this.cs[next++]!);
      };
      this.onProgress();
    });
  }

  /** Sends for warm-up + duration: closed loop (a window per sender) or open loop (a rate). */
  private async load(): Promise<void> {
    const { rate, rooms, senders, warmup, duration } = this.options;
    // Let the join announcements settle.
    await sleep(300);
    this.sending = true;
    const start = nowNs();
    const tick = (): void => {
      const t = nowNs();
      if (!this.measuring && t >= start + warmup * 1e9) {
        this.measuring = true;
        this.tMeasure0 = t;
      }
      if (rate <= 0) return;
      for (const c of this.senderConns) {
        if (!c.socket || c.state !== State.Joined) continue;
        const phase = (c.room * senders + c.member) / (rooms * senders);
        const due = Math.floor(((t - start) / 1e9) * rate + phase);
        while (c.sent < due && c.sent - c.acked < OPEN_LOOP_BACKLOG) this.sendMessage(c);
      }
    };
    tick();
    if (rate <= 0) for (const c of this.senderConns) this.topUp(c);
    const ticker = setInterval(tick, 1);
    await sleep((warmup + duration) * 1000);
    clearInterval(ticker);
  }

  private endMeasurement(): void {
    if (!this.measuring) this.tMeasure0 = nowNs();
    this.tMeasure1 = nowNs();
    this.measuring = false;
    this.sending = false;
  }

  /** Waits until every sent message reached the acknowledging member, or the drain time passes. */
  private async drain(): Promise<void> {
    const drainEnd = Date.now() + this.options.drain * 1000;
    while (Date.now() < drainEnd) {
      if (this.senderConns.every((c) => c.acked >= c.sent)) {
        await sleep(200);
        return;
      }
      await sleep(5);
    }
  }

  /** Rooms whose receivers did not all get the same messages in the same order. */
  private divergentRooms(): number {
    const { rooms, members, senders } = this.options;
    let divergent = 0;
    for (let r = 0; r < rooms; r++) {
      const first = this.cs[r * members + senders]!;
      for (let m = senders + 1; m < members; m++) {
        const c = this.cs[r * members + m]!;
        if (c.received !== first.received || c.chain !== first.chain) {
          divergent++;
          break;
        }
      }
    }
    return divergent;
  }

  private result(setupS: number, divergent: number, disconnects: number): DriverResult {
    const { rooms, members, senders, window, rate, size } = this.options;
    const mdur = Math.max((this.tMeasure1 - this.tMeasure0) / 1e9, 1e-9);
    const echo = this.selfReceipts > 0;
    let expected = 0;
    for (const c of this.senderConns) expected += c.sent * (echo ? members : members - 1);
    return {
      proto: 'tcd',
      rooms,
      members,
      senders,
      window,
      rate,
      size,
      setup_s: Math.round(setupS * 1000) / 1000,
      joins_per_s: Math.round(this.nconn / setupS),
      measure_s: Math.round(mdur * 1000) / 1000,
      sent_per_s: Math.round(this.sentMeasured / mdur),
      delivered_per_s: Math.round(this.deliveredMeasured / mdur),
      p50_us: Math.round(this.latency.percentile(0.5)),
      p99_us: Math.round(this.latency.percentile(0.99)),
      p999_us: Math.round(this.latency.percentile(0.999)),
      max_us: Math.round(this.latency.max),
      sent: this.sentTotal,
      delivered: this.deliveredTotal,
      expected,
      lost: expected - this.deliveredTotal,
      order_violations: this.orderViolations,
      order_divergent_rooms: divergent,
      echo: echo ? 1 : 0,
      errors: this.errors,
      disconnects,
    };
  }

  private closeAll(): void {
    this.closing = true;
    for (const c of this.cs) c.socket?.destroy();
  }

  private readonly flushAll = (): void => {
    this.flushScheduled = false;
    for (const c of this.dirty) {
      if (c.socket && c.out) c.socket.write(c.out);
      c.out = '';
    }
    this.dirty.clear();
  };

  private queue(c: Conn, text: string): void {
    c.out += text;
    this.dirty.add(c);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(this.flushAll);
    }
  }

  private sendMessage(c: Conn): void {
    const seq = c.sent + 1;
    let body = marker(nowNs(), c.id, seq);
    if (body.length < this.options.size) body += this.padding.slice(body.length);
    this.queue(c, `CHAT: ${c.roomRef}\nJOIN_ID: ${c.joinId}\nCLIENT_NAME: c${c.id}\nMESSAGE: ${body}\n\n`);
    c.sent = seq;
    this.sentTotal++;
    if (this.measuring) this.sentMeasured++;
  }

  private topUp(c: Conn): void {
    if (!c.socket || c.state !== State.Joined) return;
    while (c.sent - c.acked < this.options.window) this.sendMessage(c);
  }

  private startConnect(c: Conn): void {
    const { host, ports, roomPrefix } = this.options;
    const socket = connect({ host, port: ports[c.id % ports.length]!, noDelay: true });
    c.socket = socket;
    socket.on('connect', () => {
      this.connected++;
      c.state = State.Joining;
      socket.write(`JOIN_CHATROOM: ${roomPrefix}${c.room}\nCLIENT_IP: 0\nPORT: 0\nCLIENT_NAME: c${c.id}\n`);
    });
    socket.on('data', (chunk: Buffer) => this.onData(c, chunk));
    socket.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EMFILE' || error.code === 'ENFILE') this.fatal ??= new DescriptorLimitError(error.message);
      else if (!this.closing) this.errors++;
    });
    socket.on('close', () => {
      c.socket = null;
      if (!this.closing) {
        this.disconnects++;
        this.onProgress?.();
      }
    });
  }

  private onData(c: Conn, chunk: Buffer): void {
    const buf = c.rest ? Buffer.concat([c.rest, chunk]) : chunk;
    const end = buf.lastIndexOf(NEWLINE);
    if (end < 0) {
      c.rest = buf;
      return;
    }
    c.rest = end + 1 < buf.length ? Buffer.from(buf.subarray(end + 1)) : null;
    this.onLines(c, end + 1 === buf.length ? buf : buf.subarray(0, end + 1));
  }

  /** Scans complete lines for message markers (and, while joining, for the join reply). */
  private onLines(c: Conn, buf: Buffer): void {
    if (c.state === State.Joining) {
      const ref = roomRefIn(buf);
      if (ref !== null) c.roomRef = ref;
      const id = joinIdIn(buf);
      if (id !== null) {
        c.joinId = id;
        c.state = State.Joined;
        this.joined++;
        this.onProgress?.();
      }
    }
    if (hasError(buf)) this.errors++;
    eachMarker(buf, c, this.onMessage);
  }

  private readonly onMessage = (c: Conn, sentAt: number, sender: number, seq: number): void => {
    const { members, senders, rate } = this.options;
    if (sender >= this.nconn) return;
    const now = nowNs();
    this.deliveredTotal++;
    c.received++;
    if (sender === c.id) this.selfReceipts++;
    const slot = sender % members;
    if (slot < senders && Math.floor(sender / members) === c.room) {
      if (seq <= c.lastSeq[slot]!) this.orderViolations++;
      c.lastSeq[slot] = seq;
    } else {
      this.orderViolations++;
    }
    c.chain = Math.imul(c.chain ^ (Math.imul(sender, 0x9e3779b1) + seq), 0x01000193) >>> 0;
    if (this.measuring && sentAt >= this.tMeasure0) {
      this.deliveredMeasured++;
      this.latency.record((now - sentAt) / 1000);
    }
    if (c.member === members - 1) {
      const from = this.cs[sender]!;
      from.acked++;
      if (this.sending && rate <= 0) this.topUp(from);
    }
  };
}

export async function runDriver(options: DriverOptions): Promise<DriverOutcome> {
  const { ports, senders, members, size } = options;
  if (ports.length === 0 || senders >= members || size > 3000) throw new RangeError('need --port, senders < members, size <= 3000');
  return new DriverRun(options).run();
}
