// What is attached to the box, read from sysfs (no device is opened): serial ports, USB printers with their
// IEEE 1284 Device ID, parallel-port printers, HID devices and video devices, each matched against known
// device profiles.
import { existsSync, readdirSync, readFileSync, readlinkSync, realpathSync } from 'node:fs';
import { basename, join } from 'node:path';
import { spawnSync } from 'node:child_process';
import type { DeviceKind } from '../../config/schema.js';
import { KIND_UNITS, type AttachedDevice } from '../kinds/index.js';

export interface FoundDevice extends AttachedDevice {
  /** Video: the pixel formats the camera offers (from v4l2-ctl, when it is installed). */
  formats?: string[];
  /** What the box probably uses it for: the first kind whose scan hook knows it (agent/kinds/). */
  match?: { kind: DeviceKind; profile: string };
  /** A config snippet the installer can paste (or give to `config init --device`). */
  suggestion?: string;
}

/** Known USB IDs and 1284 strings. Facts about common parts, not an exhaustive list. */
const USB_SERIAL_BRIDGES: Record<string, string> = {
  '1a86:7523': 'WCH CH340 USB-serial (common in seal machines and ID card readers)',
  '067b:2303': 'Prolific PL2303 USB-serial',
  '0403:6001': 'FTDI FT232 USB-serial',
  '10c4:ea60': 'Silicon Labs CP210x USB-serial',
};

function read(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return undefined;
  }
}

function list(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

export interface UsbIdentity {
  vendorId?: string;
  productId?: string;
  product?: string;
  /** The iSerial string, when the device has one. */
  serial?: string;
  /** The USB port path (`1-1.2`): the socket it is plugged into. */
  port?: string;
}

/** Walks up from a sysfs device directory to the USB device that holds idVendor/idProduct. */
export function usbIds(sysDevice: string): UsbIdentity {
  // sysfs class entries are symlinks into /sys/devices; walk the real path, not the link's text.
  let dir: string;
  try {
    dir = realpathSync(sysDevice);
  } catch {
    return {};
  }
  for (let i = 0; i < 6 && dir.length > 1; i++) {
    const vendorId = read(join(dir, 'idVendor'));
    if (vendorId) {
      const serial = read(join(dir, 'serial'));
      return {
        vendorId,
        productId: read(join(dir, 'idProduct')),
        product: read(join(dir, 'product')),
        ...(serial ? { serial } : {}),
        port: basename(dir),
      };
    }
    dir = join(dir, '..');
  }
  return {};
}

export function scanDevices(root = '/'): FoundDevice[] {
  const sys = join(root, 'sys');
  const found: FoundDevice[] = [];

  for (const name of list(join(sys, 'class/tty')).filter((n) => /^tty(USB|ACM|S)\d+$/.test(n))) {
    const dev = join(sys, 'class/tty', name, 'device');
    if (!existsSync(dev)) continue;
    // Legacy on-board ttyS ports exist whether or not anything is connected; list only those with a driver.
    if (name.startsWith('ttyS') && !existsSync(join(dev, 'driver'))) continue;
    const ids = usbIds(dev);
    const key = ids.vendorId && ids.productId ? `${ids.vendorId}:${ids.productId}` : '';
    const node = `/dev/${name}`;
    found.push({
      class: 'serial',
      node,
      ...(ids.vendorId ? { vendorId: ids.vendorId, productId: ids.productId } : {}),
      description: USB_SERIAL_BRIDGES[key] ?? ids.product ?? 'serial port',
      suggestion: `--device ID:KIND:serial:${stableSerialPath(node, root)}`,
    });
  }

  for (const name of list(join(sys, 'class/usbmisc')).filter((n) => /^lp\d+$/.test(n))) {
    const dev = join(sys, 'class/usbmisc', name, 'device');
    const ieee1284 = read(join(dev, 'ieee1284_id'));
    const ids = usbIds(dev);
    const model = /(?:MDL|MODEL):([^;]+)/.exec(ieee1284 ?? '')?.[1];
    found.push({
      class: 'usb-printer',
      node: `/dev/usb/${name}`,
      ...(ids.vendorId ? { vendorId: ids.vendorId, productId: ids.productId } : {}),
      description: model ?? ids.product ?? 'USB printer',
      ...(ieee1284 ? { ieee1284 } : {}),
    });
  }

  // Printers on a parallel port (LPT): the kernel's lp driver, written like a usblp node. Legacy ports exist
  // whether or not a printer is connected, as ttyS ports do; the installer knows which one has the cable.
  for (const name of list(join(sys, 'class/printer')).filter((n) => /^lp\d+$/.test(n))) {
    const node = `/dev/${name}`;
    found.push({
      class: 'parallel-printer',
      node,
      description: 'parallel port printer (LPT)',
      suggestion: `--device ID:printer:usblp:${node}`,
    });
  }

  for (const name of list(join(sys, 'class/hidraw'))) {
    const uevent = read(join(sys, 'class/hidraw', name, 'device/uevent')) ?? '';
    const hidName = /^HID_NAME=(.*)$/m.exec(uevent)?.[1];
    const hidId = /^HID_ID=[0-9A-F]+:([0-9A-F]+):([0-9A-F]+)$/im.exec(uevent);
    found.push({
      class: 'hid',
      node: `/dev/${name}`,
      ...(hidId
        ? { vendorId: hidId[1]!.slice(-4).toLowerCase(), productId: hidId[2]!.slice(-4).toLowerCase() }
        : {}),
      description: hidName ?? 'HID device',
    });
  }

  for (const name of list(join(sys, 'class/video4linux')).filter((n) => /^video\d+$/.test(n))) {
    const dir = join(sys, 'class/video4linux', name);
    const ids = usbIds(join(dir, 'device'));
    // A UVC camera exposes a metadata node beside each capture node; index 0 is the capture one.
    const index = read(join(dir, 'index'));
    if (index !== undefined && index !== '0') continue;
    const node = `/dev/${name}`;
    const formats = root === '/' ? videoFormats(node) : undefined;
    found.push({
      class: 'video',
      node,
      ...(ids.vendorId ? { vendorId: ids.vendorId, productId: ids.productId } : {}),
      description: read(join(dir, 'name')) ?? 'video device',
      ...(formats ? { formats } : {}),
      suggestion: `--device camera-1:camera:video:${stableVideoPath(node, root)}`,
    });
  }
  return found.map(withMatch);
}

/**
 * The device nodes `devices scan` offers, each with the class systemd's DeviceAllow= must name for the service
 * to open it: `char-` + the driver's name in /proc/devices (not the sysfs class: usblp's usbmisc is "usb").
 */
const NODE_CLASSES: readonly { pattern: RegExp; deviceAllow: string }[] = [
  { pattern: /^\/dev\/ttyUSB\d+$/, deviceAllow: 'char-ttyUSB' },
  { pattern: /^\/dev\/ttyACM\d+$/, deviceAllow: 'char-ttyACM' },
  { pattern: /^\/dev\/ttyS\d+$/, deviceAllow: 'char-ttyS' },
  { pattern: /^\/dev\/usb\/lp\d+$/, deviceAllow: 'char-usb' },
  { pattern: /^\/dev\/lp\d+$/, deviceAllow: 'char-lp' },
  { pattern: /^\/dev\/hidraw\d+$/, deviceAllow: 'char-hidraw' },
  { pattern: /^\/dev\/video\d+$/, deviceAllow: 'char-video4linux' },
];

/** The DeviceAllow= class of a node `devices scan` offers; undefined for a node it does not know. */
export function deviceAllowClass(node: string): string | undefined {
  return NODE_CLASSES.find((c) => c.pattern.test(node))?.deviceAllow;
}

/** The device with the first kind whose scan hook recognises it. */
function withMatch(device: FoundDevice): FoundDevice {
  for (const unit of KIND_UNITS) {
    const match = unit.scan?.(device);
    if (match) return { ...device, match: { kind: unit.kind, profile: match.profile } };
  }
  return device;
}

/**
 * The pixel formats a V4L2 node offers, e.g. ["MJPG", "YUYV"], read with v4l2-ctl (package v4l-utils);
 * undefined when v4l2-ctl is not installed or the node does not answer.
 */
export function videoFormats(node: string): string[] | undefined {
  const r = spawnSync('v4l2-ctl', ['-d', node, '--list-formats'], { encoding: 'utf8', timeout: 3000 });
  if (r.status !== 0 || typeof r.stdout !== 'string') return undefined;
  return [...r.stdout.matchAll(/'([A-Z0-9 ]{4})'/g)].map((m) => m[1]!.trim());
}

/** The stable /dev/v4l/by-id name of a video node, which survives re-plugging into another USB port. */
export function stableVideoPath(node: string, root = '/'): string {
  const byId = join(root, 'dev/v4l/by-id');
  for (const link of list(byId)) {
    try {
      if (basename(readlinkSync(join(byId, link))) === basename(node)) return join('/dev/v4l/by-id', link);
    } catch {
      // not a link
    }
  }
  return node;
}

/** The stable /dev/serial/by-id name for a tty, which survives re-plugging into another USB port. */
export function stableSerialPath(node: string, root = '/'): string {
  const byId = join(root, 'dev/serial/by-id');
  for (const link of list(byId)) {
    try {
      if (basename(readlinkSync(join(byId, link))) === basename(node)) return join('/dev/serial/by-id', link);
    } catch {
      // not a link
    }
  }
  return node;
}
