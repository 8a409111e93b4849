/** A bad option: the CLI prints its message on one line and exits non-zero. */
export class OptionError extends Error {
  override readonly name = 'OptionError';
}
