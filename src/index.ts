export { startChatServer, ListenError, ClusterStartError, type ChatServerHandle, type StartOptions, type ServerActor } from './server.js';
export { DEFAULTS, OptionError, type ChatServerOptions, type KillServicePolicy } from './config.js';
export * from './protocol/index.js';
export * from './client-library/index.js';
export { DUMP_VERSION, type DumpDocument, type ServerDump, type RoomDump, type ClientDump, type ProcessDump } from './admin/dump.js';
