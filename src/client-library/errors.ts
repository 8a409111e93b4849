import { ERRORS, type ErrorName } from '../protocol/errors.js';

/** The server refused a request: its `ERROR_CODE`, the code's name from the table, its description. */
export class ChatClientError extends Error {
  override readonly name = 'ChatClientError';
  /** The error's name in the protocol's table, or undefined for a code this library does not know. */
  readonly errorName: ErrorName | undefined;

  constructor(readonly code: number, errorName: ErrorName | undefined, readonly description: string) {
    super(`${code} ${errorName ?? 'UNKNOWN'}: ${description}`);
    this.errorName = errorName;
  }

  /** True when the server closes the connection after this error (TOO_LONG, SLOW_CONSUMER, INTERNAL). */
  get closesConnection(): boolean {
    return this.errorName !== undefined && ERRORS[this.errorName].closes;
  }
}

export { ConnectionClosedError } from '../errors.js';
