import { createCluster } from '@redis/client';
import { NO_CLIENT_TIMEOUT, createRedisClient, redisSocketOptions, type RedisClient } from './redis-client.js';

/**
 * What the cluster link needs of Redis, whether it is one server or a Redis Cluster: commands
 * routed by their first key, room channels (sharded pub/sub on a Redis Cluster, so a room's events
 * stay on its slot's shard), and word of the connection going down and coming back.
 */
export interface RedisPort {
  /** `PUBLISH`, or `SPUBLISH` on a Redis Cluster: what the scripts publish with. */
  readonly publishCommand: 'PUBLISH' | 'SPUBLISH';
  readonly isReady: boolean;
  connect(): Promise<void>;
  /** `signal`: aborted, the command is dropped if the client has not written it yet. */
  send<T>(args: readonly string[], firstKey: string | undefined, signal?: AbortSignal): Promise<T>;
  subscribe(channel: string, listener: (message: string) => void): Promise<void>;
  unsubscribe(channel: string): Promise<void>;
  /** `role` names the connection (commands, subscriber, or a cluster node). */
  onChange(handler: (change: 'down' | 'up', role: string, error?: Error) => void): void;
  /** Calls `handler` once the command path is ready again; returns a way to cancel. */
  onceReady(handler: () => void): () => void;
  close(): Promise<void>;
  destroy(): void;
}

/** Connects to `url` and finds out whether it is a Redis Cluster; returns the port to use. */
export async function openRedisPort(url: string): Promise<RedisPort> {
  const probe = createRedisClient(url, 'chat-node');
  try {
    await probe.connect();
    const info = await probe.sendCommand<string>(['INFO', 'cluster']);
    if (!/cluster_enabled:1/.test(info)) return new SingleRedis(probe, url);
  } catch (error) {
    probe.destroy();
    throw error;
  }
  probe.destroy();
  const port = new ClusterRedis(url);
  return port;
}

class SingleRedis implements RedisPort {
  readonly publishCommand = 'PUBLISH';
  private readonly subscriber: RedisClient;

  constructor(private readonly command: RedisClient, url: string) {
    this.subscriber = createRedisClient(url, 'chat-node-sub');
  }

  get isReady(): boolean {
    return this.command.isReady;
  }

  async connect(): Promise<void> {
    await this.subscriber.connect();
  }

  send<T>(args: readonly string[], _firstKey: string | undefined, signal?: AbortSignal): Promise<T> {
    return this.command.sendCommand<T>(args, signal ? { abortSignal: signal } : undefined);
  }

  subscribe(channel: string, listener: (message: string) => void): Promise<void> {
    return this.subscriber.subscribe(channel, listener);
  }

  unsubscribe(channel: string): Promise<void> {
    return this.subscriber.unsubscribe(channel);
  }

  onChange(handler: (change: 'down' | 'up', role: string, error?: Error) => void): void {
    for (const [client, role] of [[this.command, 'commands'], [this.subscriber, 'subscriber']] as const) {
      client.on('error', (error: Error) => handler('down', role, error));
      client.on('ready', () => handler('up', role));
    }
  }

  onceReady(handler: () => void): () => void {
    this.command.once('ready', handler);
    return () => this.command.off('ready', handler);
  }

  async close(): Promise<void> {
    await Promise.allSettled([this.command.close(), this.subscriber.close()]);
  }

  destroy(): void {
    this.command.destroy();
    this.subscriber.destroy();
  }
}

type Cluster = ReturnType<typeof createCluster>;

class ClusterRedis implements RedisPort {
  readonly publishCommand = 'SPUBLISH';
  private readonly cluster: Cluster;

  constructor(url: string) {
    const { socket, ...rest } = redisSocketOptions(url);
    // Node-to-node addresses come from the cluster itself; the URL is the way in.
    this.cluster = createCluster({
      rootNodes: [{ ...rest, socket }],
      commandOptions: NO_CLIENT_TIMEOUT,
      defaults: { disableOfflineQueue: true, socket: { reconnectStrategy: socket.reconnectStrategy, connectTimeout: socket.connectTimeout } },
    });
  }

  get isReady(): boolean {
    return this.cluster.isReady;
  }

  async connect(): Promise<void> {
    await this.cluster.connect();
  }

  send<T>(args: readonly string[], firstKey: string | undefined, signal?: AbortSignal): Promise<T> {
    return this.cluster.sendCommand<T>(firstKey, false, [...args], signal ? { abortSignal: signal } : undefined);
  }

  subscribe(channel: string, listener: (message: string) => void): Promise<void> {
    return this.cluster.sSubscribe(channel, listener);
  }

  unsubscribe(channel: string): Promise<void> {
    return this.cluster.sUnsubscribe(channel);
  }

  onChange(handler: (change: 'down' | 'up', role: string, error?: Error) => void): void {
    const role = (info: unknown): string => {
      const node = info as { host?: string; port?: number } | undefined;
      return node?.host ? `cluster node ${node.host}:${node.port}` : 'cluster node';
    };
    this.cluster.on('node-error', (error: Error, info: unknown) => handler('down', role(info), error));
    this.cluster.on('node-ready', (info: unknown) => handler('up', role(info)));
  }

  onceReady(handler: () => void): () => void {
    const listener = (): void => {
      if (this.cluster.isReady) {
        this.cluster.off('node-ready', listener);
        handler();
      }
    };
    this.cluster.on('node-ready', listener);
    return () => this.cluster.off('node-ready', listener);
  }

  async close(): Promise<void> {
    await this.cluster.close().catch(() => {});
  }

  destroy(): void {
    this.cluster.destroy();
  }
}
