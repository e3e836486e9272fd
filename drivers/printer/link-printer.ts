// A real ESC/P printer on a byte link (serial port or raw TCP 9100). The LQ-630K has no status back channel
// on these links, so status is what the link shows: open and draining = ready; a write that has not drained
// for `stallMs` = stalled (paper out, cover open or offline: the printer holds the data until it can print).
import type { DeviceConditionCode, DeviceIdentity, SelfTestResult } from '../device.js';
import type { ByteLink } from '../transport/byte-link.js';
import type { Ieee1284Id } from '../transport/ieee1284.js';
import { isUsbPrinterLink } from '../transport/usb-printer.js';
import type { PrinterSetup } from './forms.js';
import {
  CHUNK_BYTES,
  PrintInterruptedError,
  type PrinterDriver,
  statusConditions,
  type PrinterStatus,
} from './printer-driver.js';

export interface LinkPrinterOptions {
  /** Opens the link (serial or TCP); throws DeviceAbsentError when the printer is not there. */
  open: () => Promise<ByteLink>;
  /** Shown in the identity: e.g. "serial /dev/ttyUSB0". */
  describe: string;
  /** The printer's IEEE 1284 Device ID where the transport has one out of band (usblp: sysfs). */
  identify?: () => Ieee1284Id | undefined;
  setup: PrinterSetup;
  stallMs?: number;
}

export class EscpLinkPrinter implements PrinterDriver {
  readonly setup: PrinterSetup;
  private link: ByteLink | undefined;
  private lostReason: string | undefined;
  private lostListener: ((err: Error) => void) | undefined;
  /** When the write under way started, while one is. */
  private writingSince: number | undefined;

  constructor(private readonly opts: LinkPrinterOptions) {
    this.setup = opts.setup;
  }

  async open(): Promise<DeviceIdentity> {
    const link = await this.opts.open();
    this.link = link;
    this.lostReason = undefined;
    link.onClose((err) => {
      if (this.link !== link) return; // our own close()
      this.lostReason = err?.message ?? 'link closed';
      // A vanished serial line or a dropped TCP connection is reported now, not at the next probe.
      this.lostListener?.(new Error(this.lostReason));
    });
    const id = isUsbPrinterLink(link) ? link.deviceId : this.opts.identify?.();
    if (id) {
      const model = [id.manufacturer, id.model].filter(Boolean).join(' ') || this.setup.profile.model;
      return { model: `${model} (${this.opts.describe})`, ...(id.serial ? { serial: id.serial } : {}) };
    }
    return { model: `${this.setup.profile.model} (${this.opts.describe})` };
  }

  onLost(listener: (err: Error) => void): void {
    this.lostListener = listener;
  }

  probe(): Promise<void> {
    if (!this.link?.isOpen) return Promise.reject(new Error(this.lostReason ?? 'link is not open'));
    return Promise.resolve();
  }

  async selfTest(): Promise<SelfTestResult> {
    await this.probe();
    return {
      ok: true,
      summary: `link to the printer is open (${this.opts.describe}); no status channel on this transport`,
    };
  }

  async status(): Promise<PrinterStatus> {
    const link = this.link;
    if (!link?.isOpen) return { state: 'offline', detail: this.lostReason ?? 'link is not open' };
    // USB printer class: the printer says it itself (GET_PORT_STATUS).
    if (isUsbPrinterLink(link)) {
      const s = await link.portStatus();
      if (s.paperEmpty) return { state: 'paper-out', detail: 'printer reports paper empty' };
      if (!s.selected)
        return {
          state: 'offline',
          detail: 'printer reports not selected (offline)',
          condition: 'printer-offline',
        };
      if (s.error) return { state: 'stalled', detail: 'printer reports an error' };
      return { state: 'ready', detail: 'printer reports selected, paper present' };
    }
    const stallMs = this.opts.stallMs ?? 5000;
    if (this.writingSince !== undefined && Date.now() - this.writingSince > stallMs) {
      return {
        state: 'stalled',
        detail: `the printer has taken no data for ${Math.round((Date.now() - this.writingSince) / 1000)} s (paper out, cover open or offline?)`,
      };
    }
    return { state: 'ready', detail: 'link open' };
  }

  async conditions(): Promise<readonly DeviceConditionCode[]> {
    // A lost link is the supervisor's business (probe, onLost), not a condition.
    if (!this.link?.isOpen) return [];
    return statusConditions(await this.status());
  }

  async print(bytes: Buffer, onProgress?: (sentBytes: number) => void): Promise<void> {
    let sent = 0;
    // Counts a chunk as soon as its write starts: part of it may reach the printer before the link breaks.
    let mayHaveSent = 0;
    const link = this.link;
    if (!link?.isOpen) throw new PrintInterruptedError(this.lostReason ?? 'link is not open', 0);
    // The link's close makes a pending write reject (serial) or never settle (TCP): race the two.
    let unsubscribe = (): void => undefined;
    const lost = new Promise<never>((_, reject) => {
      unsubscribe = link.onClose((err) => reject(new Error(err?.message ?? 'link closed')));
    });
    lost.catch(() => undefined);
    try {
      while (sent < bytes.length) {
        const chunk = bytes.subarray(sent, sent + CHUNK_BYTES);
        this.writingSince = Date.now();
        mayHaveSent = sent + chunk.length;
        await Promise.race([link.write(chunk), lost]);
        sent += chunk.length;
        onProgress?.(sent);
      }
    } catch (err) {
      throw new PrintInterruptedError(err instanceof Error ? err.message : String(err), mayHaveSent);
    } finally {
      this.writingSince = undefined;
      unsubscribe();
    }
  }

  async close(): Promise<void> {
    const link = this.link;
    this.link = undefined;
    await link?.close();
  }
}
