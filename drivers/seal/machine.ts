// The profile-driven steel-seal driver: any machine whose protocol a profile describes, over any ByteLink
// (USB-serial in the field, an in-process simulator link for `transport: simulated`). Commands run one at a
// time; retry-safe ones are retried after a timeout, a NAK or a garbled reply; the stamp is sent exactly
// once by `fire()`, and anything but a clear reply makes its outcome "unknown", never a retry.
import type { DeviceDriver, DeviceIdentity, SelfTestResult } from '../device.js';
import type { ByteLink } from '../transport/byte-link.js';
import { encodeFrame, FrameDecoder, type SealFrame } from './frame-codec.js';
import type { CommandName, SealProfile } from './profile.js';
import {
  decodeStatus,
  describeFailures,
  unmetConditions,
  type ConditionFailure,
  type SealStatus,
} from './status.js';

export interface SealMachineOptions {
  profile: SealProfile;
  openLink: () => Promise<ByteLink>;
}

export type SealErrorKind = 'timeout' | 'nak' | 'garbled' | 'link';

/** A command that got no usable reply. `nak` means the machine refused it and did nothing. */
export class SealCommandError extends Error {
  override name = 'SealCommandError';
  constructor(
    readonly kind: SealErrorKind,
    message: string,
    readonly nakReason?: number,
  ) {
    super(message);
  }
}

/** The machine's status does not allow the stamp (cover open, no document, busy, a fault). */
export class SealInterlockError extends Error {
  override name = 'SealInterlockError';
  constructor(
    readonly failures: ConditionFailure[],
    readonly status: SealStatus,
  ) {
    super(`seal interlock: ${describeFailures(failures)}`);
  }
}

export type FireOutcome =
  | { outcome: 'stamped'; after: SealStatus | null; postconditions: ConditionFailure[] }
  /** NAKed: the machine says it did nothing. */
  | { outcome: 'refused'; reason: string }
  /** No clear answer: the seal may or may not have been pressed. */
  | { outcome: 'unknown'; reason: string };

interface Pending {
  expect: number;
  resolve: (f: SealFrame) => void;
  reject: (e: SealCommandError) => void;
  timer: NodeJS.Timeout;
}

export class SealMachine implements DeviceDriver {
  private link: ByteLink | undefined;
  private unsubscribe: (() => void)[] = [];
  private readonly decoder: FrameDecoder;
  private pending: Pending | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private identity: DeviceIdentity;

  constructor(private readonly opts: SealMachineOptions) {
    this.decoder = new FrameDecoder(opts.profile);
    this.identity = { model: opts.profile.model };
  }

  get profile(): SealProfile {
    return this.opts.profile;
  }

  async open(): Promise<DeviceIdentity> {
    await this.close();
    const link = await this.opts.openLink();
    this.link = link;
    this.decoder.reset();
    this.unsubscribe = [link.onData((c) => this.onData(c)), link.onClose((e) => this.onClosed(e))];
    try {
      this.identity = { model: this.profile.model };
      if (this.profile.commands.identify) {
        const [model, serial, firmware] = (await this.command('identify')).data.toString('latin1').split(';');
        this.identity = {
          model: model || this.profile.model,
          ...(serial ? { serial } : {}),
          ...(firmware ? { firmware } : {}),
        };
      } else {
        await this.status();
      }
    } catch (err) {
      await this.close();
      throw err;
    }
    return this.identity;
  }

  async probe(): Promise<void> {
    await this.status();
  }

  /** Runs the machine's own self-test command, which moves nothing. */
  async selfTest(): Promise<SelfTestResult> {
    const reply = await this.command('selfTest');
    const status = await this.status();
    const code = reply.data[0] ?? 0;
    return {
      ok: code === 0 && status.faultCode === 0,
      summary:
        code === 0
          ? `seal machine self-test passed (${describeStatus(status)})`
          : `seal machine self-test failed with code ${code}`,
      details: { ...status },
    };
  }

  async status(): Promise<SealStatus> {
    return decodeStatus(this.profile, (await this.command('status')).data);
  }

  async reset(): Promise<void> {
    await this.command('reset');
  }

  /** Reads the status and throws SealInterlockError unless every `beforeStamp` condition holds. */
  async checkBeforeStamp(): Promise<SealStatus> {
    const status = await this.status();
    const failures = unmetConditions(status, this.profile.interlocks.beforeStamp);
    if (failures.length > 0) throw new SealInterlockError(failures, status);
    return status;
  }

  /**
   * Sends the stamp command once. The caller records that it is firing BEFORE calling this. Never throws
   * for a device answer: the outcome says what is known.
   */
  async fire(): Promise<FireOutcome> {
    let reply: SealFrame;
    try {
      reply = await this.exchange('stamp', 1);
    } catch (err) {
      if (err instanceof SealCommandError && err.kind === 'nak')
        return { outcome: 'refused', reason: err.message };
      return { outcome: 'unknown', reason: err instanceof Error ? err.message : String(err) };
    }
    void reply;
    // The press happened; the after-check is reported, not a reason to call it undone.
    try {
      const after = await this.status();
      return {
        outcome: 'stamped',
        after,
        postconditions: unmetConditions(after, this.profile.interlocks.afterStamp),
      };
    } catch {
      return { outcome: 'stamped', after: null, postconditions: [] };
    }
  }

  async close(): Promise<void> {
    for (const u of this.unsubscribe) u();
    this.unsubscribe = [];
    this.failPending(new SealCommandError('link', 'link closed'));
    const link = this.link;
    this.link = undefined;
    if (link?.isOpen) await link.close();
  }

  /** A retry-safe command is attempted 1 + `retries` times; others once. */
  private command(name: Exclude<CommandName, 'stamp'>): Promise<SealFrame> {
    const spec = this.profile.commands[name];
    if (!spec) return Promise.reject(new Error(`the profile has no ${name} command`));
    return this.exchange(name, spec.retrySafe ? 1 + this.profile.retries : 1);
  }

  private exchange(name: CommandName, attempts: number): Promise<SealFrame> {
    const run = async (): Promise<SealFrame> => {
      let last: SealCommandError | undefined;
      for (let i = 0; i < attempts; i++) {
        try {
          return await this.once(name);
        } catch (err) {
          if (!(err instanceof SealCommandError) || err.kind === 'link') throw err;
          last = err;
        }
      }
      throw last ?? new SealCommandError('timeout', `${name}: no attempt made`);
    };
    const next = this.queue.then(run, run);
    this.queue = next.catch(() => undefined);
    return next;
  }

  private once(name: CommandName): Promise<SealFrame> {
    const link = this.link;
    const spec = this.profile.commands[name];
    if (!link?.isOpen || !spec)
      return Promise.reject(new SealCommandError('link', 'the seal machine is not open'));
    const frame = encodeFrame(this.profile, { code: spec.code, data: this.profile.commandData(name) });
    return new Promise<SealFrame>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending = undefined;
        reject(new SealCommandError('timeout', `${name}: no reply within ${spec.timeoutMs} ms`));
      }, spec.timeoutMs);
      this.pending = { expect: spec.reply, resolve, reject, timer };
      link.write(frame).catch((err: Error) => this.failPending(new SealCommandError('link', err.message)));
    }).then((reply) => {
      if (reply.code === this.profile.nak.code) {
        const reason = reply.data[0];
        throw new SealCommandError('nak', `${name}: refused by the machine (NAK ${reason ?? '-'})`, reason);
      }
      return reply;
    });
  }

  private onData(chunk: Buffer): void {
    const { frames, drops } = this.decoder.push(chunk);
    if (drops.length > 0 && this.pending && drops.some((d) => d.reason !== 'timeout')) {
      this.failPending(
        new SealCommandError('garbled', `garbled reply (${drops.map((d) => d.reason).join(', ')})`),
      );
    }
    for (const f of frames) {
      const p = this.pending;
      // A late reply to an earlier, timed-out command is not this command's answer.
      if (!p || (f.code !== p.expect && f.code !== this.profile.nak.code)) continue;
      clearTimeout(p.timer);
      this.pending = undefined;
      p.resolve(f);
    }
  }

  private onClosed(err?: Error): void {
    this.failPending(new SealCommandError('link', err ? `link lost: ${err.message}` : 'link closed'));
  }

  private failPending(err: SealCommandError): void {
    const p = this.pending;
    if (!p) return;
    clearTimeout(p.timer);
    this.pending = undefined;
    p.reject(err);
  }
}

function describeStatus(s: SealStatus): string {
  return [
    s.coverClosed ? 'cover closed' : 'cover open',
    s.headHome ? 'head home' : 'head not home',
    s.documentPresent ? 'document in place' : 'no document',
    ...(s.faultCode ? [`fault ${s.faultCode}`] : []),
  ].join(', ');
}
