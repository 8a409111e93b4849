export { ChatClient, connect, type ConnectOptions, type SpeakAs } from './chat-client.js';
export type { RequestLimits } from './values.js';
export { ChatClientError, ConnectionClosedError } from './errors.js';
export type { ChatEvent, HeloReply, Membership } from './events.js';
