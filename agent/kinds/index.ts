// The one list of device kinds. Everything that differs per kind (drivers, doctor, the setup wizard) iterates
// it; the list is keyed by the kinds config/devices/ declares, so a kind missing here is a compile error.
import type { Logger } from 'pino';
import type { DeviceConfig, DeviceKind } from '../../config/schema.js';
import type { DeviceDriver } from '../../drivers/device.js';
import { cameraKind } from './camera.js';
import { idCardKind } from './idcard.js';
import type { DeviceKindUnit } from './kind.js';
import { photoPrinterKind } from './photo-printer.js';
import { printerKind } from './printer.js';
import { ratingPadKind } from './rating-pad.js';
import { sealKind } from './seal.js';

export const KINDS: { readonly [K in DeviceKind]: DeviceKindUnit<K> } = {
  printer: printerKind,
  camera: cameraKind,
  seal: sealKind,
  'photo-printer': photoPrinterKind,
  idcard: idCardKind,
  'rating-pad': ratingPadKind,
};

/** Every kind unit, for code that iterates them without caring which is which. */
export const KIND_UNITS = Object.values(KINDS) as readonly DeviceKindUnit<DeviceKind>[];

/** The kind unit of a device entry. */
export function kindOf<K extends DeviceKind>(kind: K): DeviceKindUnit<K> {
  return KINDS[kind];
}

/** Builds a device's driver through its kind (the device manager's factory). */
export function createDriver(device: DeviceConfig, log?: Logger): DeviceDriver {
  return kindOf<DeviceKind>(device.kind).createDriver(device, log);
}

export type { AttachedDevice, DeviceKindUnit, DoctorCheck } from './kind.js';
export { UnsupportedDeviceError } from './unsupported.js';
