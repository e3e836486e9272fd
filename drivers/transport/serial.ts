// Serial ports (USB-serial adapters, pty pairs in tests) through the `serialport` package.
import { SerialPort } from 'serialport';
import { DeviceAbsentError } from '../device.js';
import { LinkListeners, type ByteLink } from './byte-link.js';

export interface SerialOptions {
  path: string;
  baudRate: number;
  dataBits: 5 | 6 | 7 | 8;
  parity: 'none' | 'even' | 'odd';
  stopBits: 1 | 2;
  /** RTS/CTS hardware flow control: printers use it to hold the host off when their buffer is full. */
  rtscts: boolean;
}

export function openSerial(opts: SerialOptions): Promise<ByteLink> {
  return new Promise((resolve, reject) => {
    const port = new SerialPort({ ...opts, autoOpen: false });
    port.open((err) => {
      if (err) {
        // serialport reports a missing node as "Error: No such file or directory, cannot open /dev/…".
        const absent = /no such file|ENOENT/i.test(err.message);
        reject(absent ? new DeviceAbsentError(`${opts.path} is not present`) : err);
        return;
      }
      resolve(new SerialLink(port));
    });
  });
}

class SerialLink implements ByteLink {
  private readonly listeners = new LinkListeners();
  private closing = false;

  constructor(private readonly port: SerialPort) {
    port.on('data', (chunk: Buffer) => this.listeners.emitData(chunk));
    // 'close' carries an error when the device vanished (unplugged), none when we closed it.
    port.on('close', (err?: Error | null) =>
      this.listeners.emitClose(this.closing ? undefined : (err ?? new Error('serial port closed'))),
    );
    port.on('error', () => {
      // Errors also surface as a rejected write or a close; this handler keeps them from crashing the process.
    });
  }

  get isOpen(): boolean {
    return this.port.isOpen;
  }

  write(data: Buffer): Promise<void> {
    return new Promise((resolve, reject) => {
      this.port.write(data, (err) => {
        if (err) return reject(err);
        this.port.drain((e) => (e ? reject(e) : resolve()));
      });
    });
  }

  onData(listener: (chunk: Buffer) => void): () => void {
    return this.listeners.onData(listener);
  }

  onClose(listener: (err?: Error) => void): () => void {
    return this.listeners.onClose(listener);
  }

  close(): Promise<void> {
    if (!this.port.isOpen) return Promise.resolve();
    this.closing = true;
    return new Promise((resolve) => this.port.close(() => resolve()));
  }
}
