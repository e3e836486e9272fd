// A rating pad speaking the `line` profile over a ByteLink (a USB-serial port, a pty in tests, an in-process
// simulator link). Commands go one at a time and wait for their ACK/NAK/ID reply; KEY frames arrive
// unsolicited, are acknowledged at once (the pad resends an unacknowledged KEY), and a resent frame (same
// sequence number as the last) counts once.
import type { DeviceIdentity } from '../device.js';
import type { ByteLink } from '../transport/byte-link.js';
import {
  encodeCommand,
  LineDecoder,
  MAX_SHOW_BYTES,
  parsePadMessage,
  type HostCommand,
  type PadCapabilities,
  type PadMessage,
} from './line-protocol.js';
import { RatingPad, RatingPadError, type PadKeyPress, type PadSession } from './rating-pad.js';
import { checkKeyMap, type Rating } from './ratings.js';

/** The pad's keys '1'..'5' give ratings 1..5. */
export const DEFAULT_SERIAL_KEYS: Readonly<Record<string, Rating>> = {
  '1': 1,
  '2': 2,
  '3': 3,
  '4': 4,
  '5': 5,
};

export interface SerialPadOptions {
  /** Opens the transport; throws DeviceAbsentError when the port is not there. */
  openLink: () => Promise<ByteLink>;
  /** How long the pad may take to answer a command. */
  commandTimeoutMs: number;
  /** The pad's key → rating; default {@link DEFAULT_SERIAL_KEYS}. */
  keys?: Readonly<Record<string, Rating>>;
  confirmBeepMs?: number;
}

/** The rating pad driver over a serial `line`-profile pad. */
export function serialRatingPad(opts: SerialPadOptions): RatingPad {
  if (opts.keys) checkKeyMap(opts.keys);
  return new RatingPad({
    connect: () => SerialPadSession.connect(opts),
    confirmBeepMs: opts.confirmBeepMs,
  });
}

interface Pending {
  command: HostCommand;
  accept: (msg: PadMessage) => boolean;
  resolve: (msg: PadMessage) => void;
  reject: (err: RatingPadError) => void;
  timer: NodeJS.Timeout;
}

export class SerialPadSession implements PadSession {
  identity: DeviceIdentity = { model: 'rating pad' };
  capabilities: PadCapabilities = { light: false, beep: false, display: false };
  readonly keys: Readonly<Record<string, Rating>>;
  private readonly decoder = new LineDecoder();
  private pending: Pending | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private lastSeq: number | undefined;
  private closed = false;
  private lostError: RatingPadError | undefined;
  private readonly keyListeners = new Set<(press: PadKeyPress) => void>();
  private readonly lostListeners = new Set<(err: Error) => void>();
  private readonly unsubscribe: (() => void)[];

  private constructor(
    private readonly link: ByteLink,
    private readonly opts: SerialPadOptions,
  ) {
    this.keys = opts.keys ?? DEFAULT_SERIAL_KEYS;
    this.unsubscribe = [
      link.onData((chunk) => this.onData(chunk)),
      link.onClose((err) => this.onLinkClosed(err)),
    ];
  }

  /** Opens the link and identifies the pad; closes the link again when the pad does not answer. */
  static async connect(opts: SerialPadOptions): Promise<SerialPadSession> {
    if (opts.keys) checkKeyMap(opts.keys);
    const link = await opts.openLink();
    const session = new SerialPadSession(link, opts);
    try {
      await session.identify();
    } catch (err) {
      await session.close();
      throw err;
    }
    return session;
  }

  onKey(listener: (press: PadKeyPress) => void): void {
    this.keyListeners.add(listener);
  }

  onLost(listener: (err: Error) => void): void {
    this.lostListeners.add(listener);
  }

  async check(): Promise<void> {
    await this.identify();
  }

  async setLight(on: boolean): Promise<void> {
    await this.command({ type: 'light', on });
  }

  async beep(ms: number): Promise<void> {
    await this.command({ type: 'beep', ms });
  }

  /** Text longer than the profile allows is cut at a character: a prompt must not cost the rating. */
  async show(text: string): Promise<void> {
    let fitting = '';
    for (const ch of text) {
      if (Buffer.byteLength(fitting + ch, 'utf8') > MAX_SHOW_BYTES) break;
      fitting += ch;
    }
    await this.command({ type: 'show', text: fitting });
  }

  async close(): Promise<void> {
    this.closed = true;
    this.fail(new RatingPadError('not-open', 'the rating pad was closed'));
    for (const u of this.unsubscribe.splice(0)) u();
    await this.link.close();
  }

  private async identify(): Promise<void> {
    const reply = await this.command({ type: 'identify' });
    if (reply.type !== 'id') return;
    this.identity = {
      model: reply.model || 'rating pad',
      ...(reply.serial ? { serial: reply.serial } : {}),
      ...(reply.firmware ? { firmware: reply.firmware } : {}),
    };
    this.capabilities = reply.capabilities;
  }

  /** Sends one command after any still in flight and waits for its reply. */
  private command(command: HostCommand): Promise<PadMessage> {
    const name = commandName(command);
    const run = () =>
      new Promise<PadMessage>((resolve, reject) => {
        if (this.lostError) return reject(this.lostError);
        if (this.closed || !this.link.isOpen) {
          return reject(new RatingPadError('not-open', 'the rating pad is not open'));
        }
        const frame = encodeCommand(command);
        const timer = setTimeout(
          () =>
            this.settle(
              new RatingPadError('timeout', `${name}: no answer within ${this.opts.commandTimeoutMs} ms`),
            ),
          this.opts.commandTimeoutMs,
        );
        const accept = (msg: PadMessage) =>
          name === 'ID'
            ? msg.type === 'id'
            : (msg.type === 'ack' || msg.type === 'nak') && msg.command === name;
        this.pending = { command, accept, resolve, reject, timer };
        this.link.write(frame).catch((err: unknown) => {
          this.settle(new RatingPadError('lost', `${name}: write failed: ${message(err)}`));
        });
      });
    const result = this.queue.then(run, run);
    this.queue = result.catch(() => undefined);
    return result;
  }

  private onData(chunk: Buffer): void {
    for (const item of this.decoder.push(chunk)) {
      // A damaged frame is dropped: a KEY is resent by the pad, a command reply times out.
      if (item.type !== 'frame') continue;
      const msg = parsePadMessage(item.fields);
      if (!msg) continue;
      if (msg.type === 'key') {
        this.onKeyFrame(msg.key, msg.seq);
        continue;
      }
      const p = this.pending;
      if (!p?.accept(msg)) continue; // a late reply to a command that timed out
      if (msg.type === 'nak') {
        this.settle(
          new RatingPadError('refused', `${commandName(p.command)}: the pad refused it (${msg.reason})`),
        );
      } else {
        this.settle(undefined, msg);
      }
    }
  }

  private onKeyFrame(key: string, seq: number): void {
    const at = new Date();
    // Acknowledged even when nobody waits, so the pad stops resending; not queued behind a slow command.
    this.link.write(encodeCommand({ type: 'ack-key', seq })).catch(() => undefined);
    if (seq === this.lastSeq) return;
    this.lastSeq = seq;
    const rating = this.keys[key];
    if (rating === undefined) return;
    for (const l of this.keyListeners) l({ key, rating, at });
  }

  private settle(err: RatingPadError | undefined, msg?: PadMessage): void {
    const p = this.pending;
    if (!p) return;
    this.pending = undefined;
    clearTimeout(p.timer);
    if (msg) p.resolve(msg);
    else p.reject(err ?? new RatingPadError('timeout', 'no answer'));
  }

  private fail(err: RatingPadError): void {
    this.settle(err);
  }

  private onLinkClosed(err?: Error): void {
    if (!err || this.closed) return;
    this.lostError = new RatingPadError('lost', err.message);
    this.fail(this.lostError);
    for (const l of this.lostListeners) l(this.lostError);
  }
}

function commandName(command: HostCommand): string {
  return { identify: 'ID', light: 'LIGHT', beep: 'BEEP', show: 'SHOW', 'ack-key': 'ACK' }[command.type];
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
