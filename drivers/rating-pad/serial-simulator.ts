// A rating pad speaking the `line` profile on the far end of a ByteLink: the peer of a socat pty pair in
// tests, an in-memory link for `transport: {type: simulated}`. It answers ID/LIGHT/BEEP/SHOW, keeps what a
// person would see and hear (light, beeps, text), presses keys on demand, and can press scripted keys by
// itself a while after its keys light up (a resident who rates). Faults: silence (attached, not answering).
import type { ByteLink } from '../transport/byte-link.js';
import {
  encodePadMessage,
  LineDecoder,
  parseCommand,
  type HostCommand,
  type PadCapabilities,
} from './line-protocol.js';

export interface SerialPadSimulatorOptions {
  model?: string;
  serial?: string;
  firmware?: string;
  capabilities?: PadCapabilities;
  /**
   * Pressed by itself `delayMs` after the keys light up: `keys` in turn (one key: always that one), so a
   * trainer's box answers every request. No light, no press.
   */
  autoPress?: { keys: readonly string[]; delayMs: number };
}

export class SerialPadSimulator {
  /** Every command received, in order (tests check what reached the pad). */
  readonly received: HostCommand[] = [];
  /** Durations of the beeps sounded. */
  readonly beeps: number[] = [];
  /** Sequence numbers the host acknowledged. */
  readonly acked: number[] = [];
  light = false;
  text = '';
  private silent = false;
  private seq = 0;
  private scriptAt = 0;
  private autoTimer: NodeJS.Timeout | undefined;
  private readonly decoder = new LineDecoder();
  private unsubscribe: (() => void) | undefined;

  constructor(
    private readonly link: ByteLink,
    private readonly opts: SerialPadSimulatorOptions = {},
  ) {}

  get capabilities(): PadCapabilities {
    return this.opts.capabilities ?? { light: true, beep: true, display: false };
  }

  start(): void {
    this.unsubscribe ??= this.link.onData((chunk) => this.onData(chunk));
  }

  async stop(): Promise<void> {
    clearTimeout(this.autoTimer);
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    if (this.link.isOpen) await this.link.close();
  }

  /** Attached but not answering (no replies, no keys) while true. */
  setSilent(silent: boolean): void {
    this.silent = silent;
  }

  /**
   * A resident presses `key`. `copies` > 1 sends the same KEY frame again, as a pad does when it sees no
   * acknowledgement: the host must count it once.
   */
  press(key: string, opts: { copies?: number } = {}): void {
    if (this.silent) return;
    this.seq = (this.seq + 1) % 256;
    const frame = encodePadMessage({ type: 'key', key, seq: this.seq });
    for (let i = 0; i < (opts.copies ?? 1); i++) this.send(frame);
  }

  private onData(chunk: Buffer): void {
    for (const item of this.decoder.push(chunk)) {
      if (this.silent) continue;
      if (item.type !== 'frame') {
        if (item.type === 'error' && item.kind === 'checksum') {
          this.send(encodePadMessage({ type: 'nak', command: '?', reason: 'CHECKSUM' }));
        }
        continue;
      }
      const cmd = parseCommand(item.fields);
      if ('error' in cmd) {
        this.send(encodePadMessage({ type: 'nak', command: cmd.command || '?', reason: cmd.error }));
        continue;
      }
      this.received.push(cmd);
      this.answer(cmd);
    }
  }

  private answer(cmd: HostCommand): void {
    const caps = this.capabilities;
    switch (cmd.type) {
      case 'identify':
        this.send(
          encodePadMessage({
            type: 'id',
            model: this.opts.model ?? 'Simulated rating pad',
            serial: this.opts.serial ?? 'SIM-0001',
            firmware: this.opts.firmware ?? '1.0',
            capabilities: caps,
          }),
        );
        return;
      case 'light':
        if (!caps.light) return this.nak('LIGHT', 'UNSUPPORTED');
        this.light = cmd.on;
        this.scheduleAutoPress();
        return this.ack('LIGHT');
      case 'beep':
        if (!caps.beep) return this.nak('BEEP', 'UNSUPPORTED');
        this.beeps.push(cmd.ms);
        return this.ack('BEEP');
      case 'show':
        if (!caps.display) return this.nak('SHOW', 'UNSUPPORTED');
        this.text = cmd.text;
        return this.ack('SHOW');
      case 'ack-key':
        this.acked.push(cmd.seq);
        return;
    }
  }

  private scheduleAutoPress(): void {
    clearTimeout(this.autoTimer);
    this.autoTimer = undefined;
    const auto = this.opts.autoPress;
    if (!this.light || !auto || auto.keys.length === 0) return;
    this.autoTimer = setTimeout(() => {
      const key = auto.keys[this.scriptAt % auto.keys.length];
      this.scriptAt++;
      if (key !== undefined && this.light) this.press(key);
    }, auto.delayMs);
  }

  private ack(command: string): void {
    this.send(encodePadMessage({ type: 'ack', command }));
  }

  private nak(command: string, reason: string): void {
    this.send(encodePadMessage({ type: 'nak', command, reason }));
  }

  private send(frame: Buffer): void {
    // The far end may be gone (a test tearing down, a pty killed): the host sees silence.
    if (this.link.isOpen) this.link.write(frame).catch(() => undefined);
  }
}
