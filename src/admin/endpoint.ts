import { chmod, lstat, unlink } from 'node:fs/promises';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { isMainThread } from 'node:worker_threads';
import type { Logger } from 'pino';
import type { DumpDocument } from './dump.js';
import { adminError, MAX_ADMIN_REQUEST_BYTES, parseAdminRequest, type AdminReply, type AdminRequest } from './protocol.js';
import { replyPieces } from './serialize.js';
import { AdminEndpointError } from '../errors.js';

export { AdminEndpointError } from '../errors.js';

/** What the endpoint can answer. One entry per `op`: adding an operation is adding a handler. */
export interface AdminOperations {
  dump(): Promise<DumpDocument>;
}

export interface AdminEndpoint {
  readonly path: string;
  /** Stops listening, drops admin connections and removes the socket file. */
  close(): Promise<void>;
}


/** Opens the admin endpoint: a Unix socket, mode 0600, never a network interface. */
export async function openAdminEndpoint(path: string, operations: AdminOperations, log: Logger): Promise<AdminEndpoint> {
  await clearStaleSocket(path);
  const connections = new Set<Socket>();
  const server = createServer((socket) => {
    connections.add(socket);
    socket.once('close', () => connections.delete(socket));
    serveConnection(socket, operations, log);
  });
  await listenPrivately(server, path);
  return {
    path,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of connections) socket.destroy();
        // Closing a Unix socket server removes its file.
        server.close(() => resolve());
      }),
  };
}

/** A socket file left by a dead daemon is replaced; one a live daemon answers on is not taken. */
async function clearStaleSocket(path: string): Promise<void> {
  const stat = await lstat(path).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return null;
    throw error;
  });
  if (!stat) return;
  if (!stat.isSocket()) throw new AdminEndpointError(`admin socket path ${path} exists and is not a socket`);
  const live = await new Promise<boolean>((resolve) => {
    const probe = connect({ path });
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
  if (live) throw new AdminEndpointError(`admin socket ${path} is in use by a running daemon`);
  await unlink(path).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'ENOENT') throw error;
  });
}

async function listenPrivately(server: Server, path: string): Promise<void> {
  // The file is created by bind(): a umask makes it 0600 from its first instant (umask is
  // process-wide and unavailable in workers, hence the chmod as well).
  const umask = isMainThread ? process.umask(0o177) : null;
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ path }, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } finally {
    if (umask !== null) process.umask(umask);
  }
  await chmod(path, 0o600);
}

/** Newline-delimited requests, answered one at a time in order. */
function serveConnection(socket: Socket, operations: AdminOperations, log: Logger): void {
  let buffered = '';
  let queue = Promise.resolve();
  socket.setEncoding('utf8');
  socket.on('error', () => {});
  socket.on('data', (text: string) => {
    buffered += text;
    let end: number;
    while ((end = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, end).trim();
      buffered = buffered.slice(end + 1);
      if (line === '') continue;
      queue = queue.then(() => answer(line, operations, log)).then((reply) => send(socket, reply));
    }
    if (Buffer.byteLength(buffered) > MAX_ADMIN_REQUEST_BYTES) {
      socket.end(`${JSON.stringify(adminError('TOO_LONG'))}\n`);
      buffered = '';
    }
  });
}

/** Writes a reply piece by piece, yielding to chat after each large one. */
async function send(socket: Socket, reply: AdminReply): Promise<void> {
  for (const piece of replyPieces(reply)) {
    if (socket.destroyed) return;
    socket.write(piece);
    if (piece.length > 16 * 1024) await nextTurn();
  }
}

async function answer(line: string, operations: AdminOperations, log: Logger): Promise<AdminReply> {
  const request = parseAdminRequest(line);
  if ('ok' in request) return request;
  try {
    return await perform(request, operations);
  } catch (err) {
    log.error({ err, op: request.op }, 'admin request failed');
    return adminError('INTERNAL', undefined, request.id);
  }
}

async function perform(request: AdminRequest, operations: AdminOperations): Promise<AdminReply> {
  const id = request.id === undefined ? {} : { id: request.id };
  switch (request.op) {
    case 'dump':
      return { ok: true, op: 'dump', ...id, dump: await operations.dump() };
    default:
      return adminError('UNKNOWN_OP', `"${request.op.slice(0, 64)}" (known: dump)`, request.id);
  }
}
