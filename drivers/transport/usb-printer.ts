// A USB printer-class device (class 7) through libusb with the `usb` package. usb@2 is used: its legacy API
// has what a printer needs (detach the kernel's usblp driver, claim the interface, class control requests,
// bulk transfers) and ships prebuilt binaries; usb@3 keeps only the WebUSB-style API.
//   GET_DEVICE_ID   bmRequestType A1, bRequest 00 → IEEE 1284 Device ID
//   GET_PORT_STATUS A1, 01 → one byte: 0x20 paper empty, 0x10 selected (online), 0x08 no error
//   SOFT_RESET      21, 02
import { DeviceAbsentError } from '../device.js';
import { LinkListeners, type ByteLink } from './byte-link.js';
import { parseDeviceIdReply, type Ieee1284Id } from './ieee1284.js';

export interface UsbPrinterOptions {
  vendorId: number;
  productId: number;
  /** Bulk OUT transfers that take longer fail (the printer is stalled); status tells why. */
  transferTimeoutMs?: number;
}

export interface PortStatus {
  paperEmpty: boolean;
  selected: boolean;
  error: boolean;
}

/** A ByteLink that can also ask the printer for its port status. */
export interface UsbPrinterLink extends ByteLink {
  readonly deviceId: Ieee1284Id;
  portStatus(): Promise<PortStatus>;
  softReset(): Promise<void>;
}

// The subset of usb@2's legacy API this transport uses: the real package and the test's mock both fit it.
export interface UsbEndpointLike {
  direction: 'in' | 'out';
  transferType: number;
  timeout: number;
  transfer(buffer: Buffer, callback: (error: Error | undefined, actual: number) => void): unknown;
}
export interface UsbInterfaceLike {
  descriptor: { bInterfaceClass: number; bInterfaceNumber: number; bAlternateSetting: number };
  endpoints: UsbEndpointLike[];
  isKernelDriverActive(): boolean;
  detachKernelDriver(): void;
  claim(): void;
  release(closeEndpoints: boolean, callback: (error?: Error) => void): void;
}
export interface UsbDeviceLike {
  open(): void;
  close(): void;
  interfaces?: UsbInterfaceLike[];
  controlTransfer(
    bmRequestType: number,
    bRequest: number,
    wValue: number,
    wIndex: number,
    dataOrLength: number | Buffer,
    callback: (error: Error | undefined, data: Buffer | number | undefined) => void,
  ): unknown;
}
export interface UsbBinding {
  findByIds(vid: number, pid: number): UsbDeviceLike | undefined;
}

const PRINTER_CLASS = 7;
const BULK = 2;

async function realBinding(): Promise<UsbBinding> {
  const usb = await import('usb');
  return { findByIds: (vid, pid) => usb.findByIds(vid, pid) as unknown as UsbDeviceLike | undefined };
}

function control(
  dev: UsbDeviceLike,
  type: number,
  req: number,
  value: number,
  index: number,
  data: number | Buffer,
): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    dev.controlTransfer(type, req, value, index, data, (err, buf) =>
      err ? reject(err) : resolve(Buffer.isBuffer(buf) ? buf : Buffer.alloc(0)),
    ),
  );
}

export async function openUsbPrinter(opts: UsbPrinterOptions, binding?: UsbBinding): Promise<UsbPrinterLink> {
  const usb = binding ?? (await realBinding());
  const dev = usb.findByIds(opts.vendorId, opts.productId);
  const id = `${opts.vendorId.toString(16).padStart(4, '0')}:${opts.productId.toString(16).padStart(4, '0')}`;
  if (!dev) throw new DeviceAbsentError(`no USB device ${id}`);
  dev.open();
  const iface = dev.interfaces?.find((i) => i.descriptor.bInterfaceClass === PRINTER_CLASS);
  const out = iface?.endpoints.find((e) => e.direction === 'out' && e.transferType === BULK);
  if (!iface || !out) {
    dev.close();
    throw new Error(`USB device ${id} has no printer-class interface with a bulk OUT endpoint`);
  }
  // The kernel's usblp driver holds the interface when it is loaded; libusb needs it released.
  if (iface.isKernelDriverActive()) iface.detachKernelDriver();
  iface.claim();
  out.timeout = opts.transferTimeoutMs ?? 0;
  const { bInterfaceNumber: n, bAlternateSetting: alt } = iface.descriptor;
  const deviceId = parseDeviceIdReply(await control(dev, 0xa1, 0x00, 0, (n << 8) | alt, 1024));
  return new UsbLink(dev, iface, out, deviceId);
}

class UsbLink implements UsbPrinterLink {
  private readonly listeners = new LinkListeners();
  private open = true;

  constructor(
    private readonly dev: UsbDeviceLike,
    private readonly iface: UsbInterfaceLike,
    private readonly out: UsbEndpointLike,
    readonly deviceId: Ieee1284Id,
  ) {}

  get isOpen(): boolean {
    return this.open;
  }

  write(data: Buffer): Promise<void> {
    return new Promise((resolve, reject) =>
      this.out.transfer(data, (err) => {
        if (!err) return resolve();
        // LIBUSB_ERROR_NO_DEVICE: unplugged; the link is gone for good.
        if (/NO_DEVICE/.test(err.message)) this.lost(err);
        reject(err);
      }),
    );
  }

  async portStatus(): Promise<PortStatus> {
    const b = (await control(this.dev, 0xa1, 0x01, 0, this.iface.descriptor.bInterfaceNumber, 1))[0] ?? 0;
    return { paperEmpty: (b & 0x20) !== 0, selected: (b & 0x10) !== 0, error: (b & 0x08) === 0 };
  }

  async softReset(): Promise<void> {
    await control(this.dev, 0x21, 0x02, 0, this.iface.descriptor.bInterfaceNumber, Buffer.alloc(0));
  }

  onData(listener: (chunk: Buffer) => void): () => void {
    return this.listeners.onData(listener);
  }

  onClose(listener: (err?: Error) => void): () => void {
    return this.listeners.onClose(listener);
  }

  async close(): Promise<void> {
    if (!this.open) return;
    this.open = false;
    await new Promise<void>((resolve) => this.iface.release(true, () => resolve()));
    this.dev.close();
    this.listeners.emitClose();
  }

  private lost(err: Error): void {
    if (!this.open) return;
    this.open = false;
    this.listeners.emitClose(err);
  }
}

export function isUsbPrinterLink(link: ByteLink): link is UsbPrinterLink {
  return typeof (link as Partial<UsbPrinterLink>).portStatus === 'function';
}
