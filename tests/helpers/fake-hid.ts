// A stand-in for node-hid at its boundary (`HidBackend`): this machine has no /dev/hidraw* and no /dev/uhid,
// so no real or virtual HID device can be opened here. The fake behaves as node-hid 3's HIDAsync does on
// hidraw: input reports arrive as 'data' Buffers (report ID first only for numbered reports), a failed read
// (the device unplugged) is an 'error' event carrying a *string*, writes resolve with the byte count, and
// opening a path that is gone fails with hidapi's "No such file or directory" message.
import { EventEmitter } from 'node:events';
import type { HidBackend, HidDeviceInfo, HidHandle } from '../../drivers/transport/hid.js';

export class FakeHidDevice extends EventEmitter implements HidHandle {
  readonly written: Buffer[] = [];
  closed = false;

  constructor(readonly info: HidDeviceInfo) {
    super();
  }

  write(data: Buffer): Promise<number> {
    if (this.closed) return Promise.reject(new Error('Cannot write to hid device'));
    this.written.push(Buffer.from(data));
    return Promise.resolve(data.length);
  }

  close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }

  /** The device sends an input report (hex, spaces allowed). */
  input(hex: string): void {
    this.emit('data', Buffer.from(hex.replace(/\s+/g, ''), 'hex'));
  }

  /** What hidapi's read thread reports when the device is pulled out. */
  unplug(): void {
    this.emit('error', 'could not read from HID device: No such device');
  }
}

export class FakeHidBackend implements HidBackend {
  readonly opened: FakeHidDevice[] = [];

  constructor(public attached: HidDeviceInfo[]) {}

  devices(): Promise<HidDeviceInfo[]> {
    return Promise.resolve(this.attached.map((d) => ({ ...d })));
  }

  open(path: string): Promise<HidHandle> {
    const info = this.attached.find((d) => d.path === path);
    if (!info) {
      return Promise.reject(
        new Error(
          `cannot open device with path ${path}: Failed to open a device with path '${path}': No such file or directory`,
        ),
      );
    }
    const device = new FakeHidDevice(info);
    this.opened.push(device);
    return Promise.resolve(device);
  }

  /** The device opened last. */
  get last(): FakeHidDevice {
    const d = this.opened.at(-1);
    if (!d) throw new Error('nothing opened');
    return d;
  }
}

/** A keyboard-type rating pad as hidraw enumerates it. */
export function keypadInfo(overrides: Partial<HidDeviceInfo> = {}): HidDeviceInfo {
  return {
    vendorId: 0x1a86,
    productId: 0xe026,
    path: '/dev/hidraw-fake-0',
    serialNumber: 'PJ2024001',
    manufacturer: 'Pingjia',
    product: 'Rating Keypad',
    interface: 0,
    usagePage: 0x01,
    usage: 0x06,
    ...overrides,
  };
}
