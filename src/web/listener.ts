import { createServer, type IncomingMessage, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Duplex } from 'node:stream';
import type { Socket } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import type { IrcInput } from '../irc/decoder.js';
import { plainAddress } from '../transport/address.js';
import { socketConnection } from '../transport/connection.js';
import { FlushScheduler } from '../transport/outbound.js';
import { listenReporting, type TcpListenerEvents, type TcpListenerOptions } from '../transport/tcp-listener.js';
import { originAllowed, type OriginPolicy } from './origins.js';
import { loadPage, servePage } from './static-files.js';
import { WebSocketStream } from './websocket-stream.js';

export interface WebListenerOptions extends Omit<TcpListenerOptions<IrcInput>, 'trustedProxies' | 'proxyHeaderTimeoutMs'> {
  /** TLS (HTTPS and WSS) is `tls` from TcpListenerOptions: null for plain HTTP. */
  readonly origins: OriginPolicy;
}

/** The IRCv3 WebSocket subprotocols: one IRC line per message, as text or as binary. */
export const TEXT_SUBPROTOCOL = 'text.ircv3.net';
export const BINARY_SUBPROTOCOL = 'binary.ircv3.net';

/**
 * The largest WebSocket message taken: an IRC line with all its tags (4,094 bytes of client tags,
 * 512 of line) fits with room to spare, and a longer line is answered 417 by the IRC decoder as
 * over TCP. Past this the message is not buffered at all: the WebSocket is closed (1009).
 */
export const MAX_MESSAGE_BYTES = 16 * 1024;

/** How long a browser has to send its request headers (and so its handshake). */
const HEADERS_TIMEOUT_MS = 10_000;

/**
 * The subprotocol to answer with: the text one when asked for (browsers drop a WebSocket whose
 * requested subprotocol the server does not select), else the binary one; none when the client
 * asked for none (it gets text). Asked only for others: none selected, and the browser gives up.
 */
function chooseSubprotocol(offered: Set<string>): string | false {
  if (offered.has(TEXT_SUBPROTOCOL)) return TEXT_SUBPROTOCOL;
  if (offered.has(BINARY_SUBPROTOCOL)) return BINARY_SUBPROTOCOL;
  return false;
}

/** An HTTP answer on a socket not yet a WebSocket (a refused handshake), then the socket's end. */
function refuseUpgrade(socket: Duplex, status: string, text: string): void {
  socket.on('error', () => {});
  socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(text)}\r\n\r\n${text}`);
}

/**
 * The web door: an HTTP server for the chat page and, on any path, WebSocket upgrades that carry
 * IRC. Each admitted WebSocket becomes a connection with the IRC codec, reported as IRC's TCP
 * listener reports its own; the connection limits are the server's, shared with the other doors.
 * Returns the stop function (accepted connections are not touched).
 */
export function listenWeb(options: WebListenerOptions, events: TcpListenerEvents<IrcInput>): () => void {
  const page = loadPage();
  const serve = (request: IncomingMessage, response: Parameters<typeof servePage>[2]): void => servePage(page, request, response);
  const timeouts = { headersTimeout: HEADERS_TIMEOUT_MS, requestTimeout: HEADERS_TIMEOUT_MS };
  let server: Server;
  if (options.tls) {
    const { cert, key } = options.tls.credentials.current;
    const https = createHttpsServer({ ...timeouts, cert, key, handshakeTimeout: options.tls.handshakeTimeoutMs }, serve);
    https.on('tlsClientError', (_error, socket) => socket.destroy());
    options.tls.credentials.attach(https);
    server = https;
  } else server = createServer(timeouts, serve);
  const sockets = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE_BYTES, perMessageDeflate: false, clientTracking: false, handleProtocols: chooseSubprotocol });
  // One for every connection of this door: their writes are flushed together, once a turn.
  const scheduler = new FlushScheduler();
  const { admission } = options;

  const admit = (ws: WebSocket, request: IncomingMessage): void => {
    const raw = request.socket as Socket;
    const address = plainAddress(raw.remoteAddress);
    const refusal = admission.admit(address);
    if (refusal) {
      // In the door's protocol, as IRC over TCP is refused, so the page can say why.
      ws.send(options.refusal(refusal).replace(/\r\n$/, ''));
      ws.close(1013, 'connection limit');
      events.refused(address, refusal);
      return;
    }
    raw.setNoDelay(true);
    const stream = new WebSocketStream(ws, raw, ws.protocol === BINARY_SUBPROTOCOL);
    events.connection(socketConnection(options.ids.next(), stream, scheduler, options.transport, null, admission, 'websocket'));
  };

  server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    if (!originAllowed(options.origins, request.headers.origin, request.headers.host)) {
      refuseUpgrade(socket, '403 Forbidden', 'this origin may not use the chat server\n');
      events.refused(plainAddress((socket as Socket).remoteAddress), `origin ${JSON.stringify(request.headers.origin)} not allowed`);
      return;
    }
    sockets.handleUpgrade(request, socket, head, (ws) => admit(ws, request));
  });
  server.on('clientError', (_error, socket: Duplex) => {
    if (socket.writable) refuseUpgrade(socket, '400 Bad Request', 'bad request\n');
    else socket.destroy();
  });
  listenReporting(server, options, events);
  return () => {
    server.close();
    // Idle keep-alive page requests; upgraded sockets are the connections' own now.
    server.closeIdleConnections();
  };
}
