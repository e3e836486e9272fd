// The rating pad driver: asks the resident for one rating at a time. Whatever carries the pad (serial line
// profile, USB HID keypad, in-process simulator) is a PadSession; this file holds what is common: one
// request at a time, the pad lit while it waits and dark after, timeout, cancel, and a lost pad reported at
// once. Presses while no request waits are ignored: a rating belongs to the service just finished.
import type { DeviceDriver, DeviceIdentity, SelfTestResult } from '../device.js';
import type { PadCapabilities } from './line-protocol.js';
import { RATING_LABELS, type Rating } from './ratings.js';

export type { PadCapabilities };

export interface PadKeyPress {
  /** The pad's name for the key (`'3'`, `'KP3'`, `'0x03'`). */
  key: string;
  rating: Rating;
  at: Date;
}

/** One open connection to a pad, whatever carries it. */
export interface PadSession {
  readonly identity: DeviceIdentity;
  readonly capabilities: PadCapabilities;
  /** The key map in force, key → rating (for the self-test summary). */
  readonly keys: Readonly<Record<string, Rating>>;
  onKey(listener: (press: PadKeyPress) => void): void;
  /** Called once if the pad goes away (unplugged, port closed under us). */
  onLost(listener: (err: Error) => void): void;
  /** Throws unless the pad is attached (and, where the protocol can ask, answers). */
  check(): Promise<void>;
  /** Only called when `capabilities` has the feature. */
  setLight(on: boolean): Promise<void>;
  beep(ms: number): Promise<void>;
  show(text: string): Promise<void>;
  close(): Promise<void>;
}

export interface RatingRequest {
  /** How long the resident has to press a key. */
  timeoutMs: number;
  /** Shown on pads with a display (e.g. the clerk's name and the service); ignored by others. */
  prompt?: string;
}

export type RatingResult =
  | { outcome: 'rated'; rating: Rating; key?: string; at: Date }
  | { outcome: 'timeout' }
  | { outcome: 'canceled' };

export type RatingPadErrorKind =
  /** A request is already waiting for the resident. */
  | 'busy'
  /** The pad is not open, or was lost. */
  | 'not-open'
  | 'lost'
  /** The pad did not answer a command in time. */
  | 'timeout'
  /** The pad refused a command. */
  | 'refused';

export class RatingPadError extends Error {
  override name = 'RatingPadError';
  constructor(
    readonly kind: RatingPadErrorKind,
    message: string,
  ) {
    super(message);
  }
}

export interface RatingPadOptions {
  /** Opens a session with the pad; throws DeviceAbsentError when it is not attached. */
  connect: () => Promise<PadSession>;
  /** A short beep when a rating is taken, on pads with a beeper; 0 for none. */
  confirmBeepMs?: number;
}

interface Waiting {
  finish: (result: RatingResult | RatingPadError) => void;
  /** Set once the outcome is decided; later presses and timers do nothing. */
  settled: boolean;
}

export class RatingPad implements DeviceDriver {
  private session: PadSession | undefined;
  private lostError: RatingPadError | undefined;
  private waiting: Waiting | undefined;
  /** Resolves once the current request has fully ended (pad dark); close() waits for it. */
  private waitingDone: Promise<void> = Promise.resolve();
  private readonly lostListeners = new Set<(err: Error) => void>();

  constructor(private readonly opts: RatingPadOptions) {}

  async open(): Promise<DeviceIdentity> {
    await this.close();
    const session = await this.opts.connect();
    this.session = session;
    this.lostError = undefined;
    session.onKey((press) => this.onKey(session, press));
    session.onLost((err) => this.onSessionLost(session, err));
    return session.identity;
  }

  async probe(): Promise<void> {
    await this.current().check();
  }

  async selfTest(): Promise<SelfTestResult> {
    const session = this.current();
    if (this.waiting) throw new RatingPadError('busy', 'the pad is waiting for a rating');
    await session.check();
    const caps = session.capabilities;
    // Harmless and visible: the installer sees the keys light and hears the beeper.
    if (caps.light) {
      await session.setLight(true);
      await session.setLight(false);
    }
    if (caps.beep) await session.beep(100);
    const keys = Object.entries(session.keys)
      .map(([key, rating]) => `${key}→${RATING_LABELS[rating].zh}`)
      .join(' ');
    const features = [caps.light && 'light', caps.beep && 'beeper', caps.display && 'display'].filter(
      Boolean,
    );
    return {
      ok: true,
      summary: `pad answers; ${features.length ? `${features.join(', ')} worked` : 'no light or beeper to test'}; keys ${keys}`,
      details: { capabilities: caps, keys: session.keys },
    };
  }

  async close(): Promise<void> {
    if (this.waiting) {
      const done = this.waitingDone;
      this.cancel();
      await done;
    }
    const session = this.session;
    this.session = undefined;
    if (session) await session.close();
  }

  onLost(listener: (err: Error) => void): void {
    this.lostListeners.add(listener);
  }

  /** True while a request waits for the resident. */
  get isWaiting(): boolean {
    return this.waiting !== undefined;
  }

  /**
   * Lights the pad and waits for one key press, the timeout, or `cancel()`; the pad is dark again when this
   * resolves. Rejects with RatingPadError `busy` while another request waits, `not-open`/`lost` without a
   * pad, and when the pad loses its link or refuses the light during the request.
   */
  requestRating(request: RatingRequest): Promise<RatingResult> {
    const { timeoutMs, prompt } = request;
    if (!Number.isInteger(timeoutMs) || timeoutMs <= 0) {
      return Promise.reject(new RangeError(`timeoutMs must be a positive integer, not ${timeoutMs}`));
    }
    if (this.waiting) {
      return Promise.reject(new RatingPadError('busy', 'a rating is already being asked for'));
    }
    const session = this.session;
    if (this.lostError || !session) return Promise.reject(this.lostError ?? notOpen());
    let timer: NodeJS.Timeout | undefined;
    let resolveDone: () => void = () => undefined;
    this.waitingDone = new Promise((r) => (resolveDone = r));
    return new Promise<RatingResult>((resolve, reject) => {
      const waiting: Waiting = {
        settled: false,
        finish: (result) => {
          if (waiting.settled) return;
          waiting.settled = true;
          clearTimeout(timer);
          const lost =
            result instanceof RatingPadError && (result.kind === 'lost' || result.kind === 'not-open');
          // The pad goes dark before the caller hears the outcome, so the next request starts from dark.
          const dark = lost ? Promise.resolve() : this.afterRequest(session, result);
          void dark.finally(() => {
            if (this.waiting === waiting) this.waiting = undefined;
            resolveDone();
            if (result instanceof Error) reject(result);
            else resolve(result);
          });
        },
      };
      this.waiting = waiting;
      timer = setTimeout(() => waiting.finish({ outcome: 'timeout' }), timeoutMs);
      this.beforeRequest(session, prompt).catch((err: unknown) => waiting.finish(asPadError(err)));
    });
  }

  /** Ends the waiting request (it resolves `canceled`); false when none was waiting. */
  cancel(): boolean {
    const w = this.waiting;
    if (!w || w.settled) return false;
    w.finish({ outcome: 'canceled' });
    return true;
  }

  private current(): PadSession {
    if (this.lostError) throw this.lostError;
    if (!this.session) throw notOpen();
    return this.session;
  }

  private async beforeRequest(session: PadSession, prompt: string | undefined): Promise<void> {
    if (prompt !== undefined && session.capabilities.display) await session.show(prompt);
    if (session.capabilities.light) await session.setLight(true);
  }

  private async afterRequest(session: PadSession, result: RatingResult | RatingPadError): Promise<void> {
    const caps = session.capabilities;
    // Best effort: the outcome is already decided; a pad that fails here fails the next probe.
    const quietly = (p: Promise<void>) => p.catch(() => undefined);
    if (caps.light) await quietly(session.setLight(false));
    if (caps.display) await quietly(session.show(''));
    const beepMs = this.opts.confirmBeepMs ?? 100;
    if (caps.beep && beepMs > 0 && !(result instanceof Error) && result.outcome === 'rated') {
      await quietly(session.beep(beepMs));
    }
  }

  private onKey(session: PadSession, press: PadKeyPress): void {
    if (session !== this.session) return;
    this.waiting?.finish({ outcome: 'rated', rating: press.rating, key: press.key, at: press.at });
  }

  private onSessionLost(session: PadSession, err: Error): void {
    if (session !== this.session) return;
    this.lostError = new RatingPadError('lost', `lost the rating pad: ${err.message}`);
    this.waiting?.finish(this.lostError);
    for (const l of this.lostListeners) l(this.lostError);
  }
}

function notOpen(): RatingPadError {
  return new RatingPadError('not-open', 'the rating pad is not open');
}

function asPadError(err: unknown): RatingPadError {
  if (err instanceof RatingPadError) return err;
  return new RatingPadError('lost', err instanceof Error ? err.message : String(err));
}
