// Stable device names for the configured devices: udev rules that add `/dev/boxagent/<device id>` for the
// node each device uses today, matched by what stays the same when the box reboots or the cable is moved —
// the USB vendor/product and serial number, or the USB socket when the device has no serial number — and,
// where one USB device has several nodes (a 4-port FTDI, a camera with an infrared sensor), the interface.
// The device data is udev's own (`udevadm info --export-db`, see udev-db.ts).
import type { DeviceConfig } from '../../config/schema.js';
import { recordForNode, usbDeviceOf, type UdevRecord } from './udev-db.js';

export const LINKS_RULES_FILE = 'etc/udev/rules.d/71-boxagent-devices.rules';
export const LINK_DIR = '/dev/boxagent';

export interface DeviceLink {
  device: string;
  /** The udev rule line, or undefined when the device cannot be matched (with the reason). */
  rule?: string;
  reason?: string;
  /** The stable path to put in the device's config. */
  link: string;
  /** The config key to change so the daemon uses the link. */
  configKey?: string;
}

/** A node to link: the configured path, the sysfs class udev files it under, and the config key naming it. */
interface NodeToLink {
  device: string;
  name: string;
  path: string;
  subsystem: 'tty' | 'usbmisc' | 'video4linux';
  configKey: string;
}

function hex4(n: number): string {
  return n.toString(16).padStart(4, '0');
}

/**
 * A value udev compares as a glob: one with glob or quoting characters cannot be matched exactly, so it is
 * not used (the socket is, instead).
 */
function matchable(value: string | undefined): value is string {
  return value !== undefined && value !== '' && /^[\x20-\x7e]+$/.test(value) && !/[*?[\]|"\\]/.test(value);
}

/** What identifies the USB device of a node: from its usb_device record, else from the node's own properties. */
interface UsbIdentity {
  vendorId: string;
  productId: string;
  serial?: string;
  /** The USB port path (`1-3.2`): the socket it is plugged into. */
  port: string;
}

function usbIdentity(db: readonly UdevRecord[], node: UdevRecord): UsbIdentity | undefined {
  const usb = usbDeviceOf(db, node);
  if (!usb) return undefined;
  // PRODUCT is the kernel's own "vvvv/pppp/bcd" in unpadded hex: there even when usb_id did not run.
  const [v, p] = (usb.env.PRODUCT ?? '').split('/');
  const vendorId = usb.env.ID_VENDOR_ID ?? (v ? v.padStart(4, '0') : undefined);
  const productId = usb.env.ID_MODEL_ID ?? (p ? p.padStart(4, '0') : undefined);
  if (!vendorId || !productId) return undefined;
  const serial = usb.env.ID_SERIAL_SHORT ?? node.env.ID_SERIAL_SHORT;
  const port = usb.devpath.slice(usb.devpath.lastIndexOf('/') + 1);
  return { vendorId, productId, ...(matchable(serial) ? { serial } : {}), port };
}

/**
 * The USB interface number of a node as udev's usb_id writes it (two hex digits): its property, else from the
 * interface directory in its path (`1-2:1.3` → "03").
 */
function interfaceNumber(node: UdevRecord): string | undefined {
  if (node.env.ID_USB_INTERFACE_NUM) return node.env.ID_USB_INTERFACE_NUM;
  const m = /\/\d+-[\d.]+:\d+\.(\d+)\//.exec(`${node.devpath}/`);
  return m ? Number(m[1]).toString(16).padStart(2, '0') : undefined;
}

/** The configured local nodes of a device (several for a camera with an infrared source). */
function nodesOf(d: DeviceConfig): NodeToLink[] {
  const t = d.transport;
  const key = `devices.${d.id}`;
  if (t.type === 'serial')
    return [{ device: d.id, name: d.id, path: t.path, subsystem: 'tty', configKey: `${key}.transport.path` }];
  if (t.type === 'usblp')
    return [
      { device: d.id, name: d.id, path: t.path, subsystem: 'usbmisc', configKey: `${key}.transport.path` },
    ];
  if (t.type === 'video' && d.kind === 'camera') {
    const nodes: NodeToLink[] = [];
    const { source, irSource } = d.camera;
    if (source?.startsWith('/'))
      nodes.push({
        device: d.id,
        name: d.id,
        path: source,
        subsystem: 'video4linux',
        configKey: `${key}.camera.source`,
      });
    if (irSource?.startsWith('/'))
      nodes.push({
        device: d.id,
        name: `${d.id}-ir`,
        path: irSource,
        subsystem: 'video4linux',
        configKey: `${key}.camera.irSource`,
      });
    return nodes;
  }
  return [];
}

/**
 * The match part of the rule for one node, or the reason there is none. udev compares all ATTRS keys of a
 * rule on ONE device up the chain, so vendor, product, serial and socket (all on the USB device) are ATTRS,
 * and the interface (on the interface, one level below) is the property usb_id sets on the node:
 * ENV{ID_USB_INTERFACE_NUM}. udev's 60-serial.rules and 60-persistent-v4l.rules import usb_id for tty and
 * video4linux nodes, which is why this file sorts after them (71-).
 */
function matchFor(db: readonly UdevRecord[], n: NodeToLink, node: UdevRecord): string | { reason: string } {
  const ids = usbIdentity(db, node);
  if (n.subsystem === 'video4linux') {
    // Only the capture node: a UVC camera also has a metadata node (index 1) under the same interface.
    const capture = `SUBSYSTEM=="video4linux", KERNEL=="video[0-9]*", ATTR{index}=="0"`;
    const ifnum = interfaceNumber(node);
    if (ids?.serial && matchable(node.env.ID_SERIAL) && ifnum)
      return `${capture}, ENV{ID_SERIAL}=="${node.env.ID_SERIAL}", ENV{ID_USB_INTERFACE_NUM}=="${ifnum}"`;
    // No serial number: the socket and interface, as udev's ID_PATH names them.
    if (matchable(node.env.ID_PATH)) return `${capture}, ENV{ID_PATH}=="${node.env.ID_PATH}"`;
    return { reason: `${n.path} has neither a USB serial number nor a bus path in udev's database` };
  }
  if (!ids) return { reason: `${n.path} is not a USB device; its name is stable` };
  const parts = [
    `SUBSYSTEM=="${n.subsystem}"`,
    `ATTRS{idVendor}=="${ids.vendorId}"`,
    `ATTRS{idProduct}=="${ids.productId}"`,
    // Two identical adapters without serial numbers can only be told apart by the socket they are in.
    ids.serial ? `ATTRS{serial}=="${ids.serial}"` : `KERNELS=="${ids.port}"`,
  ];
  // One tty per interface on multi-port adapters (FT4232: 00–03, CP2105: 00–01); "00" on single-port ones.
  const ifnum = interfaceNumber(node);
  if (n.subsystem === 'tty' && ifnum) parts.push(`ENV{ID_USB_INTERFACE_NUM}=="${ifnum}"`);
  return parts.join(', ');
}

/**
 * One link per configured device node; devices on the network or simulated get none. `udevDb` is asked only
 * when a device has a local node (a box with only network and libusb devices needs no udevadm).
 */
export function deviceLinks(
  devices: readonly DeviceConfig[],
  udevDb: () => readonly UdevRecord[],
): DeviceLink[] {
  const links: DeviceLink[] = [];
  let known: readonly UdevRecord[] | undefined;
  const db = (): readonly UdevRecord[] => (known ??= udevDb());
  for (const d of devices) {
    const t = d.transport;
    if (t.type === 'usb') {
      // Driven through libusb: the raw USB device node, matched on the IDs the config already names.
      const ids = `ATTR{idVendor}=="${hex4(t.vendorId)}", ATTR{idProduct}=="${hex4(t.productId)}"`;
      links.push({
        device: d.id,
        link: `${LINK_DIR}/${d.id}`,
        rule: `SUBSYSTEM=="usb", ENV{DEVTYPE}=="usb_device", ${ids}, GROUP="plugdev", MODE="0660", SYMLINK+="boxagent/${d.id}"`,
      });
      continue;
    }
    for (const n of nodesOf(d)) {
      const link = `${LINK_DIR}/${n.name}`;
      const node = recordForNode(db(), n.path);
      if (!node) {
        links.push({
          device: n.name,
          link,
          configKey: n.configKey,
          reason: `${n.path} is not attached now (not in udev's database)`,
        });
        continue;
      }
      const match = matchFor(db(), n, node);
      if (typeof match !== 'string') {
        links.push({ device: n.name, link, configKey: n.configKey, reason: match.reason });
        continue;
      }
      links.push({
        device: n.name,
        link,
        configKey: n.configKey,
        rule: `${match}, SYMLINK+="boxagent/${n.name}"`,
      });
    }
  }
  return links;
}

/** The rules file for these links. */
export function linksRulesFile(links: readonly DeviceLink[]): string {
  const lines = [
    '# Written by `boxagent service links`: /dev/boxagent/<name> for each configured local device node.',
    '# Run it again after replacing a device; see also 70-boxagent.rules (permissions).',
  ];
  for (const l of links) {
    lines.push(l.rule ? `# ${l.device}\n${l.rule}` : `# ${l.device}: no rule — ${l.reason ?? 'unknown'}`);
  }
  return lines.join('\n') + '\n';
}
