import { readFileSync } from 'node:fs';
import { createSecureContext, type Server as TlsServer } from 'node:tls';

/** A certificate and its key, read and checked together. */
interface KeyPair {
  readonly cert: Buffer;
  readonly key: Buffer;
}

/** Why a pair could not be used, in a sentence naming the file. */
export class TlsCredentialsError extends Error {}

function readPair(certPath: string, keyPath: string): KeyPair {
  let cert: Buffer;
  let key: Buffer;
  try {
    cert = readFileSync(certPath);
  } catch (error) {
    throw new TlsCredentialsError(`cannot read the TLS certificate ${certPath}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  try {
    key = readFileSync(keyPath);
  } catch (error) {
    throw new TlsCredentialsError(`cannot read the TLS key ${keyPath}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  try {
    // Parses both and checks the key is the certificate's: a bad pair is refused here, not at a handshake.
    createSecureContext({ cert, key });
  } catch (error) {
    throw new TlsCredentialsError(`the TLS certificate ${certPath} and key ${keyPath} cannot be used: ${(error as Error).message}`);
  }
  return { cert, key };
}

/**
 * The server's certificate and key, shared by every TLS listener (lab, IRC, web). `reload()`
 * reads the files again and hands the new pair to every listener: new handshakes use it, and
 * connections already up are not touched. A pair that cannot be used leaves the old one in place.
 */
export class TlsCredentials {
  private pair: KeyPair;
  private readonly servers = new Set<TlsServer>();

  constructor(
    readonly certPath: string,
    readonly keyPath: string,
  ) {
    this.pair = readPair(certPath, keyPath);
  }

  /** What a TLS listener is made with. */
  get current(): KeyPair {
    return this.pair;
  }

  /** A listener to give the new pair to on reload (until it closes). */
  attach(server: TlsServer): void {
    this.servers.add(server);
    server.once('close', () => this.servers.delete(server));
  }

  /** Reads the pair again; throws TlsCredentialsError (the old pair kept) when it cannot be used. */
  reload(): void {
    const pair = readPair(this.certPath, this.keyPath);
    this.pair = pair;
    for (const server of this.servers) server.setSecureContext({ cert: pair.cert, key: pair.key });
  }
}
