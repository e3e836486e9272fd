// A steel-seal machine that speaks a profile's protocol on the far end of any ByteLink: a socat pty in
// tests, an in-process link for `transport: simulated`. It keeps its own log of every stamp it executed, so a
// test can prove that a crash or a retry never pressed the seal twice. Faults are scripted: conditions
// (busy, cover open, no document) hold until changed; reply faults (NAK, bad checksum, silence) apply to
// the next replies.
import type { ByteLink } from '../transport/byte-link.js';
import { encodeFrame, FrameDecoder, type SealFrame } from './frame-codec.js';
import type { CommandName, SealProfile } from './profile.js';
import { encodeStatus, unmetConditions, type SealStatus } from './status.js';

export const SEAL_REPLY_FAULTS = ['nak', 'bad-checksum', 'silence'] as const;
export type SealReplyFault = (typeof SEAL_REPLY_FAULTS)[number];

/** NAK reasons the simulator uses (the default profile documents them). */
export const NAK_REASON = { checksum: 1, unknownCommand: 2, busy: 3, interlock: 4 } as const;

export interface StampRecord {
  /** 1, 2, …: the machine's own press counter. */
  n: number;
  at: string;
}

export interface SealSimulatorOptions {
  serial?: string;
  firmware?: string;
  /** How long a press takes before the reply (a slow machine lets tests kill the host mid-press). */
  stampDelayMs?: number;
}

export class SealSimulator {
  readonly stamps: StampRecord[] = [];
  /** Every command code received, in order (tests check what reached the machine). */
  readonly received: number[] = [];
  private readonly decoder: FrameDecoder;
  private readonly state: SealStatus = {
    documentPresent: true,
    coverClosed: true,
    headHome: true,
    busy: false,
    faultCode: 0,
  };
  private forcedBusy = false;
  private silent = false;
  private pressing = false;
  private readonly replyFaults: SealReplyFault[] = [];
  private unsubscribe: (() => void)[] = [];
  private timers = new Set<NodeJS.Timeout>();
  private readonly codes: Map<number, CommandName>;

  constructor(
    private readonly link: ByteLink,
    private readonly profile: SealProfile,
    private readonly opts: SealSimulatorOptions = {},
  ) {
    this.decoder = new FrameDecoder(profile);
    this.codes = new Map(Object.entries(profile.commands).map(([name, c]) => [c.code, name as CommandName]));
  }

  start(): void {
    this.unsubscribe = [this.link.onData((chunk) => this.onData(chunk))];
  }

  async stop(): Promise<void> {
    for (const u of this.unsubscribe) u();
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    if (this.link.isOpen) await this.link.close();
  }

  setDocument(present: boolean): void {
    this.state.documentPresent = present;
  }
  setCover(closed: boolean): void {
    this.state.coverClosed = closed;
  }
  setBusy(busy: boolean): void {
    this.forcedBusy = busy;
  }
  setFaultCode(code: number): void {
    this.state.faultCode = code;
  }
  setStampDelay(ms: number): void {
    this.opts.stampDelayMs = ms;
  }
  /** A machine that is switched off or hung: it answers nothing until set back. */
  setSilent(silent: boolean): void {
    this.silent = silent;
  }
  /** The next replies misbehave, one fault each, in order. */
  scriptReplies(...faults: SealReplyFault[]): void {
    this.replyFaults.push(...faults);
  }

  status(): SealStatus {
    return { ...this.state, busy: this.forcedBusy || this.pressing };
  }

  private onData(chunk: Buffer): void {
    const { frames, drops } = this.decoder.push(chunk);
    if (drops.some((d) => d.reason === 'checksum'))
      this.reply({ code: this.profile.nak.code, data: Buffer.from([NAK_REASON.checksum]) });
    for (const f of frames) this.handle(f);
  }

  private handle(frame: SealFrame): void {
    this.received.push(frame.code);
    const name = this.codes.get(frame.code);
    const ack = (data: Buffer = Buffer.alloc(0)): void => {
      if (name) this.reply({ code: this.profile.commands[name]!.reply, data });
    };
    const nak = (reason: number): void =>
      this.reply({ code: this.profile.nak.code, data: Buffer.from([reason]) });
    switch (name) {
      case 'status':
        return ack(encodeStatus(this.profile, this.status()));
      case 'identify':
        return ack(
          Buffer.from(
            `Seal machine simulator;${this.opts.serial ?? 'SIM-SEAL-0001'};${this.opts.firmware ?? 'sim-1.0'}`,
            'latin1',
          ),
        );
      case 'reset':
        this.state.faultCode = 0;
        return ack();
      case 'selfTest':
        return ack(Buffer.from([this.state.faultCode === 0 ? 0 : 1]));
      case 'stamp': {
        if (this.status().busy) return nak(NAK_REASON.busy);
        // The machine's own interlock: it will not press on an open cover or an empty bed.
        if (unmetConditions(this.state, { documentPresent: true, coverClosed: true }).length > 0) {
          return nak(NAK_REASON.interlock);
        }
        // A scripted NAK refuses the press itself (reply() turns the reply into the NAK).
        if (this.replyFaults[0] === 'nak') return nak(NAK_REASON.busy);
        this.pressing = true;
        this.state.headHome = false;
        this.stamps.push({ n: this.stamps.length + 1, at: new Date().toISOString() });
        this.later(this.opts.stampDelayMs ?? 0, () => {
          this.pressing = false;
          this.state.headHome = true;
          ack(Buffer.from([this.stamps.length & 0xff]));
        });
        return;
      }
      default:
        return nak(NAK_REASON.unknownCommand);
    }
  }

  private reply(frame: SealFrame): void {
    if (!this.link.isOpen || this.silent) return;
    const fault = this.replyFaults.shift();
    if (fault === 'silence') return;
    const bytes = encodeFrame(
      this.profile,
      fault === 'nak' ? { code: this.profile.nak.code, data: Buffer.from([NAK_REASON.busy]) } : frame,
    );
    if (fault === 'bad-checksum') {
      const at = bytes.length - this.profile.trailer.length - 1;
      bytes[at] = (bytes[at] as number) ^ 0xff;
    }
    this.link.write(bytes).catch(() => undefined);
  }

  private later(ms: number, fn: () => void): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    this.timers.add(t);
  }
}
