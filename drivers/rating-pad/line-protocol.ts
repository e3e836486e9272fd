// The `line` profile of serial rating pads (see README.md in this folder): ASCII frames
// `$BODY*HH\r\n`, BODY = comma-separated fields, HH = XOR of BODY's bytes in hex (the NMEA 0183 checksum).
// Framing (bytes ⇄ field lists) and the messages of both directions live here; the driver and the simulator
// share them.

/** Longest frame accepted, `$` to LF: a longer run without LF is noise and is dropped. */
export const MAX_LINE = 200;

export type LineItem =
  | { type: 'frame'; fields: string[] }
  | { type: 'error'; kind: 'checksum' | 'malformed' | 'overlong'; detail: string };

export function checksum(body: string): number {
  let x = 0;
  for (const b of Buffer.from(body, 'latin1')) x ^= b;
  return x;
}

/** One frame from its fields. Fields are printable ASCII without `$`, `*` or `,`. */
export function encodeLine(fields: readonly string[]): Buffer {
  for (const f of fields) {
    if (!/^[\x20-\x7e]*$/.test(f) || /[$*,]/.test(f)) {
      throw new RangeError(`field ${JSON.stringify(f)} cannot go into a frame`);
    }
  }
  const body = fields.join(',');
  const sum = checksum(body).toString(16).toUpperCase().padStart(2, '0');
  return Buffer.from(`$${body}*${sum}\r\n`, 'latin1');
}

/** Cuts a byte stream into frames, whatever the chunking; bytes before a `$` are noise and skipped. */
export class LineDecoder {
  private buffer = '';
  private overlong = false;

  push(chunk: Buffer): LineItem[] {
    const items: LineItem[] = [];
    this.buffer += chunk.toString('latin1');
    for (;;) {
      const lf = this.buffer.indexOf('\n');
      if (lf < 0) break;
      const line = this.buffer.slice(0, lf);
      this.buffer = this.buffer.slice(lf + 1);
      if (this.overlong) {
        // The end of a line already reported as too long.
        this.overlong = false;
        continue;
      }
      items.push(...parseLine(line));
    }
    if (this.buffer.length > MAX_LINE) {
      items.push({ type: 'error', kind: 'overlong', detail: `no line end within ${MAX_LINE} bytes` });
      this.buffer = '';
      this.overlong = true;
    }
    return items;
  }

  reset(): void {
    this.buffer = '';
    this.overlong = false;
  }
}

function parseLine(raw: string): LineItem[] {
  // Text before the first `$` is noise; a `$` inside starts a new frame, the one before it was cut off
  // (a pad reset mid-frame).
  const [, ...starts] = raw.replace(/\r$/, '').split('$');
  return starts.map((frame, i) =>
    i < starts.length - 1
      ? { type: 'error', kind: 'malformed', detail: `cut-off frame: ${JSON.stringify('$' + frame)}` }
      : parseFrame('$' + frame),
  );
}

function parseFrame(line: string): LineItem {
  const m = /^\$([^$*]*)\*([0-9A-Fa-f]{2})$/.exec(line);
  if (!m) return { type: 'error', kind: 'malformed', detail: `not a frame: ${JSON.stringify(line)}` };
  const body = m[1] ?? '';
  const sent = Number.parseInt(m[2] ?? '', 16);
  const sum = checksum(body);
  if (sent !== sum) {
    return {
      type: 'error',
      kind: 'checksum',
      detail: `checksum ${hex(sent)} of ${JSON.stringify(body)} should be ${hex(sum)}`,
    };
  }
  return { type: 'frame', fields: body.split(',') };
}

function hex(n: number): string {
  return n.toString(16).toUpperCase().padStart(2, '0');
}

// Messages. Host → pad: ID, LIGHT, BEEP, SHOW, ACK of a key. Pad → host: ID reply, ACK, NAK, KEY.

export const NAK_REASONS = ['CHECKSUM', 'UNKNOWN', 'RANGE', 'UNSUPPORTED'] as const;
export type NakReason = (typeof NAK_REASONS)[number];

/** Capability letters in the ID reply. */
export interface PadCapabilities {
  /** `L`: the keys can be lit. */
  light: boolean;
  /** `B`: a beeper. */
  beep: boolean;
  /** `D`: a text display. */
  display: boolean;
}

export const MAX_BEEP_MS = 2000;
/** Display text travels as hex UTF-8: 60 bytes of text (20 Chinese characters) keep the frame short. */
export const MAX_SHOW_BYTES = 60;

export type HostCommand =
  | { type: 'identify' }
  | { type: 'light'; on: boolean }
  | { type: 'beep'; ms: number }
  | { type: 'show'; text: string }
  | { type: 'ack-key'; seq: number };

export type PadMessage =
  | { type: 'id'; model: string; serial: string; firmware: string; capabilities: PadCapabilities }
  | { type: 'ack'; command: string }
  | { type: 'nak'; command: string; reason: string }
  | { type: 'key'; key: string; seq: number };

export function encodeCommand(cmd: HostCommand): Buffer {
  switch (cmd.type) {
    case 'identify':
      return encodeLine(['ID']);
    case 'light':
      return encodeLine(['LIGHT', cmd.on ? '1' : '0']);
    case 'beep':
      return encodeLine(['BEEP', String(cmd.ms)]);
    case 'show': {
      const bytes = Buffer.from(cmd.text, 'utf8');
      if (bytes.length > MAX_SHOW_BYTES) {
        throw new RangeError(`display text is ${bytes.length} bytes of UTF-8, at most ${MAX_SHOW_BYTES}`);
      }
      return encodeLine(['SHOW', bytes.toString('hex').toUpperCase()]);
    }
    case 'ack-key':
      return encodeLine(['ACK', 'KEY', String(cmd.seq)]);
  }
}

/** A host command, or a NAK reason when the frame is not one the profile knows. */
export function parseCommand(fields: readonly string[]): HostCommand | { error: NakReason; command: string } {
  const [name = '', a, b] = fields;
  switch (name) {
    case 'ID':
      return fields.length === 1 ? { type: 'identify' } : { error: 'RANGE', command: name };
    case 'LIGHT':
      return a === '0' || a === '1' ? { type: 'light', on: a === '1' } : { error: 'RANGE', command: name };
    case 'BEEP': {
      const ms = Number(a);
      return a && /^[0-9]+$/.test(a) && ms >= 1 && ms <= MAX_BEEP_MS
        ? { type: 'beep', ms }
        : { error: 'RANGE', command: name };
    }
    case 'SHOW':
      return a !== undefined && /^([0-9A-Fa-f]{2})*$/.test(a) && a.length / 2 <= MAX_SHOW_BYTES
        ? { type: 'show', text: Buffer.from(a, 'hex').toString('utf8') }
        : { error: 'RANGE', command: name };
    case 'ACK':
      return a === 'KEY' && b !== undefined && isSeq(b)
        ? { type: 'ack-key', seq: Number(b) }
        : { error: 'RANGE', command: name };
    default:
      return { error: 'UNKNOWN', command: name };
  }
}

export function encodePadMessage(msg: PadMessage): Buffer {
  switch (msg.type) {
    case 'id': {
      const c = msg.capabilities;
      const caps = `${c.light ? 'L' : ''}${c.beep ? 'B' : ''}${c.display ? 'D' : ''}`;
      return encodeLine(['ID', msg.model, msg.serial, msg.firmware, caps]);
    }
    case 'ack':
      return encodeLine(['ACK', msg.command]);
    case 'nak':
      return encodeLine(['NAK', msg.command, msg.reason]);
    case 'key':
      return encodeLine(['KEY', msg.key, String(msg.seq)]);
  }
}

/** A pad message, or undefined for a frame this profile does not define (ignored by the host). */
export function parsePadMessage(fields: readonly string[]): PadMessage | undefined {
  const [name, a = '', b = '', c = '', d = ''] = fields;
  switch (name) {
    case 'ID':
      return fields.length === 5
        ? {
            type: 'id',
            model: a,
            serial: b,
            firmware: c,
            capabilities: { light: d.includes('L'), beep: d.includes('B'), display: d.includes('D') },
          }
        : undefined;
    case 'ACK':
      return fields.length === 2 ? { type: 'ack', command: a } : undefined;
    case 'NAK':
      return fields.length === 3 ? { type: 'nak', command: a, reason: b } : undefined;
    case 'KEY':
      return fields.length === 3 && /^[0-9A-Za-z]{1,2}$/.test(a) && isSeq(b)
        ? { type: 'key', key: a, seq: Number(b) }
        : undefined;
    default:
      return undefined;
  }
}

function isSeq(text: string): boolean {
  return /^[0-9]{1,3}$/.test(text) && Number(text) <= 255;
}
