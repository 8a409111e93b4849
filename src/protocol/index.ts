export * from './types.js';
export * from './errors.js';
export * from './encode.js';
export * from './values.js';
export { RequestDecoder, type DecoderLimits } from './decoder.js';
export * from './encode-requests.js';
export { ReplyDecoder, MAX_REPLY_LINE_BYTES, type ServerMessage } from './replies.js';
