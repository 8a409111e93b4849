/**
 * The package's public face: what the README documents, nothing more. The server to embed
 * (Embedding), the client library and the codec it shares with the server (Client library), the
 * protocol's error codes and the server's own errors (Error codes, Embedding), the dump's types
 * (docs/dump.md). Everything else is the server's inside and may change.
 */
export { startChatServer, type ChatServerHandle, type StartOptions, type ServerActor } from './server.js';
export { DEFAULTS, type ChatServerOptions, type KillServicePolicy } from './config.js';
export {
  SERVER_ERRORS,
  ServerError,
  OptionError,
  ListenError,
  ClusterStartError,
  AdminEndpointError,
  AdminLocationError,
  UnavailableError,
  ConnectionClosedError,
  type ServerErrorKind,
} from './errors.js';
export { ChatClient, connect, ChatClientError, type ConnectOptions, type SpeakAs, type RequestLimits, type ChatEvent, type HeloReply, type Membership } from './client-library/index.js';
export { ReplyDecoder, type ServerMessage } from './protocol/replies.js';
export { encodeHeloRequest, encodeJoinRequest, encodeChatRequest, encodeLeaveRequest, encodeDisconnectRequest, encodeKillServiceRequest } from './protocol/encode-requests.js';
export { ERRORS, type ErrorName } from './protocol/errors.js';
export type { ServerInspector } from './admin/inspect.js';
export { DUMP_VERSION, type DumpDocument, type ServerDump, type RoomDump, type ClientDump, type ProcessDump } from './admin/dump.js';
