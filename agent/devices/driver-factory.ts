// Maps a device's config (kind + transport) to its driver. Each kind has one entry; a kind's entry decides
// which transports it supports. A device whose driver cannot be built is reported in error, not fatal.
import type { DeviceConfig, DeviceKind } from '../../config/schema.js';
import type { DeviceDriver } from '../../drivers/device.js';
import { printerDriver } from './printer-driver-factory.js';
import { SimulatedCamera } from '../../drivers/camera/simulator.js';
import { SimulatedSealMachine } from '../../drivers/seal/simulator.js';
import { SimulatedPhotoPrinter } from '../../drivers/photo-printer/simulator.js';

export type DriverFactory = (device: DeviceConfig) => DeviceDriver;

/** The device's configuration asks for something this build cannot drive. */
export class UnsupportedDeviceError extends Error {
  override name = 'UnsupportedDeviceError';
}

function simulatedOnly(make: () => DeviceDriver): DriverFactory {
  return (device) => {
    if (device.transport.type === 'simulated') return make();
    throw new UnsupportedDeviceError(`a ${device.kind} over ${device.transport.type} is not supported yet`);
  };
}

const FACTORIES: Record<DeviceKind, DriverFactory> = {
  printer: printerDriver,
  camera: simulatedOnly(() => new SimulatedCamera()),
  seal: simulatedOnly(() => new SimulatedSealMachine()),
  'photo-printer': simulatedOnly(() => new SimulatedPhotoPrinter()),
};

export const createDriver: DriverFactory = (device) => FACTORIES[device.kind](device);
