// A rating pad on USB HID (most enumerate as a keyboard): key presses come from input reports through the
// keypad codec. Such pads have no light, beeper or display the host can drive, and nothing to ask: the
// probe only checks that the device is still attached. Loss is seen at once (hidapi's read fails).
import type { DeviceIdentity } from '../device.js';
import type { HidReportPort } from '../transport/hid-reports.js';
import {
  hidId,
  nodeHidBackend,
  openHid,
  type HidBackend,
  type HidDeviceInfo,
  type HidSelector,
} from '../transport/hid.js';
import {
  DEFAULT_KEYPAD_PROFILE,
  HidKeypadDecoder,
  resolveKeyMap,
  type HidKeypadProfile,
} from './hid-keypad-codec.js';
import {
  RatingPad,
  RatingPadError,
  type PadCapabilities,
  type PadKeyPress,
  type PadSession,
} from './rating-pad.js';
import type { Rating } from './ratings.js';

export interface HidPadOptions {
  device: HidSelector;
  /** Report format and key map; default: boot keyboard, keys 1..5 and keypad 1..5. */
  keypad?: HidKeypadProfile;
  /** The node-hid boundary; tests pass a fake. */
  backend?: HidBackend;
}

/** The rating pad driver over a USB HID keypad. */
export function hidRatingPad(opts: HidPadOptions): RatingPad {
  const keypad = opts.keypad ?? DEFAULT_KEYPAD_PROFILE;
  // Checked now, so a bad key map shows when the device is built, not at the first open.
  resolveKeyMap(keypad);
  return new RatingPad({
    connect: async () => {
      const port = await openHid(opts.device, opts.backend ?? nodeHidBackend);
      return new HidPadSession(port, port.info, keypad);
    },
  });
}

export class HidPadSession implements PadSession {
  readonly identity: DeviceIdentity;
  readonly capabilities: PadCapabilities = { light: false, beep: false, display: false };
  readonly keys: Readonly<Record<string, Rating>>;
  private readonly decoder: HidKeypadDecoder;
  private closed = false;
  private lostError: RatingPadError | undefined;
  private readonly keyListeners = new Set<(press: PadKeyPress) => void>();
  private readonly lostListeners = new Set<(err: Error) => void>();

  constructor(
    private readonly port: HidReportPort,
    info: HidDeviceInfo,
    keypad: HidKeypadProfile,
  ) {
    this.decoder = new HidKeypadDecoder(keypad);
    this.keys = keypad.keys;
    const name = [info.manufacturer, info.product].filter(Boolean).join(' ').trim();
    this.identity = {
      model: name || `HID keypad ${hidId(info.vendorId, info.productId)}`,
      ...(info.serialNumber ? { serial: info.serialNumber } : {}),
    };
    port.onReport((report) => {
      const at = new Date();
      for (const p of this.decoder.push(report)) for (const l of this.keyListeners) l({ ...p, at });
    });
    port.onClose((err) => {
      if (!err || this.closed) return;
      this.lostError = new RatingPadError('lost', err.message);
      for (const l of this.lostListeners) l(this.lostError);
    });
  }

  onKey(listener: (press: PadKeyPress) => void): void {
    this.keyListeners.add(listener);
  }

  onLost(listener: (err: Error) => void): void {
    this.lostListeners.add(listener);
  }

  check(): Promise<void> {
    if (this.lostError) return Promise.reject(this.lostError);
    if (!this.port.isOpen)
      return Promise.reject(new RatingPadError('not-open', 'the HID keypad is not open'));
    return Promise.resolve();
  }

  setLight(): Promise<void> {
    return unsupported('light');
  }

  beep(): Promise<void> {
    return unsupported('beeper');
  }

  show(): Promise<void> {
    return unsupported('display');
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.port.close();
  }
}

function unsupported(what: string): Promise<void> {
  return Promise.reject(new RatingPadError('refused', `a HID keypad has no ${what} the host can drive`));
}
