/**
 * The protocol's error codes: one table used by the encoder, the README and the tests.
 * Codes are fixed by protocol.md; `closes` says whether the server closes the connection
 * after sending the reply.
 */
export const ERRORS = {
  MALFORMED: { code: 1, closes: false, text: 'not a valid request' },
  UNKNOWN_ROOM: { code: 2, closes: false, text: 'no room has this ref' },
  NOT_A_MEMBER: { code: 3, closes: false, text: 'this connection is not in that room' },
  WRONG_JOIN_ID: { code: 4, closes: false, text: 'the join id is not this connection\'s' },
  WRONG_NAME: { code: 5, closes: false, text: 'the client name is not the one this member joined the room with' },
  INVALID_VALUE: { code: 6, closes: false, text: 'a value is not allowed' },
  LIMIT_REACHED: { code: 7, closes: false, text: 'a limit was reached' },
  TOO_LONG: { code: 8, closes: true, text: 'a line or request is over its size limit' },
  NOT_PERMITTED: { code: 9, closes: false, text: 'not permitted' },
  UNAVAILABLE: { code: 10, closes: false, text: 'the shared state cannot be reached; try again' },
  SLOW_CONSUMER: { code: 11, closes: true, text: 'unsent output passed its limit' },
  INTERNAL: { code: 12, closes: true, text: 'internal error; the connection is closed' },
} as const;

export type ErrorName = keyof typeof ERRORS;

/** An error reply about to be sent: which error, and a description specific to this case. */
export interface ProtocolError {
  readonly name: ErrorName;
  readonly description: string;
}

export function protocolError(name: ErrorName, description?: string): ProtocolError {
  return { name, description: description ?? ERRORS[name].text };
}

export function errorNameOf(code: number): ErrorName | undefined {
  for (const [name, entry] of Object.entries(ERRORS)) {
    if (entry.code === code) return name as ErrorName;
  }
  return undefined;
}
