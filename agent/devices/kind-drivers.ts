// The driver type of each device kind, for typed device access (`devices.require(id, kind)`). The map is
// filled by each kind's own file in agent/kinds/ (declaration merging), so adding a kind adds no line here.
import type { DeviceKind } from '../../config/schema.js';
import type { DeviceDriver } from '../../drivers/device.js';

// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- filled by declaration merging
export interface KindDrivers {}

/** The driver of a device of kind K. */
export type DriverOf<K extends DeviceKind> = K extends keyof KindDrivers
  ? KindDrivers[K] & DeviceDriver
  : DeviceDriver;
