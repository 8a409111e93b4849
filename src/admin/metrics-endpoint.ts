import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../log.js';
import type { ServerMetrics } from './metrics.js';

/** What the endpoint asks of the server: whether it should get traffic now. */
export interface Readiness {
  /** null: ready; else why not, in a few words (the 503's body). */
  notReadyBecause(): string | null;
}

export interface MetricsEndpoint {
  readonly host: string;
  readonly port: number;
  close(): Promise<void>;
}

/**
 * The operators' HTTP port: `GET /metrics` (Prometheus text format), `GET /healthz` (the process
 * serves: 200), `GET /readyz` (200 when the server should get traffic, else 503 and why). Bound to
 * loopback unless told otherwise: metrics say who is connected from where in aggregate, and
 * nothing here is authenticated.
 */
export async function openMetricsEndpoint(host: string, port: number, metrics: ServerMetrics, readiness: Readiness, log: Logger): Promise<MetricsEndpoint> {
  const answer = (response: ServerResponse, status: number, body: string, type = 'text/plain; charset=utf-8'): void => {
    response.writeHead(status, { 'Content-Type': type, 'Cache-Control': 'no-store' }).end(body);
  };
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const path = (request.url ?? '/').split('?')[0];
    if (request.method !== 'GET' && request.method !== 'HEAD') return answer(response, 405, 'method not allowed\n');
    if (path === '/healthz') return answer(response, 200, 'ok\n');
    if (path === '/readyz') {
      const why = readiness.notReadyBecause();
      return why === null ? answer(response, 200, 'ready\n') : answer(response, 503, `not ready: ${why}\n`);
    }
    if (path === '/metrics') {
      metrics.registry.metrics().then(
        (text) => answer(response, 200, text, metrics.registry.contentType),
        (err: unknown) => {
          log.error({ err }, 'metrics could not be collected');
          answer(response, 500, 'metrics could not be collected\n');
        },
      );
      return;
    }
    answer(response, 404, 'not found: try /metrics, /healthz or /readyz\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  log.info({ host: address.address, port: address.port }, 'metrics endpoint listening');
  return {
    host: address.address,
    port: address.port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
