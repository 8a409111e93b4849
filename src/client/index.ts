export { ChatClient, connect, type SpeakAs } from './chat-client.js';
export { ChatClientError, ConnectionClosedError } from './errors.js';
export type { ChatEvent, HeloReply, Membership } from './events.js';
