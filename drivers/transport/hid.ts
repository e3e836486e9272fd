// USB HID devices through node-hid (hidapi on hidraw): enumerate, open by VID:PID (+ serial number, interface,
// usage) or by hidraw path, input reports as a stream, output reports written, and an unplugged device seen
// as a lost port so the supervisor reconnects. The port is a HidReportPort, so `hidByteLink` also runs a
// byte-stream protocol over it.
//
// Reports are passed as hidraw gives them: an input report starts with its report ID only when the device
// numbers its reports; an output report always starts with the report ID (0 when the device does not number
// them), which hidapi strips before sending.
import { DeviceAbsentError } from '../device.js';
import { LinkListeners } from './byte-link.js';
import type { HidReportPort } from './hid-reports.js';

export interface HidDeviceInfo {
  vendorId: number;
  productId: number;
  /** The hidraw node (`/dev/hidraw3`) on Linux. */
  path?: string;
  serialNumber?: string;
  manufacturer?: string;
  product?: string;
  interface: number;
  usagePage?: number;
  usage?: number;
}

export type HidSelector =
  | { path: string }
  | {
      vendorId: number;
      productId: number;
      serialNumber?: string;
      /** The USB interface, for devices that expose several (a keyboard plus a consumer-control interface). */
      interface?: number;
      usagePage?: number;
      usage?: number;
    };

/** What this transport uses of an open node-hid `HIDAsync` device; tests stand a fake in its place. */
export interface HidHandle {
  on(event: 'data', listener: (data: Buffer) => void): unknown;
  /** node-hid's read thread passes a string here, not an Error. */
  on(event: 'error', listener: (err: unknown) => void): unknown;
  write(data: Buffer): Promise<number>;
  close(): Promise<void>;
}

/** The node-hid boundary: enumeration and opening by path. */
export interface HidBackend {
  devices(): Promise<HidDeviceInfo[]>;
  open(path: string): Promise<HidHandle>;
}

/** node-hid, loaded on first use: a box without HID devices never loads the native module. */
export const nodeHidBackend: HidBackend = {
  async devices() {
    const hid = await import('node-hid');
    return hid.devicesAsync();
  },
  async open(path) {
    const hid = await import('node-hid');
    return hid.HIDAsync.open(path);
  },
};

export function hidId(vendorId: number, productId: number): string {
  const hex = (n: number) => n.toString(16).padStart(4, '0');
  return `${hex(vendorId)}:${hex(productId)}`;
}

/** HID devices attached now, optionally only those a selector matches. */
export async function listHidDevices(
  selector?: HidSelector,
  backend: HidBackend = nodeHidBackend,
): Promise<HidDeviceInfo[]> {
  const all = await backend.devices();
  return selector ? all.filter((d) => matches(d, selector)) : all;
}

function matches(d: HidDeviceInfo, s: HidSelector): boolean {
  if ('path' in s) return d.path === s.path;
  return (
    d.vendorId === s.vendorId &&
    d.productId === s.productId &&
    (s.serialNumber === undefined || d.serialNumber === s.serialNumber) &&
    (s.interface === undefined || d.interface === s.interface) &&
    (s.usagePage === undefined || d.usagePage === s.usagePage) &&
    (s.usage === undefined || d.usage === s.usage)
  );
}

function describe(s: HidSelector): string {
  if ('path' in s) return s.path;
  const extra = [
    s.serialNumber !== undefined ? `serial ${s.serialNumber}` : '',
    s.interface !== undefined ? `interface ${s.interface}` : '',
    s.usagePage !== undefined ? `usage page 0x${s.usagePage.toString(16)}` : '',
    s.usage !== undefined ? `usage 0x${s.usage.toString(16)}` : '',
  ].filter(Boolean);
  return `HID device ${hidId(s.vendorId, s.productId)}${extra.length ? ` (${extra.join(', ')})` : ''}`;
}

export interface HidPort extends HidReportPort {
  /** What enumeration said about the device (only the path when it was opened by a path not listed). */
  readonly info: HidDeviceInfo;
}

/**
 * Opens the first device the selector matches. Throws DeviceAbsentError when none is attached (or the path
 * does not exist); other failures (permissions) are ordinary errors.
 */
export async function openHid(selector: HidSelector, backend: HidBackend = nodeHidBackend): Promise<HidPort> {
  let info: HidDeviceInfo | undefined;
  if ('path' in selector) {
    info = (await backend.devices()).find((d) => d.path === selector.path) ?? {
      vendorId: 0,
      productId: 0,
      path: selector.path,
      interface: -1,
    };
  } else {
    info = (await listHidDevices(selector, backend))[0];
    if (!info) throw new DeviceAbsentError(`${describe(selector)} is not attached`);
  }
  if (!info.path) throw new Error(`${describe(selector)} has no device path to open`);
  let handle: HidHandle;
  try {
    handle = await backend.open(info.path);
  } catch (err) {
    const text = err instanceof Error ? err.message : String(err);
    // Unplugged between enumeration and open.
    if (/no such file|ENOENT/i.test(text)) throw new DeviceAbsentError(`${info.path} is not present`);
    // Otherwise, on a box, nearly always the node's permissions.
    throw new Error(
      `cannot open ${info.path} (${describe(selector)}): ${text}; check that the daemon's user may read and write it (udev rule)`,
    );
  }
  return new NodeHidPort(handle, info);
}

class NodeHidPort implements HidPort {
  private readonly listeners = new LinkListeners();
  private open = true;

  constructor(
    private readonly handle: HidHandle,
    readonly info: HidDeviceInfo,
  ) {
    handle.on('data', (data) => {
      if (this.open) this.listeners.emitData(Buffer.from(data));
    });
    // hidapi's read thread fails when the device goes away: that is the unplug.
    handle.on('error', (err) => this.lost(err));
  }

  get isOpen(): boolean {
    return this.open;
  }

  async writeReport(report: Buffer): Promise<void> {
    if (!this.open) throw new Error('HID device closed');
    await this.handle.write(report);
  }

  onReport(listener: (report: Buffer) => void): () => void {
    return this.listeners.onData(listener);
  }

  onClose(listener: (err?: Error) => void): () => void {
    return this.listeners.onClose(listener);
  }

  async close(): Promise<void> {
    if (!this.open) return;
    this.open = false;
    try {
      await this.handle.close();
    } finally {
      this.listeners.emitClose();
    }
  }

  private lost(err: unknown): void {
    if (!this.open) return;
    this.open = false;
    this.handle.close().catch(() => undefined);
    const text = err instanceof Error ? err.message : String(err);
    this.listeners.emitClose(new Error(`HID device lost: ${text}`));
  }
}
