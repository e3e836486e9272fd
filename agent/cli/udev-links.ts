// Stable device names for the configured devices: udev rules that add `/dev/boxagent/<device id>` for the
// node each device uses today, matched by what stays the same when the box reboots or the cable is moved —
// the USB vendor/product and serial number, or the USB socket when the device has no serial number.
import { existsSync, lstatSync, readlinkSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { DeviceConfig } from '../../config/schema.js';
import { usbIds, type UsbIdentity } from './device-scan.js';

export const LINKS_RULES_FILE = 'etc/udev/rules.d/71-boxagent-devices.rules';
export const LINK_DIR = '/dev/boxagent';

export interface DeviceLink {
  device: string;
  /** The udev rule line, or undefined when the device cannot be matched (with the reason). */
  rule?: string;
  reason?: string;
  /** The stable path to put in the device's config. */
  link: string;
  /** The config key to change so the daemon uses the link (serial and usblp transports). */
  configKey?: string;
}

function hex4(n: number): string {
  return n.toString(16).padStart(4, '0');
}

/** `ATTRS{…}` matches for the USB device: vendor, product, and serial number or else the USB socket. */
function usbMatch(ids: UsbIdentity): string {
  const parts = [`ATTRS{idVendor}=="${ids.vendorId}"`, `ATTRS{idProduct}=="${ids.productId}"`];
  // Two identical adapters without serial numbers can only be told apart by the socket they are in.
  parts.push(ids.serial ? `ATTRS{serial}=="${ids.serial}"` : `KERNELS=="${ids.port}"`);
  return parts.join(', ');
}

/** The kernel name of a device node (`/dev/serial/by-id/usb-…` → `ttyUSB0`), read under `root`. */
function kernelName(path: string, root: string): string {
  // /dev/serial/by-id and /dev/boxagent names are one symlink away from the kernel's node.
  const local = join(root, path);
  try {
    if (lstatSync(local).isSymbolicLink()) return basename(readlinkSync(local));
  } catch {
    // not there now: the name as written
  }
  return basename(path);
}

/** One link per configured device with a local node; devices on the network or simulated get none. */
export function deviceLinks(devices: readonly DeviceConfig[], root = '/'): DeviceLink[] {
  const links: DeviceLink[] = [];
  for (const d of devices) {
    const t = d.transport;
    const link = `${LINK_DIR}/${d.id}`;
    const symlink = `SYMLINK+="boxagent/${d.id}"`;
    if (t.type === 'usb') {
      // Driven through libusb: the raw USB device node, matched on the IDs the config already names.
      const ids = `ATTR{idVendor}=="${hex4(t.vendorId)}", ATTR{idProduct}=="${hex4(t.productId)}"`;
      links.push({
        device: d.id,
        link,
        rule: `SUBSYSTEM=="usb", ENV{DEVTYPE}=="usb_device", ${ids}, GROUP="plugdev", MODE="0660", ${symlink}`,
      });
      continue;
    }
    if (t.type !== 'serial' && t.type !== 'usblp') continue;
    const name = kernelName(t.path, root);
    const subsystem = t.type === 'serial' ? 'tty' : 'usbmisc';
    const sysClass = join(root, 'sys/class', subsystem, name, 'device');
    const configKey = `devices.${d.id}.transport.path`;
    if (!existsSync(sysClass)) {
      links.push({
        device: d.id,
        link,
        configKey,
        reason: `${t.path} is not attached now (no ${name} in sysfs)`,
      });
      continue;
    }
    const ids = usbIds(sysClass);
    if (!ids.vendorId || !ids.productId) {
      // An on-board port (ttyS0) does not move: its name is already stable.
      links.push({
        device: d.id,
        link,
        configKey,
        reason: `${t.path} is not a USB device; its name is stable`,
      });
      continue;
    }
    links.push({
      device: d.id,
      link,
      configKey,
      rule: `SUBSYSTEM=="${subsystem}", ${usbMatch(ids)}, ${symlink}`,
    });
  }
  return links;
}

/** The rules file for these links. */
export function linksRulesFile(links: readonly DeviceLink[]): string {
  const lines = [
    '# Written by `boxagent service links`: /dev/boxagent/<device id> for each configured USB device.',
    '# Run it again after replacing a device; see also 70-boxagent.rules (permissions).',
  ];
  for (const l of links) {
    lines.push(l.rule ? `# ${l.device}\n${l.rule}` : `# ${l.device}: no rule — ${l.reason ?? 'unknown'}`);
  }
  return lines.join('\n') + '\n';
}
