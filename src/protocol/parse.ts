import { forgedAfterLineBreak, isForgedContinuation, keywordOf, parseField, type FieldLine, type Keyword } from './fields.js';
import type { Line } from './lines.js';
import type { ChatRequest, Decoded, Request } from './types.js';

/** Where the parser stands inside the current block of lines. */
type Block =
  | { readonly at: 'idle' }
  | { readonly at: 'join'; readonly roomName: string; ignored: number }
  | { readonly at: 'chat'; readonly ref: string; joinId?: string; clientName?: string; message?: string[]; forged: string | null; badUtf8: boolean }
  | { readonly at: 'leave'; readonly ref: string; joinId?: string }
  | { readonly at: 'disconnect'; sawPort: boolean }
  | { readonly at: 'bad'; readonly reason: string };

const IDLE: Block = { at: 'idle' };
const INTEGER = /^[0-9]+$/;

/**
 * Lines → requests: a small state machine over one block of lines at a time (protocol.md,
 * Grammar). A line that does not fit where it stands turns the block into one bad request,
 * answered with one MALFORMED when the block ends; a request keyword always starts a new request.
 */
export class RequestParser {
  private block: Block = IDLE;
  private blockBytes = 0;
  private lineBytes = 0;
  private dead = false;
  /** A block already answered (discarded on the request timeout): its end is dropped, not answered. */
  private silenced: Block | null = null;
  /** Discarded before its first line ended: the next line, unless it starts a request, is its rest. */
  private restOfDiscarded = false;

  constructor(private readonly maxRequestBytes: number) {}

  /**
   * The request under way is discarded (it timed out, and was answered so): the rest of it, should
   * it still come, is read to its end by the same grammar and dropped, not taken for new requests.
   */
  discardCurrent(): void {
    if (this.block.at === 'idle') this.restOfDiscarded = true;
    else this.silenced = this.block;
  }

  /** True while the rest of a discarded request is being read and dropped. */
  isDiscarding(): boolean {
    return this.silenced !== null || this.restOfDiscarded;
  }

  /** Feeds one line; completed requests and failures are appended to `out`. Returns false once dead. */
  line(line: Line, bytes: number, out: Decoded[]): boolean {
    if (this.dead) return false;
    this.lineBytes = bytes;
    const field = line === null ? null : parseField(line);
    const keyword = line === null ? null : keywordOf(line, field);
    // A line that starts a request ends the block before it: it counts for the new one (in `become`).
    if (keyword === null && (this.block.at !== 'idle' || (line !== null && line !== ''))) this.blockBytes += bytes;
    else if (keyword !== null && bytes > this.maxRequestBytes) this.blockBytes = bytes;
    if (this.blockBytes > this.maxRequestBytes) return this.tooLong(out);
    this.consume(line, field, keyword, out);
    return true;
  }

  /** Between requests: no block begun, nothing to remember. */
  isIdle(): boolean {
    return !this.dead && this.block.at === 'idle' && !this.restOfDiscarded;
  }

  /** Bytes of the block being read so far (a partial line not included). */
  bytesInBlock(): number {
    return this.block.at === 'idle' ? 0 : this.blockBytes;
  }

  /** The request limit, passed by a block and a line not yet ended: TOO_LONG at once. */
  tooLong(out: Decoded[]): false {
    this.dead = true;
    out.push({ kind: 'FAILURE', error: 'TOO_LONG', description: `a request is over ${this.maxRequestBytes} bytes` });
    return false;
  }

  /**
   * Whether `line`, taken as ended, would complete what is buffered: a request that then lacks
   * nothing, a CHAT that lacks only its empty line, or the end of a bad block. The quiet-period
   * rule applies only then: a request that lacks more than its terminator keeps waiting.
   */
  completesWith(line: Line): boolean {
    if (this.dead) return false;
    const block = this.block;
    if (block.at === 'bad' || (block.at === 'chat' && block.message !== undefined)) return true;
    if (line === null) return false;
    const field = parseField(line);
    const keyword = keywordOf(line, field);
    if (keyword === 'HELO' || keyword === 'KILL_SERVICE') return true;
    if (keyword !== null) return false;
    switch (block.at) {
      case 'idle':
        // Not a request, or not one yet (`HEL`): wait for more rather than answer a fragment.
        return false;
      case 'join':
      case 'disconnect':
        return field?.name === 'CLIENT_NAME';
      case 'leave':
        return block.joinId !== undefined && field?.name === 'CLIENT_NAME';
      case 'chat':
        return block.clientName !== undefined && field?.name === 'MESSAGE';
    }
  }

  /**
   * The quiet-period rule: nothing more arrived, so a request that lacks only its terminator
   * (a CHAT's closing empty line, or the rest of a bad block) is taken as complete.
   */
  completeOnQuiet(out: Decoded[]): void {
    if (this.dead) return;
    if (this.block.at === 'chat' && this.block.message !== undefined) this.finishChat(this.block, out);
    else if (this.block.at === 'bad') this.fail(this.block.reason, out);
  }

  /** True when the quiet period could complete what is buffered. */
  awaitsOnlyTerminator(): boolean {
    return !this.dead && ((this.block.at === 'chat' && this.block.message !== undefined) || this.block.at === 'bad');
  }

  /** True after a request passed the size limit: the connection is closing. */
  isDead(): boolean {
    return this.dead;
  }


  private consume(line: Line, field: FieldLine | null, keyword: Keyword | null, out: Decoded[]): void {
    if (this.restOfDiscarded) {
      this.restOfDiscarded = false;
      if (keyword === null && line !== '') {
        // The rest of the discarded request's first line: its block runs to its end, unanswered.
        this.become({ at: 'bad', reason: 'the rest of a discarded request' });
        this.silenced = this.block;
        return;
      }
    }
    const block = this.block;
    if (line === null) {
      // Bytes that are not UTF-8: inside a message the block runs on to its empty line.
      if (block.at === 'chat' && block.message !== undefined) block.badUtf8 = true;
      else if (block.at !== 'bad') this.become({ at: 'bad', reason: 'a line is not valid UTF-8' });
      return;
    }
    if (line === '' || keyword !== null) {
      if (block.at === 'chat' && block.message !== undefined) this.finishChat(block, out);
      else if (block.at === 'bad') this.fail(block.reason, out);
      else if (block.at !== 'idle') this.fail(`the ${describe(block)} request ended before its ${missingField(block)} line`, out);
      if (keyword !== null) this.start(keyword, line, field?.value ?? '', out);
      return;
    }
    switch (block.at) {
      case 'idle':
        this.become({ at: 'bad', reason: field ? `unknown request ${field.name}` : 'not a request' });
        return;
      case 'bad':
        return;
      case 'join':
        if (field?.name === 'CLIENT_NAME') return this.emit({ kind: 'JOIN', roomName: block.roomName, clientName: field.value }, out);
        // Clients send CLIENT_IP and PORT in several spellings; their values are ignored.
        if (block.ignored < 2) block.ignored++;
        else this.misplaced(line, 'CLIENT_NAME');
        return;
      case 'chat':
        if (block.message !== undefined) {
          if (block.forged === null && isForgedContinuation(line)) block.forged = line;
          block.message.push(line);
        } else if (block.joinId === undefined) {
          if (field?.name === 'JOIN_ID') block.joinId = field.value;
          else this.misplaced(line, 'JOIN_ID');
        } else if (block.clientName === undefined) {
          if (field?.name === 'CLIENT_NAME') block.clientName = field.value;
          else this.misplaced(line, 'CLIENT_NAME');
        } else if (field?.name === 'MESSAGE') {
          block.message = [field.value];
          if (forgedAfterLineBreak(field.value)) block.forged = field.value;
        }
        else this.misplaced(line, 'MESSAGE');
        return;
      case 'leave':
        if (block.joinId === undefined) {
          if (field?.name === 'JOIN_ID') block.joinId = field.value;
          else this.misplaced(line, 'JOIN_ID');
        } else if (field?.name === 'CLIENT_NAME') this.finishLeave(block.ref, block.joinId, field.value, out);
        else this.misplaced(line, 'CLIENT_NAME');
        return;
      case 'disconnect':
        if (field?.name === 'CLIENT_NAME') return this.emit({ kind: 'DISCONNECT', clientName: field.value }, out);
        if (field?.name === 'PORT' && !block.sawPort) block.sawPort = true;
        else this.misplaced(line, 'CLIENT_NAME');
        return;
    }
  }

  private start(keyword: Keyword, line: string, value: string, out: Decoded[]): void {
    switch (keyword) {
      case 'HELO':
        return this.emit({ kind: 'HELO', line }, out);
      case 'KILL_SERVICE':
        return this.emit({ kind: 'KILL_SERVICE' }, out);
      case 'JOIN_CHATROOM':
        return this.become({ at: 'join', roomName: value, ignored: 0 });
      case 'CHAT':
        return this.become({ at: 'chat', ref: value, forged: null, badUtf8: false });
      case 'LEAVE_CHATROOM':
        return this.become({ at: 'leave', ref: value });
      case 'DISCONNECT':
        return this.become({ at: 'disconnect', sawPort: false });
    }
  }

  private finishChat(block: Extract<Block, { at: 'chat' }>, out: Decoded[]): void {
    const { ref, joinId = '', clientName = '', message = [] } = block;
    if (block.badUtf8) return this.fail('a message line is not valid UTF-8', out);
    if (!INTEGER.test(ref)) return this.fail(`CHAT needs a room ref (a non-negative integer)`, out);
    if (!INTEGER.test(joinId)) return this.fail(`JOIN_ID must be a non-negative integer`, out);
    const roomRef = toInteger(ref);
    const id = toInteger(joinId);
    const tooBig = roomRef === PAST_RANGE || id === PAST_RANGE ? tooBigDigits(ref, joinId) : undefined;
    this.emit({ kind: 'CHAT', roomRef, joinId: id, clientName, message: message.join('\n'), forgedLine: block.forged, tooBig }, out);
  }

  private finishLeave(ref: string, joinId: string, clientName: string, out: Decoded[]): void {
    if (!INTEGER.test(ref)) return this.fail(`LEAVE_CHATROOM needs a room ref (a non-negative integer)`, out);
    if (!INTEGER.test(joinId)) return this.fail(`JOIN_ID must be a non-negative integer`, out);
    this.emit({ kind: 'LEAVE', roomRef: toInteger(ref), joinId: toInteger(joinId), clientName, echo: { roomRef: ref, joinId } }, out);
  }

  private misplaced(line: string, expected: string): void {
    const found = parseField(line)?.name;
    this.become({ at: 'bad', reason: `${describe(this.block)}: expected ${expected}, found ${found ?? 'a line that is not a field'}` });
  }

  private emit(request: Request, out: Decoded[]): void {
    if (!this.endsSilenced()) out.push(request);
    this.become(IDLE);
  }

  private fail(description: string, out: Decoded[]): void {
    if (!this.endsSilenced()) out.push({ kind: 'FAILURE', error: 'MALFORMED', description });
    this.become(IDLE);
  }

  /** Whether the block ending now is a discarded one (already answered). */
  private endsSilenced(): boolean {
    const silenced = this.silenced !== null && this.silenced === this.block;
    this.silenced = null;
    return silenced;
  }

  private become(block: Block): void {
    // A request keyword may end one block and start the next: its line counts for the new one.
    if (block.at === 'idle') this.blockBytes = 0;
    else if (this.block.at === 'idle') this.blockBytes = this.lineBytes;
    this.block = block;
  }
}

/** The number a ref or id past 2^53 − 1 becomes: unequal to any real one, which is all it needs. */
const PAST_RANGE = Number.MAX_SAFE_INTEGER;

function toInteger(digits: string): number {
  const value = Number(digits);
  return Number.isSafeInteger(value) ? value : PAST_RANGE;
}

/** The digits of whichever of the two is past the range, as sent. */
function tooBigDigits(ref: string, joinId: string): NonNullable<ChatRequest['tooBig']> {
  return { roomRef: isPastRange(ref) ? ref : undefined, joinId: isPastRange(joinId) ? joinId : undefined };
}

function isPastRange(digits: string): boolean {
  return !Number.isSafeInteger(Number(digits));
}

function describe(block: Block): string {
  switch (block.at) {
    case 'join': return 'JOIN_CHATROOM';
    case 'chat': return 'CHAT';
    case 'leave': return 'LEAVE_CHATROOM';
    case 'disconnect': return 'DISCONNECT';
    default: return 'the';
  }
}

function missingField(block: Block): string {
  switch (block.at) {
    case 'join': return 'CLIENT_NAME';
    case 'chat': return block.joinId === undefined ? 'JOIN_ID' : block.clientName === undefined ? 'CLIENT_NAME' : 'MESSAGE';
    case 'leave': return block.joinId === undefined ? 'JOIN_ID' : 'CLIENT_NAME';
    case 'disconnect': return 'CLIENT_NAME';
    default: return 'last';
  }
}
