export * from './types.js';
export * from './errors.js';
export * from './encode.js';
export * from './values.js';
export { RequestDecoder, type DecoderLimits } from './decoder.js';
