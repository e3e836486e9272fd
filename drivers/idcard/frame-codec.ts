// The SAM frame of resident ID card readers (GA 467): the same envelope in both directions,
//   AA AA AA 96 69 | length (2 bytes, big-endian) | body | checksum
// where `length` counts body + checksum and the checksum is the XOR of the two length bytes and the body.
// A command body is `command, parameter, data`; a reply body is `SW1 SW2 SW3, data`.
// This module knows bytes only: the reader and the simulator both use it, each on its own transport.

export const PREAMBLE = Buffer.from([0xaa, 0xaa, 0xaa, 0x96, 0x69]);
/** Preamble + the two length bytes. */
export const HEADER_LENGTH = PREAMBLE.length + 2;
/** The shortest legal `length`: a command's command + parameter + checksum (a reply's is 4). */
export const MIN_LENGTH = 3;
/**
 * The longest `length` accepted by default. The text + photo reply is 0x0508; readers with a fingerprint
 * module send 0x0908 for text + photo + fingerprint; anything much longer is a corrupted length field.
 */
export const DEFAULT_MAX_LENGTH = 0x1000;

export const COMMANDS = {
  samStatus: { command: 0x11, parameter: 0xff },
  findCard: { command: 0x20, parameter: 0x01 },
  selectCard: { command: 0x20, parameter: 0x02 },
  readTextAndPhoto: { command: 0x30, parameter: 0x01 },
} as const;
export type CommandName = keyof typeof COMMANDS;

/** SW3 status bytes of replies (SW1 and SW2 are 00 00 in every status a reader sends). */
export const STATUS = {
  ok: 0x90,
  cardFound: 0x9f,
  noCard: 0x80,
  selectFailed: 0x81,
  checksumError: 0x10,
  lengthError: 0x11,
  unknownCommand: 0x21,
  readFailed: 0x41,
  samSelfTestFailed: 0x60,
  noContent: 0x91,
} as const;

const STATUS_TEXT: Record<number, string> = {
  [STATUS.ok]: 'ok',
  [STATUS.cardFound]: 'card found',
  [STATUS.noCard]: 'no card',
  [STATUS.selectFailed]: 'select failed',
  [STATUS.checksumError]: 'the reader got a frame with a bad checksum',
  [STATUS.lengthError]: 'the reader got a frame with a bad length',
  [STATUS.unknownCommand]: 'unknown command',
  [STATUS.readFailed]: 'read failed',
  [STATUS.samSelfTestFailed]: 'SAM self-test failed',
  [STATUS.noContent]: 'no content',
};

export function describeStatus(sw3: number): string {
  return STATUS_TEXT[sw3] ?? `status 0x${sw3.toString(16).padStart(2, '0')}`;
}

export interface Command {
  command: number;
  parameter: number;
  data?: Buffer;
}

export interface Reply {
  sw1: number;
  sw2: number;
  sw3: number;
  data: Buffer;
}

function xor(bytes: Buffer, start = 0, end = bytes.length): number {
  let x = 0;
  for (let i = start; i < end; i++) x ^= bytes[i] as number;
  return x;
}

/** Wraps a body in preamble, length and checksum. */
export function encodeFrame(body: Buffer): Buffer {
  const length = body.length + 1;
  if (length > 0xffff) throw new RangeError(`frame body of ${body.length} bytes does not fit a length field`);
  const frame = Buffer.alloc(HEADER_LENGTH + length);
  PREAMBLE.copy(frame, 0);
  frame.writeUInt16BE(length, PREAMBLE.length);
  body.copy(frame, HEADER_LENGTH);
  frame[frame.length - 1] = xor(frame, PREAMBLE.length, frame.length - 1);
  return frame;
}

export function encodeCommand(cmd: Command): Buffer {
  return encodeFrame(Buffer.concat([Buffer.from([cmd.command, cmd.parameter]), cmd.data ?? Buffer.alloc(0)]));
}

export function encodeReply(reply: Reply): Buffer {
  return encodeFrame(Buffer.concat([Buffer.from([reply.sw1, reply.sw2, reply.sw3]), reply.data]));
}

/** Reads a frame body as a command; null when it is too short to be one. */
export function parseCommand(body: Buffer): Command | null {
  if (body.length < 2) return null;
  return { command: body[0] as number, parameter: body[1] as number, data: body.subarray(2) };
}

/** Reads a frame body as a reply; null when it is too short to hold the three status bytes. */
export function parseReply(body: Buffer): Reply | null {
  if (body.length < 3) return null;
  return { sw1: body[0] as number, sw2: body[1] as number, sw3: body[2] as number, data: body.subarray(3) };
}

export type FrameErrorKind = 'checksum' | 'short' | 'oversized';

/** What the decoder hands out: a checked frame body, or a frame it had to throw away and why. */
export type DecodedItem =
  { type: 'frame'; body: Buffer } | { type: 'error'; kind: FrameErrorKind; detail: string };

/**
 * Streaming decoder: feed it chunks as they come off the wire (split or coalesced anyhow) and it returns the
 * frames completed so far. Bytes before a preamble are skipped (counted in `skippedBytes`). After a bad frame
 * it resynchronises on the next preamble *after* the bad one's preamble, not after its claimed length,
 * because a corrupted length field would otherwise swallow the good frames behind it.
 */
export class FrameDecoder {
  private buffer = Buffer.alloc(0);
  /** Bytes skipped so far that were not part of a good frame (noise, bad frames, a cut-off tail). */
  skippedBytes = 0;

  constructor(private readonly maxLength = DEFAULT_MAX_LENGTH) {}

  /** Bytes held for a frame not yet complete. */
  get pending(): number {
    return this.buffer.length;
  }

  /** Forgets a partial frame (after a timeout, so its tail is taken as garbage, not as the next reply). */
  reset(): void {
    this.buffer = Buffer.alloc(0);
  }

  push(chunk: Buffer): DecodedItem[] {
    this.buffer = this.buffer.length === 0 ? Buffer.from(chunk) : Buffer.concat([this.buffer, chunk]);
    const out: DecodedItem[] = [];
    for (;;) {
      if (!this.syncToPreamble()) break;
      if (this.buffer.length < HEADER_LENGTH) break;
      const length = this.buffer.readUInt16BE(PREAMBLE.length);
      if (length < MIN_LENGTH) {
        out.push({ type: 'error', kind: 'short', detail: `frame length ${length} is below ${MIN_LENGTH}` });
        this.dropPreamble();
        continue;
      }
      if (length > this.maxLength) {
        out.push({
          type: 'error',
          kind: 'oversized',
          detail: `frame length ${length} is above ${this.maxLength}`,
        });
        this.dropPreamble();
        continue;
      }
      const total = HEADER_LENGTH + length;
      if (this.buffer.length < total) break;
      const expected = xor(this.buffer, PREAMBLE.length, total - 1);
      const actual = this.buffer[total - 1] as number;
      if (expected !== actual) {
        out.push({
          type: 'error',
          kind: 'checksum',
          detail: `checksum 0x${hex(actual)} where the bytes give 0x${hex(expected)}`,
        });
        this.dropPreamble();
        continue;
      }
      out.push({ type: 'frame', body: Buffer.from(this.buffer.subarray(HEADER_LENGTH, total - 1)) });
      this.buffer = this.buffer.subarray(total);
    }
    return out;
  }

  /**
   * Drops bytes before the first preamble; keeps a trailing partial preamble. Returns true when the buffer
   * now starts with a whole preamble.
   */
  private syncToPreamble(): boolean {
    const at = this.buffer.indexOf(PREAMBLE);
    if (at >= 0) {
      this.skip(at);
      return true;
    }
    // Keep the longest tail that could be the start of a preamble split across chunks.
    let keep = Math.min(PREAMBLE.length - 1, this.buffer.length);
    while (keep > 0 && !this.buffer.subarray(this.buffer.length - keep).equals(PREAMBLE.subarray(0, keep)))
      keep--;
    this.skip(this.buffer.length - keep);
    return false;
  }

  private dropPreamble(): void {
    this.skip(1);
  }

  private skip(n: number): void {
    if (n <= 0) return;
    this.skippedBytes += n;
    this.buffer = this.buffer.subarray(n);
  }
}

function hex(n: number): string {
  return n.toString(16).padStart(2, '0');
}
