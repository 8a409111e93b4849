/**
 * The server's and the client library's own errors, apart from the protocol's (whose codes are
 * ERRORS, src/protocol/errors.ts, the `ERROR_CODE` replies). Each class carries a stable `kind`
 * from this one table, for a program to tell them apart without parsing messages; the README's
 * Embedding section lists them.
 */
export const SERVER_ERRORS = {
  BAD_OPTION: 'an option or environment variable has a value the server cannot use (the CLI exits 2)',
  LISTEN_FAILED: 'the port could not be listened on: in use, or no permission (`code`: the system error, e.g. EADDRINUSE)',
  CLUSTER_START_FAILED: 'cluster mode: Redis was not reachable, or refused the node, when it started',
  ADMIN_ENDPOINT_FAILED: 'the admin socket could not be opened: a live daemon holds the path, or it is not a socket',
  ADMIN_LOCATION_REFUSED: 'the admin socket\'s directory or socket is not this user\'s own and private: refused',
  CLUSTER_UNAVAILABLE: 'cluster mode: Redis did not answer within the wait bound (the request is answered UNAVAILABLE)',
  CONNECTION_CLOSED: 'client library: the connection closed (or never opened) before the request was answered',
} as const;

export type ServerErrorKind = keyof typeof SERVER_ERRORS;

/** An error of the server's own, with its kind from SERVER_ERRORS. */
export abstract class ServerError extends Error {
  abstract readonly kind: ServerErrorKind;
}

/** A bad option: the CLI prints its message on one line and exits non-zero. */
export class OptionError extends ServerError {
  override readonly name = 'OptionError';
  readonly kind = 'BAD_OPTION';
}

/** A listen failure (port in use, no permission): a clear one-line message, no stack needed. */
export class ListenError extends ServerError {
  override readonly name = 'ListenError';
  readonly kind = 'LISTEN_FAILED';
  constructor(message: string, readonly code: string | undefined) {
    super(message);
  }
}

/** Cluster mode could not start: Redis not reachable, or refused the node. */
export class ClusterStartError extends ServerError {
  override readonly name = 'ClusterStartError';
  readonly kind = 'CLUSTER_START_FAILED';
}

/** The admin endpoint could not be opened: another live daemon holds the path, or it is not a socket. */
export class AdminEndpointError extends ServerError {
  override readonly name = 'AdminEndpointError';
  readonly kind = 'ADMIN_ENDPOINT_FAILED';
}

/** The admin directory or socket is not this user's: the message is one line for the operator. */
export class AdminLocationError extends ServerError {
  override readonly name = 'AdminLocationError';
  readonly kind = 'ADMIN_LOCATION_REFUSED';
}

/** Redis could not be reached in time: the request gets UNAVAILABLE. */
export class UnavailableError extends ServerError {
  override readonly name = 'UnavailableError';
  readonly kind = 'CLUSTER_UNAVAILABLE';
}

/** The connection closed (or never opened) before the request was answered. */
export class ConnectionClosedError extends ServerError {
  override readonly name = 'ConnectionClosedError';
  readonly kind = 'CONNECTION_CLOSED';
}
