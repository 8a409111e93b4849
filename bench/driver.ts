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
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { DescriptorLimitError, runDriver, type DriverOptions } from './driver-run.js';

export { DescriptorLimitError, runDriver, type DriverOptions, type DriverOutcome, type DriverResult } from './driver-run.js';

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
      handshakes: { type: 'string', default: '256' },
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
    handshakes: Number(values.handshakes),
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
