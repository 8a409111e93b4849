import { expect, test } from 'vitest';
import { runDriver } from '../bench/driver.js';
import { startServer } from './helpers.js';

test('the Node load driver delivers every message in order', async () => {
  const server = await startServer();
  const { result, ok } = await runDriver({
    host: '127.0.0.1',
    ports: [server.port],
    rooms: 1,
    members: 3,
    senders: 1,
    window: 4,
    rate: 0,
    size: 64,
    duration: 1,
    warmup: 0.2,
    drain: 3,
    roomPrefix: 'bench-test-',
    handshakes: 256,
  });
  expect(ok).toBe(true);
  expect(result.delivered).toBeGreaterThan(0);
  expect(result.delivered_per_s).toBeGreaterThan(0);
  expect(result.lost).toBe(0);
  expect(result.order_violations).toBe(0);
  expect(result.order_divergent_rooms).toBe(0);
  expect(result.errors).toBe(0);
});
