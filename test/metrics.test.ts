import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { RawClient, startCluster, startServer, wire } from './helpers.js';
import { ircUser } from './irc-helpers.js';
import { redisAvailability, suiteRedis } from './redis-server.js';

const prometheusFound = spawnSync('prometheus', ['--version'], { stdio: 'ignore' }).status === 0;
if (!prometheusFound && process.env.CI === 'true') throw new Error('the metrics tests need prometheus under CI=true');

async function get(port: number, path: string): Promise<{ status: number; body: string }> {
  const response = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: response.status, body: await response.text() };
}

/** Polls until `read` returns something (the thing waited for happens on its own). */
async function eventually<T>(what: string, read: () => Promise<T | undefined>, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await read();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not in ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0)) child.kill('SIGKILL');
});

describe('metrics and health', () => {
  it('serves /healthz, /readyz and /metrics on loopback, and 404 elsewhere', async () => {
    const server = await startServer({ metricsPort: 0, ircPort: 0, serverName: 'irc.test' });
    expect(await get(server.metricsPort!, '/healthz')).toEqual({ status: 200, body: 'ok\n' });
    expect(await get(server.metricsPort!, '/readyz')).toEqual({ status: 200, body: 'ready\n' });
    const lab = await RawClient.connect(server.port);
    lab.send(wire.join('lobby', 'alice'));
    await lab.readUntil(wire.hasJoined(0, 'alice'));
    const carol = await ircUser(server.ircPort!, 'carol');
    carol.send('FOO bar');
    await carol.expect(':irc.test 421 carol FOO :Unknown command');
    const { status, body } = await get(server.metricsPort!, '/metrics');
    expect(status).toBe(200);
    expect(body).toContain('chat_connections{door="lab",tls="false"} 1');
    expect(body).toContain('chat_connections{door="irc",tls="false"} 1');
    expect(body).toContain('chat_rooms 1');
    expect(body).toContain('chat_deliveries_total 1');
    expect(body).toContain('chat_requests_by_kind_total{protocol="lab",kind="JOIN_CHATROOM"} 1');
    expect(body).toContain('chat_requests_by_kind_total{protocol="irc",kind="NICK"} 1');
    expect(body).toContain('chat_requests_by_kind_total{protocol="irc",kind="other"} 1');
    expect(body).toContain('chat_errors_by_code_total{protocol="irc",code="ERR_UNKNOWNCOMMAND"} 1');
    expect(body).toMatch(/^chat_floods_slowed_total 0$/m);
    expect(body).toMatch(/^chat_event_loop_lag_seconds_bucket\{le="0.01"\} \d+$/m);
    expect(body).toMatch(/^process_resident_memory_bytes \d+/m);
    expect((await get(server.metricsPort!, '/nothing')).status).toBe(404);
  });

  it('counts a room actor\'s failure and restart, and keeps the totals of the room that failed', async () => {
    const server = await startServer({ metricsPort: 0, testHooks: true });
    const a = await RawClient.connect(server.port);
    a.send(wire.join('r', 'a'));
    await a.readUntil(wire.hasJoined(0, 'a'));
    const b = await RawClient.connect(server.port);
    b.send(wire.join('r', 'b'));
    await b.readUntil(wire.hasJoined(0, 'b'));
    server.inspect.roomActor(0)!.send({ type: 'test.fault' });
    a.send(wire.chat(0, 0, 'a', 'after the restart'));
    await b.readUntil(wire.said(0, 'a', 'after the restart'));
    const { body } = await get(server.metricsPort!, '/metrics');
    expect(body).toMatch(/^chat_actor_failures_total 1$/m);
    expect(body).toMatch(/^chat_room_restarts_total 1$/m);
    // 1 + 2 deliveries of the joins before the failure, 2 of the chat after it.
    expect(body).toMatch(/^chat_deliveries_total 5$/m);
  });

  it.runIf(prometheusFound)('is scraped by a real Prometheus, whose queries give the connections and deliveries after known traffic', async () => {
    const server = await startServer({ metricsPort: 0 });
    const clients: RawClient[] = [];
    for (const name of ['a', 'b', 'c']) {
      const client = await RawClient.connect(server.port);
      client.send(wire.join('lobby', name));
      await client.readUntil(wire.hasJoined(0, name));
      clients.push(client);
    }
    for (let i = 1; i <= 5; i++) clients[0]!.send(wire.chat(0, 0, 'a', `message ${i}`));
    for (const client of clients) await client.readUntil(wire.said(0, 'a', 'message 5'));
    // Joins reach 1, 2 and 3 members; five messages reach 3 each.
    const deliveries = 1 + 2 + 3 + 5 * 3;

    const dir = mkdtempSync(join(tmpdir(), 'chat-prometheus-'));
    const config = join(dir, 'prometheus.yml');
    writeFileSync(config, `global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: chat\n    static_configs:\n      - targets: ['127.0.0.1:${server.metricsPort}']\n`);
    const webPort = await freePort();
    const prometheus = spawn('prometheus', [`--config.file=${config}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${webPort}`], { stdio: 'ignore' });
    children.push(prometheus);
    const query = async (expression: string): Promise<string | undefined> => {
      const response = await fetch(`http://127.0.0.1:${webPort}/api/v1/query?query=${encodeURIComponent(expression)}`).catch(() => null);
      if (!response?.ok) return undefined;
      const body = (await response.json()) as { data: { result: { value: [number, string] }[] } };
      return body.data.result[0]?.value[1];
    };
    expect(await eventually('the delivery counter in Prometheus', () => query('chat_deliveries_total{job="chat"}'))).toBe(String(deliveries));
    expect(await query('chat_connections{job="chat",door="lab",tls="false"}')).toBe('3');
    expect(await query('chat_messages_routed_total{job="chat"}')).toBe('5');
    expect(await query('up{job="chat"}')).toBe('1');
  }, 60_000);
});

const redisFound = redisAvailability() !== 'missing';

describe.skipIf(!redisFound)('readiness in cluster mode', () => {
  const redis = suiteRedis();

  it('turns /readyz to 503 while the node cannot reach Redis, and back to 200 when it can', async (context) => {
    if (!redis.process) context.skip();
    const [node] = await startCluster(redis.url, 1, { metricsPort: 0, redisWaitMs: 300 });
    const port = node!.metricsPort!;
    expect((await get(port, '/readyz')).status).toBe(200);
    await redis.process!.kill();
    try {
      const down = await eventually('503 from /readyz', async () => {
        const answer = await get(port, '/readyz');
        return answer.status === 503 ? answer : undefined;
      });
      expect(down.body).toBe('not ready: Redis not reachable (or this node fenced)\n');
      expect((await get(port, '/healthz')).status).toBe(200);
    } finally {
      await redis.process!.restart();
    }
    await eventually('200 from /readyz again', async () => ((await get(port, '/readyz')).status === 200 ? true : undefined));
    const metrics = (await get(port, '/metrics')).body;
    expect(metrics).toContain('chat_cluster_redis_reachable 1');
    expect(metrics).toMatch(/^chat_cluster_redis_command_seconds_count [1-9]\d*$/m);
    expect(metrics).toMatch(/^chat_cluster_unavailable_total \d+$/m);
    expect(metrics).toMatch(/^chat_cluster_lease_renewals_total \d+$/m);
    expect(metrics).toMatch(/^chat_cluster_nodes_alive 1$/m);
  }, 60_000);
});
