// What a device kind is, in one place: its label, how its driver is built, and the hooks the CLI's doctor and
// setup wizard call. Its config options live in config/devices/<kind>.ts (config/ imports nothing from the
// agent, and the loader checks them before any agent code runs).
import type { Logger } from 'pino';
import type { DeviceConfigOf, DeviceKind } from '../../config/schema.js';
import type { DriverOf } from '../devices/kind-drivers.js';
import type { AnyOperation } from '../operations/operation.js';

/** One line of `boxagent doctor`. */
export interface DoctorCheck {
  check: string;
  verdict: 'ok' | 'warn' | 'fail';
  detail: string;
  fix?: string;
}

/** What `devices scan` read from sysfs about one attached device (nothing is opened). */
export interface AttachedDevice {
  class: 'serial' | 'usb-printer' | 'parallel-printer' | 'hid' | 'video';
  /** The device node, e.g. /dev/ttyUSB0. */
  node: string;
  vendorId?: string;
  productId?: string;
  description?: string;
  /** IEEE 1284 Device ID string of a USB printer. */
  ieee1284?: string;
}

export interface DeviceKindUnit<K extends DeviceKind> {
  kind: K;
  /** What clerks and installers call it. */
  label: { 'zh-CN': string; en: string };
  /** The operations that work on devices of this kind; the catalog lists them after the core ones. */
  operations: readonly AnyOperation[];
  /** Builds the driver; throws UnsupportedDeviceError for a transport the kind cannot use. */
  createDriver(device: DeviceConfigOf<K>, log?: Logger): DriverOf<K>;
  /** The device node a device uses beyond its transport's own (a camera's V4L2 source), for doctor. */
  deviceNode?(device: DeviceConfigOf<K>): { path: string; group: string } | undefined;
  /** `devices scan` and `config init`: the profile an attached device matches, when it looks like this kind. */
  scan?(device: AttachedDevice): { profile: string } | undefined;
  /** Doctor's checks of what every device of this kind needs on the box (ffmpeg for cameras). */
  doctor?(devices: readonly DeviceConfigOf<K>[]): DoctorCheck[];
  /** `config init`: what to type for a device of this kind, and the options to ask about once it is chosen. */
  wizard: {
    transportHint: string;
    askOptions?(
      ask: (question: string, fallback: string) => Promise<string>,
    ): Promise<Record<string, unknown>>;
  };
}
