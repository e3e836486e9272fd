// A printer through the Linux usblp driver: writes to /dev/usb/lpN, its IEEE 1284 Device ID from sysfs
// (/sys/class/usbmisc/lpN/device/ieee1284_id). usblp's LPGETSTATUS needs an ioctl node cannot make, so the
// printer's status is read from the writes: usblp blocks them while the printer is out of paper.
import { createWriteStream, existsSync, readFileSync, type WriteStream } from 'node:fs';
import { basename, join } from 'node:path';
import { DeviceAbsentError } from '../device.js';
import { LinkListeners, type ByteLink } from './byte-link.js';
import { parseIeee1284Id, type Ieee1284Id } from './ieee1284.js';

export interface UsbLpOptions {
  path: string;
  /** Root of sysfs (tests point it at a directory of their own). */
  sysfsRoot?: string;
}

/** The Device ID the kernel read from the printer, when sysfs has it. */
export function readUsbLpDeviceId(opts: UsbLpOptions): Ieee1284Id | undefined {
  const file = join(
    opts.sysfsRoot ?? '/sys',
    'class',
    'usbmisc',
    basename(opts.path),
    'device',
    'ieee1284_id',
  );
  if (!existsSync(file)) return undefined;
  return parseIeee1284Id(readFileSync(file, 'latin1').trim());
}

export function openUsbLp(opts: UsbLpOptions): Promise<ByteLink> {
  if (!existsSync(opts.path)) return Promise.reject(new DeviceAbsentError(`${opts.path} is not present`));
  return new Promise((resolve, reject) => {
    const stream = createWriteStream(opts.path, { flags: 'w', highWaterMark: 4096 });
    stream.once('open', () => resolve(new UsbLpLink(stream)));
    stream.once('error', (err: NodeJS.ErrnoException) =>
      reject(err.code === 'ENOENT' || err.code === 'ENODEV' ? new DeviceAbsentError(err.message) : err),
    );
  });
}

class UsbLpLink implements ByteLink {
  private readonly listeners = new LinkListeners();
  private closing = false;
  private lastError: Error | undefined;

  constructor(private readonly stream: WriteStream) {
    stream.on('error', (err) => (this.lastError = err));
    stream.on('close', () =>
      this.listeners.emitClose(
        this.closing ? undefined : (this.lastError ?? new Error('printer device closed')),
      ),
    );
  }

  get isOpen(): boolean {
    return !this.stream.destroyed && !this.stream.closed;
  }

  write(data: Buffer): Promise<void> {
    return new Promise((resolve, reject) => {
      this.stream.write(data, (err) => (err ? reject(err) : resolve()));
    });
  }

  onData(listener: (chunk: Buffer) => void): () => void {
    return this.listeners.onData(listener);
  }

  onClose(listener: (err?: Error) => void): () => void {
    return this.listeners.onClose(listener);
  }

  close(): Promise<void> {
    if (!this.isOpen) return Promise.resolve();
    this.closing = true;
    return new Promise((resolve) => {
      this.stream.once('close', () => resolve());
      this.stream.destroy();
    });
  }
}
