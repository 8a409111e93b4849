/**
 * The project's own load driver: chatload (../shared/bench/chatload.c) rewritten on plain
 * node:net, so that `npm run bench` works from a clean clone. Same options, same workload, same
 * one-line JSON output. It is slower than chatload (one JavaScript thread that shares the cores
 * with the server), so its figures are lower bounds of what the server can do.
 *
 * Workload: R rooms × M members; the first S members of each room send. Every message body
 * carries `~T<ns>~S<sender>~Q<seq>~`, so receivers measure latency and check per-sender order by
 * scanning for that marker, without parsing the protocol. Closed loop (`--window W`: each sender
 * keeps at most W messages in flight, acknowledged when the room's last member receives them) or
 * open loop (`--rate X` messages/s per sender, phases spread evenly).
 *
 *   node dist/bench/driver.js --port P [--rooms R --members M --senders S --window W | --rate X]
 *        [--size B] [--duration S] [--warmup S] [--drain S] [--room-prefix P] [--host H] [--ports P1,P2]
 */
import { connect, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

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
}

/** chatload's JSON line, field for field. */
export interface DriverResult {
  proto: 'tcd';
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

const NB = 2048;
const MAX_PENDING_CONNECTS = 256;
const SETUP_TIMEOUT_MS = 60_000;
const TILDE_T = Buffer.from('~T');
const ROOM_REF = Buffer.from('ROOM_REF:');
const JOIN_ID = Buffer.from('JOIN_ID:');
const ERROR_CODE = Buffer.from('ERROR_CODE:');
const TILDE = 0x7e;
const NEWLINE = 0x0a;

const nowNs = (): number => Math.round(performance.now() * 1e6);
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const bucket = (us: number): number => Math.min(NB - 1, Math.floor(Math.log2(Math.max(us, 1)) * 64));
const bucketUs = (b: number): number => 2 ** ((b + 1) / 64);

/** Reads the decimal number at `at`; returns [value, index after it] or null if none is there. */
function digits(buf: Buffer, at: number): [number, number] | null {
  let i = at;
  let value = 0;
  while (i < buf.length) {
    const d = buf[i]! - 0x30;
    if (d < 0 || d > 9) break;
    value = value * 10 + d;
    i++;
  }
  return i === at ? null : [value, i];
}

/** The integer after `label` in `text` (as in `ROOM_REF: 3`), or null. */
function field(buf: Buffer, label: Buffer): number | null {
  const at = buf.indexOf(label);
  if (at < 0) return null;
  let i = at + label.length;
  while (buf[i] === 0x20) i++;
  return digits(buf, i)?.[0] ?? null;
}

export async function runDriver(options: DriverOptions): Promise<DriverOutcome> {
  const { rooms, members, senders, window, rate, size, roomPrefix, host, ports } = options;
  if (ports.length === 0 || senders >= members || size > 3000) throw new RangeError('need --port, senders < members, size <= 3000');
  const nconn = rooms * members;
  const hist = new Float64Array(NB);
  const padding = 'x'.repeat(size);
  let latMax = 0;
  let measuring = false;
  let sending = false;
  let tMeasure0 = 0;
  let deliveredMeasured = 0;
  let deliveredTotal = 0;
  let sentTotal = 0;
  let sentMeasured = 0;
  let orderViolations = 0;
  let selfReceipts = 0;
  let errors = 0;
  let disconnects = 0;
  let connected = 0;
  let joined = 0;
  let closing = false;
  let fatal: Error | null = null;
  let onProgress: (() => void) | null = null;

  const cs: Conn[] = Array.from({ length: nconn }, (_, id) => ({
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
  const senderConns = cs.filter((c) => c.member < senders);

  // Writes are gathered and handed to the sockets once per turn of the event loop.
  const dirty = new Set<Conn>();
  let flushScheduled = false;
  const flushAll = (): void => {
    flushScheduled = false;
    for (const c of dirty) {
      if (c.socket && c.out) c.socket.write(c.out);
      c.out = '';
    }
    dirty.clear();
  };
  const queue = (c: Conn, text: string): void => {
    c.out += text;
    dirty.add(c);
    if (!flushScheduled) {
      flushScheduled = true;
      setImmediate(flushAll);
    }
  };
  const sendMessage = (c: Conn): void => {
    const seq = c.sent + 1;
    let body = `~T${nowNs()}~S${c.id}~Q${seq}~`;
    if (body.length < size) body += padding.slice(body.length);
    queue(c, `CHAT: ${c.roomRef}\nJOIN_ID: ${c.joinId}\nCLIENT_NAME: c${c.id}\nMESSAGE: ${body}\n\n`);
    c.sent = seq;
    sentTotal++;
    if (measuring) sentMeasured++;
  };
  const topUp = (c: Conn): void => {
    if (!c.socket || c.state !== State.Joined) return;
    while (c.sent - c.acked < window) sendMessage(c);
  };

  /** Scans complete lines for message markers (and, while joining, for the join reply). */
  const onLines = (c: Conn, buf: Buffer): void => {
    if (c.state === State.Joining) {
      const ref = field(buf, ROOM_REF);
      if (ref !== null) c.roomRef = ref;
      const id = field(buf, JOIN_ID);
      if (id !== null) {
        c.joinId = id;
        c.state = State.Joined;
        joined++;
        onProgress?.();
      }
    }
    if (buf.indexOf(ERROR_CODE) >= 0) errors++;
    let at = buf.indexOf(TILDE_T);
    while (at >= 0) {
      const t = digits(buf, at + 2);
      const s = t && buf[t[1]] === TILDE && buf[t[1] + 1] === 0x53 ? digits(buf, t[1] + 2) : null;
      const q = s && buf[s[1]] === TILDE && buf[s[1] + 1] === 0x51 ? digits(buf, s[1] + 2) : null;
      if (t && s && q && buf[q[1]] === TILDE && s[0] < nconn) {
        const [sentAt] = t;
        const [sender] = s;
        const [seq] = q;
        const now = nowNs();
        deliveredTotal++;
        c.received++;
        if (sender === c.id) selfReceipts++;
        const slot = sender % members;
        if (slot < senders && Math.floor(sender / members) === c.room) {
          if (seq <= c.lastSeq[slot]!) orderViolations++;
          c.lastSeq[slot] = seq;
        } else {
          orderViolations++;
        }
        c.chain = Math.imul(c.chain ^ (Math.imul(sender, 0x9e3779b1) + seq), 0x01000193) >>> 0;
        if (measuring && sentAt >= tMeasure0) {
          deliveredMeasured++;
          const us = (now - sentAt) / 1000;
          hist[bucket(us)]!++;
          if (us > latMax) latMax = us;
        }
        if (c.member === members - 1) {
          const from = cs[sender]!;
          from.acked++;
          if (sending && rate <= 0) topUp(from);
        }
        at = buf.indexOf(TILDE_T, q[1]);
      } else {
        at = buf.indexOf(TILDE_T, at + 2);
      }
    }
  };

  const onData = (c: Conn, chunk: Buffer): void => {
    const buf = c.rest ? Buffer.concat([c.rest, chunk]) : chunk;
    const end = buf.lastIndexOf(NEWLINE);
    if (end < 0) {
      c.rest = buf;
      return;
    }
    c.rest = end + 1 < buf.length ? Buffer.from(buf.subarray(end + 1)) : null;
    onLines(c, end + 1 === buf.length ? buf : buf.subarray(0, end + 1));
  };

  const startConnect = (c: Conn): void => {
    const socket = connect({ host, port: ports[c.id % ports.length]!, noDelay: true });
    c.socket = socket;
    socket.on('connect', () => {
      connected++;
      c.state = State.Joining;
      socket.write(`JOIN_CHATROOM: ${roomPrefix}${c.room}\nCLIENT_IP: 0\nPORT: 0\nCLIENT_NAME: c${c.id}\n`);
    });
    socket.on('data', (chunk: Buffer) => onData(c, chunk));
    socket.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EMFILE' || error.code === 'ENFILE') fatal ??= new DescriptorLimitError(error.message);
      else if (!closing) errors++;
    });
    socket.on('close', () => {
      c.socket = null;
      if (!closing) {
        disconnects++;
        onProgress?.();
      }
    });
  };

  const t0 = nowNs();
  // Connect with at most 256 connections not yet joined; join as connections complete.
  let next = 0;
  const setupDone = await new Promise<boolean>((resolve) => {
    const finish = (ok: boolean): void => {
      clearTimeout(timer);
      clearInterval(poll);
      onProgress = null;
      resolve(ok);
    };
    const timer = setTimeout(() => {
      process.stderr.write(`setup timed out: ${connected} connected, ${joined} joined of ${nconn}\n`);
      finish(false);
    }, SETUP_TIMEOUT_MS);
    // Descriptor errors arrive on sockets that never connect: look for them now and then.
    const poll = setInterval(() => {
      if (fatal) finish(false);
    }, 50);
    onProgress = (): void => {
      if (fatal) return finish(false);
      if (disconnects) {
        process.stderr.write(`server closed ${disconnects} connections during setup\n`);
        return finish(false);
      }
      if (joined === nconn) return finish(true);
      while (next < nconn && next - joined < MAX_PENDING_CONNECTS) startConnect(cs[next++]!);
    };
    onProgress();
  });
  const closeAll = (): void => {
    closing = true;
    for (const c of cs) c.socket?.destroy();
  };
  if (fatal) {
    closeAll();
    throw fatal;
  }
  const setupS = (nowNs() - t0) / 1e9;

  if (setupDone) {
    // Let the join announcements settle.
    await sleep(300);
    sending = true;
    const start = nowNs();
    const tick = (): void => {
      const t = nowNs();
      if (!measuring && t >= start + options.warmup * 1e9) {
        measuring = true;
        tMeasure0 = t;
      }
      if (rate > 0) {
        for (let k = 0; k < senderConns.length; k++) {
          const c = senderConns[k]!;
          if (!c.socket || c.state !== State.Joined) continue;
          const phase = (c.room * senders + c.member) / (rooms * senders);
          const due = Math.floor(((t - start) / 1e9) * rate + phase);
          while (c.sent < due && c.sent - c.acked < 100_000) sendMessage(c);
        }
      }
    };
    tick();
    if (rate <= 0) for (const c of senderConns) topUp(c);
    const ticker = setInterval(tick, 1);
    await sleep((options.warmup + options.duration) * 1000);
    clearInterval(ticker);
    if (!measuring) {
      measuring = true;
      tMeasure0 = nowNs();
    }
  }
  const tMeasure1 = nowNs();
  measuring = false;
  sending = false;
  const measuredDelivered = deliveredMeasured;
  const mdur = Math.max((tMeasure1 - tMeasure0) / 1e9, 1e-9);
  // Drain: wait until every sent message reached the acknowledging member, or the drain time passes.
  const drainEnd = Date.now() + options.drain * 1000;
  while (setupDone && Date.now() < drainEnd) {
    if (senderConns.every((c) => c.acked >= c.sent)) {
      await sleep(200);
      break;
    }
    await sleep(5);
  }
  const echo = selfReceipts > 0;
  let expected = 0;
  for (const c of senderConns) expected += c.sent * (echo ? members : members - 1);
  let divergent = 0;
  for (let r = 0; r < rooms; r++) {
    const first = cs[r * members + senders]!;
    for (let m = senders + 1; m < members; m++) {
      const c = cs[r * members + m]!;
      if (c.received !== first.received || c.chain !== first.chain) {
        divergent++;
        break;
      }
    }
  }
  const failedDuringRun = disconnects;
  closeAll();
  const total = hist.reduce((a, b) => a + b, 0);
  const pct = (p: number): number => {
    if (!total) return 0;
    const k = Math.ceil(p * total);
    let c = 0;
    for (let i = 0; i < NB; i++) {
      c += hist[i]!;
      if (c >= k) return bucketUs(i);
    }
    return bucketUs(NB - 1);
  };
  const result: DriverResult = {
    proto: 'tcd',
    rooms,
    members,
    senders,
    window,
    rate,
    size,
    setup_s: Math.round(setupS * 1000) / 1000,
    joins_per_s: Math.round(nconn / setupS),
    measure_s: Math.round(mdur * 1000) / 1000,
    sent_per_s: Math.round(sentMeasured / mdur),
    delivered_per_s: Math.round(measuredDelivered / mdur),
    p50_us: Math.round(pct(0.5)),
    p99_us: Math.round(pct(0.99)),
    p999_us: Math.round(pct(0.999)),
    max_us: Math.round(latMax),
    sent: sentTotal,
    delivered: deliveredTotal,
    expected,
    lost: expected - deliveredTotal,
    order_violations: orderViolations,
    order_divergent_rooms: divergent,
    echo: echo ? 1 : 0,
    errors,
    disconnects: failedDuringRun,
  };
  return { result, ok: setupDone && joined === nconn && failedDuringRun === 0 };
}

/** Parses chatload's command line. */
export function parseDriverArgs(argv: string[]): DriverOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      proto: { type: 'string', default: 'tcd' },
      host: { type: 'string', default: '127.0.0.1' },
      port: { type: 'string' },
      ports: { type: 'string' },
      rooms: { type: 'string', default: '1' },
      members: { type: 'string', default: '10' },
      senders: { type: 'string', default: '1' },
      window: { type: 'string', default: '8' },
      size: { type: 'string', default: '64' },
      duration: { type: 'string', default: '5' },
      warmup: { type: 'string', default: '1' },
      rate: { type: 'string', default: '0' },
      drain: { type: 'string', default: '3' },
      'room-prefix': { type: 'string', default: 'room' },
    },
  });
  if (values.proto !== 'tcd') throw new RangeError('the Node driver speaks only --proto tcd');
  const ports = (values.ports ?? values.port ?? '')
    .split(',')
    .filter((p) => p !== '')
    .map(Number);
  return {
    host: values.host,
    ports,
    rooms: Number(values.rooms),
    members: Number(values.members),
    senders: Number(values.senders),
    window: Number(values.window),
    rate: Number(values.rate),
    size: Number(values.size),
    duration: Number(values.duration),
    warmup: Number(values.warmup),
    drain: Number(values.drain),
    roomPrefix: values['room-prefix'],
  };
}

async function main(): Promise<number> {
  let options: DriverOptions;
  try {
    options = parseDriverArgs(process.argv.slice(2));
    const outcome = await runDriver(options);
    process.stdout.write(`${JSON.stringify(outcome.result)}\n`);
    return outcome.ok ? 0 : 1;
  } catch (error) {
    if (error instanceof DescriptorLimitError) {
      process.stderr.write(`driver: out of file descriptors (${error.message}): raise \`ulimit -n\` (one connection is one descriptor)\n`);
      return 3;
    }
    process.stderr.write(`driver: ${error instanceof Error ? error.message : String(error)}\n`);
    return 2;
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  void main().then((code) => {
    process.exitCode = code;
    // Sockets may linger in the close handshake; the result is printed.
    setImmediate(() => process.exit(code));
  });
}
