export { OptionError } from './errors.js';
