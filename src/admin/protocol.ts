import { connect } from 'node:net';
import type { DumpDocument } from './dump.js';

/**
 * The admin endpoint's wire format: newline-delimited JSON over a local Unix socket. A request is
 * one object with an `op` (and an optional `id`, echoed); each gets exactly one reply line, in
 * order. New operations are new `op` values: old clients and servers keep working.
 */

export type AdminRequest = { readonly op: string; readonly id?: string | number };

export const ADMIN_ERRORS = {
  BAD_REQUEST: 'a request is one JSON object with a string "op" on one line',
  UNKNOWN_OP: 'no such operation',
  TOO_LONG: 'request line over the size limit',
  INTERNAL: 'the operation failed; the fault is logged',
} as const;
export type AdminErrorCode = keyof typeof ADMIN_ERRORS;

export type AdminReply =
  | { readonly ok: true; readonly op: 'dump'; readonly id?: string | number; readonly dump: DumpDocument }
  | { readonly ok: false; readonly id?: string | number; readonly error: { readonly code: AdminErrorCode; readonly message: string } };

/** An admin request is tiny; anything this long is not one. */
export const MAX_ADMIN_REQUEST_BYTES = 64 * 1024;

/** Reads one request line: the request, or the error reply it gets. */
export function parseAdminRequest(line: string): AdminRequest | AdminReply {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return adminError('BAD_REQUEST');
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) return adminError('BAD_REQUEST');
  const { op, id } = value as Record<string, unknown>;
  const echo = typeof id === 'string' || typeof id === 'number' ? id : undefined;
  if (typeof op !== 'string') return adminError('BAD_REQUEST', undefined, echo);
  return echo === undefined ? { op } : { op, id: echo };
}

export function adminError(code: AdminErrorCode, detail?: string, id?: string | number): AdminReply {
  const message = detail ? `${ADMIN_ERRORS[code]}: ${detail}` : ADMIN_ERRORS[code];
  return id === undefined ? { ok: false, error: { code, message } } : { ok: false, id, error: { code, message } };
}

/** No daemon answers at the path: the one-line error the dump command prints. */
export class AdminUnreachable extends Error {
  override readonly name = 'AdminUnreachable';
}

/** Sends one request and resolves with its reply. */
export function askAdmin(path: string, request: AdminRequest, timeoutMs = 10_000): Promise<AdminReply> {
  return new Promise((resolve, reject) => {
    const socket = connect({ path });
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => fail(new AdminUnreachable(`no reply from ${path} within ${timeoutMs} ms`)), timeoutMs);
    const fail = (error: Error): void => {
      clearTimeout(timer);
      socket.destroy();
      reject(error);
    };
    socket.on('connect', () => socket.write(`${JSON.stringify(request)}\n`));
    socket.on('error', (error: NodeJS.ErrnoException) => {
      const unreachable = error.code === 'ENOENT' || error.code === 'ECONNREFUSED' || error.code === 'ENOTSOCK' || error.code === 'EACCES';
      fail(unreachable ? new AdminUnreachable(`no daemon at ${path} (${error.code})`) : error);
    });
    socket.on('data', (chunk: Buffer) => {
      const end = chunk.indexOf(10);
      if (end < 0) {
        chunks.push(chunk);
        return;
      }
      chunks.push(chunk.subarray(0, end));
      clearTimeout(timer);
      socket.destroy();
      try {
        resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')) as AdminReply);
      } catch (error) {
        reject(error instanceof Error ? error : new Error(String(error)));
      }
    });
    socket.on('end', () => fail(new AdminUnreachable(`${path} closed the connection without a reply`)));
  });
}
