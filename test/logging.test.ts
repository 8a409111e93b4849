import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { waitFor } from 'xstate';
import type { ChatServerHandle } from '../src/index.js';
import { LogBudget, logWithin, type LineLevel, type LineLogger } from '../src/log.js';
import { RawClient, startServer, wire } from './helpers.js';

interface LogLine {
  level: number;
  msg: string;
  conn?: number;
  suppressedToDebug?: number;
}

/** A server whose pino lines (info and up) are kept for the test to read. */
async function loggedServer(): Promise<{ server: ChatServerHandle; port: number; lines: LogLine[] }> {
  const lines: LogLine[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line) as LogLine) });
  const server = await startServer({ logger });
  return { server, port: server.port, lines };
}

describe('logging', () => {
  it('logs connect, join, leave and disconnect at info with the connection id', async () => {
    const { server, port, lines } = await loggedServer();
    const client = await RawClient.connect(port);
    client.send(wire.join('r', 'alice') + wire.leave(0, 0, 'alice') + wire.disconnect('alice'));
    await client.closed;
    await waitFor(server.actor, () => server.inspect.connections() === 0);
    const mine = lines.filter((line) => line.conn === 0).map((line) => line.msg);
    expect(mine).toEqual(['connected', 'joined', 'left', 'disconnected']);
  });

  it('moves one connection\'s join and leave lines to debug past its budget, and says how many', async () => {
    const { port, lines } = await loggedServer();
    const client = await RawClient.connect(port);
    const pairs = 300;
    let burst = '';
    for (let i = 0; i < pairs; i++) burst += wire.join(`r${i % 7}`, 'churn') + wire.leave(i % 7, 0, 'churn');
    const started = Date.now();
    client.send(burst);
    for (let i = 0; i < pairs; i++) await client.readUntil('has left this chatroom.\n\n');
    const seconds = (Date.now() - started) / 1000;
    const membership = lines.filter((line) => line.conn === 0 && (line.msg === 'joined' || line.msg === 'left'));
    // 50 at once, then 10 a second: far fewer than the 600 joins and leaves.
    expect(membership.length).toBeGreaterThanOrEqual(50);
    expect(membership.length).toBeLessThanOrEqual(50 + Math.ceil(seconds * 10) + 1);
    // Once the budget refills, the next line allowed at info says how many went to debug.
    const reported = (): LogLine | undefined => lines.find((line) => line.conn === 0 && line.suppressedToDebug !== undefined);
    for (let ref = 7; !reported() && ref < 10_000; ref++) {
      client.send(wire.join(`later${ref}`, 'churn') + wire.leave(ref, 0, 'churn'));
      await client.readUntil(wire.hasLeft(ref, 'churn'));
    }
    expect(reported()!.suppressedToDebug).toBeGreaterThan(0);
  });

  it('holds every connection to the server\'s shared line budget as well as its own', () => {
    const written: { level: LineLevel; fields: object }[] = [];
    const log: LineLogger = {
      debug: (fields) => written.push({ level: 'debug', fields }),
      info: (fields) => written.push({ level: 'info', fields }),
      warn: (fields) => written.push({ level: 'warn', fields }),
      error: (fields) => written.push({ level: 'error', fields }),
      isLevelEnabled: () => true,
    };
    // No refill within the test: a rate of one line in a thousand seconds.
    const shared = new LogBudget(0.001, 5);
    const connections = Array.from({ length: 4 }, () => new LogBudget(0.001, 2));
    for (const own of connections) for (let line = 0; line < 2; line++) logWithin(own, log, 'info', {}, 'joined', shared);
    // Each connection is within its own budget of 2; together they pass the shared budget of 5.
    expect(written.map((line) => line.level)).toEqual(['info', 'info', 'info', 'info', 'info', 'debug', 'debug', 'debug']);
    // A line the shared budget refused does not count against the connection's own.
    const refused = connections[3]!;
    expect(refused.take()).toBe(true);
    expect(refused.take()).toBe(true);
    expect(refused.take()).toBe(false);
    // The lines either budget moved to debug are counted, each apart, on the next line logged.
    const own = new LogBudget(0.001, 2);
    own.suppressed = 1;
    const roomy = new LogBudget(0.001, 10);
    roomy.suppressed = 2;
    logWithin(own, log, 'info', {}, 'left', roomy);
    expect(written.at(-1)).toEqual({ level: 'info', fields: { suppressedToDebug: 1, serverSuppressedToDebug: 2 } });
    expect([own.suppressed, roomy.suppressed]).toEqual([0, 0]);
  });
});
