import { describe, expect, it } from 'vitest';
import { ClusterStartError, OptionError, startChatServer, type ChatServerHandle, type StartOptions } from '../src/index.js';
import { ClusterKeys } from '../src/cluster/keys.js';
import { createRedisClient } from '../src/cluster/redis-client.js';
import { ORDER_CHATS } from '../src/cluster/scripts.js';
import { renderDump } from '../src/admin/render.js';
import { aliceAndBob, concurrentSenders, expectRead, joinedClient, RawClient, readErrorCode, startCluster, wire } from './helpers.js';
import { redisAvailability, suiteRedis } from './redis-server.js';
import { heloJoinChatLeaveDisconnect, labTesterSequence, spread, unknownRoomError } from './transcript-scenarios.js';
import { ERRORS } from '../src/protocol/errors.js';

const available = redisAvailability() !== 'missing';

describe('cluster mode without a reachable Redis', () => {
  it('refuses to start, with one clear error', async () => {
    await expect(startChatServer({ port: 0, host: '127.0.0.1', logLevel: 'silent', redis: 'unix:///nonexistent/redis.sock' })).rejects.toThrow(ClusterStartError);
    await expect(startChatServer({ port: 0, logLevel: 'silent', redis: 'http://example' })).rejects.toThrow(OptionError);
  });
});

describe.skipIf(!available)('cluster mode: nodes in one process on one Redis', () => {
  const redis = suiteRedis();

  const cluster = (count: number, options: StartOptions = {}): Promise<ChatServerHandle[]> => startCluster(redis.url, count, options);

  /**
   * In one transaction, so before any node can subscribe again: every node's subscriber
   * connection is cut, then bob (join id 1, on `bobsNode`) says each of `texts` in room 0.
   */
  async function chatWhileNobodyListens(bobsNode: ChatServerHandle, texts: string[], logLength: number): Promise<void> {
    const admin = createRedisClient(redis.url, 'test-admin');
    await admin.connect();
    try {
      const keys = new ClusterKeys(bobsNode.options.clusterPrefix);
      const transaction = admin.multi().addCommand(['CLIENT', 'KILL', 'TYPE', 'pubsub']);
      for (const text of texts) transaction.addCommand(['EVAL', ORDER_CHATS.source, '3', ...keys.roomKeys(0), String(logLength), keys.roomChannel(0), 'PUBLISH', '0', 'c', '1', text, '']);
      const [killed] = await transaction.exec();
      expect(killed).toBe(2);
    } finally {
      admin.destroy();
    }
  }

  for (const count of [2, 3]) {
    describe(`protocol.md transcripts with clients spread over ${count} nodes`, () => {
      it('A says HELO and joins; B joins; both chat; B leaves; A disconnects', async () => {
        await heloJoinChatLeaveDisconnect(spread(await cluster(count, { studentId: 'S123' })), 'S123');
      });
      it("runs the lab's automated tester sequence", async () => {
        await labTesterSequence(spread(await cluster(count)));
      });
      it('gets one error reply with the documented code', async () => {
        await unknownRoomError(spread(await cluster(count)));
      });
    });
  }

  it('concurrent senders on different nodes: every member sees one and the same sequence', async () => {
    const nodes = await cluster(3);
    const perSender = 40;
    const senders = [0, 1, 2, 4];
    const { members, sequences } = await concurrentSenders(nodes.map((node) => node.port), 9, senders, perSender);
    for (const sequence of sequences) expect(sequence).toEqual(sequences[0]);
    // Each sender's messages in the order sent.
    for (const s of senders) expect(sequences[0]!.filter((m) => m.startsWith(`${s}:`))).toEqual(Array.from({ length: perSender }, (_, n) => `${s}:${n}`));
    for (const member of members) expect(member.pending()).toBe('');
  });

  it("the dump on any node shows the cluster: live nodes with their leases, and each room's members on every node", async () => {
    const [n1, n2] = await cluster(2);
    await aliceAndBob(n1!.port, n2!.port);
    for (const node of [n1!, n2!]) {
      const { cluster: section } = await node.dump();
      expect(section?.node).toBe(node.cluster!.nodeId);
      expect(section?.error).toBeNull();
      expect(section?.nodes.map((entry) => entry.id)).toEqual([n1!.cluster!.nodeId, n2!.cluster!.nodeId]);
      for (const entry of section!.nodes) expect(entry.leaseExpiresInMs).toBeGreaterThan(0);
      expect(section?.rooms).toEqual([{ ref: 0, name: 'room1', members: [{ joinId: 0, node: n1!.cluster!.nodeId, name: 'alice' }, { joinId: 1, node: n2!.cluster!.nodeId, name: 'bob' }] }]);
    }
    const rendered = renderDump(await n1!.dump());
    expect(rendered).toContain(`ref 0 "room1": 0 alice@node ${n1!.cluster!.nodeId}, 1 bob@node ${n2!.cluster!.nodeId}`);
  });

  it('a join storm across nodes: refs and join ids agree cluster-wide', async () => {
    const nodes = await cluster(3);
    const rooms = ['r0', 'r1', 'r2', 'r3'];
    const clients = await Promise.all(Array.from({ length: 30 }, async (_, i) => {
      const client = await RawClient.connect(nodes[i % 3]!.port);
      client.send(wire.join(rooms[i % rooms.length]!, `c${i}`));
      const reply = await client.readUntil('JOIN_ID: ');
      const joinId = Number(await client.readUntil('\n'));
      return { client, room: rooms[i % rooms.length]!, ref: Number(/ROOM_REF: (\d+)/.exec(reply)![1]), joinId };
    }));
    const refByRoom = new Map<string, Set<number>>();
    for (const { room, ref } of clients) refByRoom.set(room, (refByRoom.get(room) ?? new Set()).add(ref));
    for (const refs of refByRoom.values()) expect(refs.size).toBe(1);
    expect(new Set([...refByRoom.values()].map((refs) => [...refs][0])).size).toBe(rooms.length);
    expect(new Set(clients.map(({ joinId }) => joinId)).size).toBe(clients.length);
  });

  it("chats ordered together (one script call per room per turn) keep their places: a burst, then the sender's leave, in one write", async () => {
    const [n1, n2] = await cluster(2);
    const { a, b } = await aliceAndBob(n1!.port, n2!.port);
    const texts = Array.from({ length: 40 }, (_, i) => `burst ${i}`);
    // bob (join id 1) says 40 lines and leaves, all in one TCP write: the chats are gathered in one
    // turn, and the leave must not overtake them.
    b.send(texts.map((text) => wire.chat(0, 1, 'bob', text)).join('') + wire.leave(0, 1, 'bob'));
    const expected = texts.map((text) => wire.said(0, 'bob', text)).join('') + wire.hasLeft(0, 'bob');
    await expectRead(a, expected);
    await expectRead(b, expected.slice(0, -wire.hasLeft(0, 'bob').length));
    await b.readUntil('JOIN_ID: 1\n');
    expect(a.pending()).toBe('');
  });

  it('a node stopping gracefully: its members leave, announced once on the other nodes', async () => {
    // A lease longer than any wait here: only the stopping node's own announcement can pass.
    const [n1, n2] = await cluster(2, { leaseMs: 120_000 });
    const { a, b } = await aliceAndBob(n1!.port, n2!.port);
    await n2!.stop();
    await expectRead(a, wire.hasLeft(0, 'bob'));
    // The survivor carries on, and the stopped node is gone from the cluster.
    a.send(wire.chat(0, 0, 'alice', 'still here'));
    await expectRead(a, wire.said(0, 'alice', 'still here'));
    expect((await n1!.cluster!.nodes()).map((node) => node.id)).toEqual([n1!.cluster!.nodeId]);
    expect(a.pending()).toBe('');
  });

  it('a node whose lease runs out is found dead: its members are announced gone once', async () => {
    const [n1, n2] = await cluster(2, { leaseMs: 600 });
    const { a, b } = await aliceAndBob(n1!.port, n2!.port);
    // As if the node's process had died: it stops renewing and announces nothing itself.
    n2!.cluster!.simulateCrash();
    await expectRead(a, wire.hasLeft(0, 'bob'));
    a.send(wire.chat(0, 0, 'alice', 'after'));
    await expectRead(a, wire.said(0, 'alice', 'after'));
    expect(a.pending()).toBe('');
  });

  it('Redis paused: requests get UNAVAILABLE after the wait bound, then chat carries on in one order', async (context) => {
    if (!redis.process) context.skip();
    const [n1, n2] = await cluster(2, { redisWaitMs: 400, leaseMs: 5_000 });
    const { a, b } = await aliceAndBob(n1!.port, n2!.port);
    redis.process!.pause();
    try {
      const c = await RawClient.connect(n1!.port);
      c.send(wire.join('room1', 'carol'));
      expect(await readErrorCode(c)).toBe(ERRORS.UNAVAILABLE.code);
      b.send(wire.chat(0, 1, 'bob', 'during the pause'));
      expect(await readErrorCode(b)).toBe(ERRORS.UNAVAILABLE.code);
    } finally {
      redis.process!.resume();
    }
    // Answered UNAVAILABLE, so they never happen: Redis runs them late, and the script refuses.
    b.send(wire.chat(0, 1, 'bob', 'back'));
    await expectRead(a, wire.said(0, 'bob', 'back'));
    await expectRead(b, wire.said(0, 'bob', 'back'));
    expect((await n1!.dump()).cluster?.rooms.map((room) => room.members.map((member) => member.name))).toEqual([['alice', 'bob']]);
  });

  it('a leave while Redis is paused is answered after the wait bound and announced once Redis is back', async (context) => {
    if (!redis.process) context.skip();
    const [n1, n2] = await cluster(2, { redisWaitMs: 400, leaseMs: 5_000 });
    const { a, b } = await aliceAndBob(n1!.port, n2!.port);
    redis.process!.pause();
    try {
      b.send(wire.leave(0, 1, 'bob'));
      await expectRead(b, wire.left(0, 1));
      b.send('HELO still served\n');
      await expectRead(b, wire.helo('still served', n2!.port));
      expect(a.pending()).toBe('');
    } finally {
      redis.process!.resume();
    }
    await expectRead(a, wire.hasLeft(0, 'bob'));
    a.send(wire.chat(0, 0, 'alice', 'after'));
    await expectRead(a, wire.said(0, 'alice', 'after'));
    expect(b.pending()).toBe('');
  });

  it('events missed beyond what the room log keeps: that room\'s members on the node are closed, not shown another order', async () => {
    const [n1, n2] = await cluster(2, { roomLogLength: 10 });
    const { a, b } = await aliceAndBob(n1!.port, n2!.port);
    // Far more events than the log keeps (it is trimmed in whole stream nodes).
    await chatWhileNobodyListens(n2!, Array.from({ length: 400 }, (_, i) => `gone ${i}`), 10);
    for (const client of [a, b]) expect(await client.readToClose()).toMatch(/^ERROR_CODE: 10\nERROR_DESCRIPTION: this node missed events of room 0; reconnect\n$/);
    // The room carries on for whoever joins next, and the closed members were announced gone.
    const c = await joinedClient(n1!.port, 'room1', 'carol');
    c.send(wire.chat(0, 2, 'carol', 'fresh start'));
    await expectRead(c, wire.said(0, 'carol', 'fresh start'));
  });

  it('Redis killed and restarted empty: connections are closed, and ids continue above the old ones', async (context) => {
    if (!redis.process) context.skip();
    const [n1, n2] = await cluster(2, { redisWaitMs: 400, leaseMs: 2_000 });
    const { a, b } = await aliceAndBob(n1!.port, n2!.port);
    await redis.process!.kill();
    await redis.process!.restart();
    // Neither shows an order Redis no longer holds: both connections end (with UNAVAILABLE).
    for (const client of [a, b]) expect(await client.readToClose()).toMatch(/^(ERROR_CODE: 10\nERROR_DESCRIPTION: [^\n]*\n)?$/);
    const c = await RawClient.connect(n2!.port);
    c.send(wire.join('room1', 'carol'));
    const reply = await c.readUntil('\n\n');
    const [, ref, joinId] = /ROOM_REF: (\d+)\nJOIN_ID: (\d+)\n/.exec(reply)!;
    expect(Number(ref)).toBeGreaterThan(0);
    expect(Number(joinId)).toBeGreaterThan(1);
    const d = await joinedClient(n1!.port, 'room1', 'dave', Number(ref));
    await expectRead(c, wire.hasJoined(Number(ref), 'dave'));
    d.send(wire.chat(Number(ref), Number(joinId) + 1, 'dave', 'new epoch'));
    for (const client of [c, d]) await expectRead(client, wire.said(Number(ref), 'dave', 'new epoch'));
  });

  it("a node's subscriber connection killed: it notices and catches up from the room's log", async () => {
    const [n1, n2] = await cluster(2);
    const { a, b } = await aliceAndBob(n1!.port, n2!.port);
    // Published while no node listens: only reading the room's log can bring it.
    await chatWhileNobodyListens(n2!, ['while away'], 100);
    await expectRead(a, wire.said(0, 'bob', 'while away'));
    await expectRead(b, wire.said(0, 'bob', 'while away'));
    b.send(wire.chat(0, 1, 'bob', 'and after'));
    for (const client of [a, b]) await expectRead(client, wire.said(0, 'bob', 'and after'));
  });
});

