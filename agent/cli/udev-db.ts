// udev's view of the attached devices, from `udevadm info --export-db`: one record per device with its node,
// its symlinks and the properties udev's own rules gave it (ID_VENDOR_ID, ID_SERIAL_SHORT,
// ID_USB_INTERFACE_NUM, ID_PATH, …). Stable names are best built from what udev itself will match on.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { CliError, EXIT_UNAVAILABLE } from './support.js';

export interface UdevRecord {
  /** The sysfs path below /sys, e.g. /devices/pci0000:00/…/1-2:1.0/ttyUSB0/tty/ttyUSB0. */
  devpath: string;
  /** The node, e.g. /dev/ttyUSB0 (absent for devices without one, such as USB interfaces). */
  devname?: string;
  /** The node's symlinks as absolute paths (/dev/serial/by-id/…). */
  links: string[];
  /** The properties (E: lines). */
  env: Record<string, string>;
}

/** Parses the export format: blank-line separated records of `X: value` lines (P, N, S, E, …). */
export function parseUdevDb(text: string): UdevRecord[] {
  const records: UdevRecord[] = [];
  for (const block of text.split(/\n\s*\n/)) {
    let devpath: string | undefined;
    let devname: string | undefined;
    const links: string[] = [];
    const env: Record<string, string> = {};
    for (const line of block.split('\n')) {
      const m = /^([A-Z]): (.*)$/.exec(line);
      if (!m) continue;
      const [, tag, value] = m as unknown as [string, string, string];
      if (tag === 'P') devpath = value;
      else if (tag === 'N') devname = `/dev/${value}`;
      else if (tag === 'S') links.push(`/dev/${value}`);
      else if (tag === 'E') {
        const eq = value.indexOf('=');
        if (eq > 0) env[value.slice(0, eq)] = value.slice(eq + 1);
      }
    }
    if (!devpath) continue;
    devname ??= env.DEVNAME;
    records.push({ devpath, ...(devname ? { devname } : {}), links, env });
  }
  return records;
}

/** The database from a saved export (tests, an image built elsewhere) or from the running udev. */
export function readUdevDb(file?: string): UdevRecord[] {
  if (file) {
    try {
      return parseUdevDb(readFileSync(file, 'utf8'));
    } catch (err) {
      throw new CliError(`cannot read the udev database export ${file}: ${(err as Error).message}`);
    }
  }
  const r = spawnSync('udevadm', ['info', '--export-db'], {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    timeout: 20_000,
  });
  if (r.error || r.status !== 0) {
    throw new CliError(
      `cannot ask udev for its devices (udevadm info --export-db: ${r.error?.message ?? r.stderr.trim()}); ` +
        'install udev or pass --udev-db FILE',
      EXIT_UNAVAILABLE,
    );
  }
  return parseUdevDb(r.stdout);
}

/** The record whose node or one of whose symlinks is `path`. */
export function recordForNode(db: readonly UdevRecord[], path: string): UdevRecord | undefined {
  return db.find((r) => r.devname === path || r.links.includes(path));
}

/** The USB device (not interface) a node hangs from: the nearest ancestor with DEVTYPE=usb_device. */
export function usbDeviceOf(db: readonly UdevRecord[], node: UdevRecord): UdevRecord | undefined {
  let best: UdevRecord | undefined;
  for (const r of db) {
    if (r.env.DEVTYPE !== 'usb_device' || !node.devpath.startsWith(`${r.devpath}/`)) continue;
    if (!best || r.devpath.length > best.devpath.length) best = r;
  }
  return best;
}
